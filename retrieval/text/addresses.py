"""Contact addresses in text: e-mail addresses (redaction masks them; change impact reads them as a channel's address)."""

from __future__ import annotations

import re

# bounded repetitions (a local part has at most 64 characters, a domain label 63): linear time on any input
EMAIL = re.compile(r"\b[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){0,5}\.[A-Za-z]{2,24}\b")
