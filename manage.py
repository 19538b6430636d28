#!/usr/bin/env python
"""Django's command-line utility for Verity."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "verity.settings")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:  # a configuration to fix (e.g. no DJANGO_SECRET_KEY): the message says how
        sys.exit(f"Verity cannot start: {error}")


if __name__ == "__main__":
    main()
