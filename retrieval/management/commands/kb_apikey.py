"""`manage.py kb_apikey create NAME --audience public|internal [--scope changes]`, `list`, `revoke NAME`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from retrieval.apikeys import apikey_create, apikey_revoke
from retrieval.models import ApiKey
from verity.core.errors import ApplicationError


class Command(BaseCommand):
    help = "Create, list or revoke API keys. `create` prints the key alone on the last line."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key")
        create.add_argument("name")
        create.add_argument("--audience", required=True, choices=["public", "internal"])
        create.add_argument("--scope", action="append", default=[], choices=ApiKey.Scope.values, dest="scopes")
        create.add_argument("--rate-limit", type=int, default=120, help="requests per minute (default 120)")
        sub.add_parser("list", help="list keys")
        revoke = sub.add_parser("revoke", help="revoke a key")
        revoke.add_argument("name")

    def handle(self, *args, action: str, **options) -> None:
        try:
            if action == "create":
                key, raw = apikey_create(
                    name=options["name"], audience=options["audience"], scopes=options["scopes"],
                    rate_limit_per_minute=options["rate_limit"],
                )
                self.stdout.write(f"Created API key '{key.name}' (audience {key.audience}, scopes {', '.join(key.scopes) or 'none'}). "
                                  "It is shown only now:")
                self.stdout.write(raw)
            elif action == "list":
                for key in ApiKey.objects.all():
                    state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
                    self.stdout.write(f"{key.name}\t{key.prefix}…\t{key.audience}\t{','.join(key.scopes) or '-'}\t{state}")
            else:
                key = apikey_revoke(name=options["name"])
                self.stdout.write(f"Revoked API key '{key.name}'.")
        except ApplicationError as error:
            raise CommandError(error.message) from error
