"""A slug proposed from a title, spelt as German readers expect: "Rücksendung & Größe" → "ruecksendung-groesse".

static/verity/editor.js proposes the same slug while the title is typed; this is the fallback when
the slug is left empty (no JavaScript) and the proposal for a title passed in a link.
"""

from __future__ import annotations

import re
import unicodedata

# Letters NFKD does not decompose into a base letter, and the German umlauts spelt out.
TRANSLITERATION = {
    "ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ẞ": "SS",
    "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
    "þ": "th", "Þ": "Th",
}
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug_from_title(title: str, *, max_length: int = 120) -> str:
    """Lowercase a-z, 0-9 and single hyphens, at most `max_length` characters, cut at a hyphen;
    "" when the title has no letter or digit to build one from."""
    text = "".join(TRANSLITERATION.get(char, char) for char in title)
    text = "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))
    slug = _NOT_SLUG.sub("-", text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[: max_length + 1]
        slug = cut[: cut.rfind("-")] if "-" in cut else slug[:max_length]
    return slug.strip("-")
