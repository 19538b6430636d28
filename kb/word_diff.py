"""What changed between two versions, word by word, in their rendered text (the reviewer's diff).

Both bodies are rendered and sanitised (kb.rendering), split into their top-level blocks (paragraphs,
headings, lists, tables) and the blocks aligned; only blocks that differ are compared word by word, so a
changed price marks "6,82" and "4,99", not the paragraph around it. Each aligned pair is a row with three
views: the old side (removed words in <del>), the new side (added words in <ins>), and inline (both, in
the new version's structure). Tags come only from the sanitised renderings, and text is escaped again
when written, so the output is as safe as render_markdown's.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

from django.utils.safestring import SafeString, mark_safe

from kb.rendering import render_markdown

# A word: letters and digits, joined by inner punctuation ("6,82", "E-Mail", "z.B", "14:00"); or one sign ("€", ".").
_WORD = re.compile(r"(\w+(?:[.,:/'’\-]\w+)*|[^\w\s])(\s*)")
_VOID = frozenset({"area", "br", "col", "hr", "img", "input", "wbr"})
# Above this many token pairs a changed region is compared with difflib's junk heuristic (fast on a rewrite).
_EXACT_LIMIT = 4_000_000


@dataclass(frozen=True)
class _Token:
    kind: str  # "word" | "space" | "start" | "end" | "void"
    key: str  # what is compared: the word, or the tag as written
    html: str  # what is written: escaped text, or the sanitised tag
    tail: str = ""  # escaped whitespace after a word

    @property
    def is_content(self) -> bool:
        """Words, and images: what a reader sees appear or disappear."""
        return self.kind == "word" or (self.kind == "void" and self.key.startswith("<img"))


class _Tokenizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[_Token] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        raw = self.get_starttag_text() or f"<{tag}>"
        self.tokens.append(_Token("void" if tag in _VOID else "start", raw, raw))

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        raw = self.get_starttag_text() or f"<{tag}>"
        self.tokens.append(_Token("void", raw, raw))

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID:
            self.tokens.append(_Token("end", f"</{tag}>", f"</{tag}>"))

    def handle_data(self, data: str) -> None:
        stripped = data.lstrip()
        if len(stripped) < len(data):
            self.tokens.append(_Token("space", " ", escape(data[: len(data) - len(stripped)])))
        for match in _WORD.finditer(stripped):
            self.tokens.append(_Token("word", match.group(1), escape(match.group(1)), escape(match.group(2))))


def _tokens(html: str) -> list[_Token]:
    tokenizer = _Tokenizer()
    tokenizer.feed(html)
    tokenizer.close()
    return tokenizer.tokens


def _blocks(tokens: list[_Token]) -> list[list[_Token]]:
    """The top-level elements (a paragraph, a heading, a whole list or table), whitespace between them dropped."""
    blocks: list[list[_Token]] = []
    current: list[_Token] = []
    depth = 0
    for token in tokens:
        if depth == 0 and token.kind == "space":
            continue
        current.append(token)
        if token.kind == "start":
            depth += 1
        elif token.kind == "end":
            depth = max(depth - 1, 0)
        if depth == 0:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


class _Writer:
    """Writes tokens, wrapping runs of marked words in one <ins> or <del>; whitespace after a run stays outside it."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.open: str | None = None
        self.pending_space = ""

    def _close(self) -> None:
        if self.open:
            self.parts.append(f"</{self.open}>")
            self.open = None
        self.parts.append(self.pending_space)
        self.pending_space = ""

    def plain(self, token: _Token) -> None:
        self._close()
        self.parts.append(token.html + token.tail)

    def structure(self, token: _Token, *, changed: bool = False) -> None:
        """A tag of the side being written; a link or image that is new or changed gets a class saying so."""
        self._close()
        html = token.html
        if changed and token.kind in {"start", "void"} and re.match(r"<(a|img)\s", html):
            html = re.sub(r"^<(a|img)\s", r'<\1 class="verity-changed-target" ', html)
        self.parts.append(html)

    def marked(self, token: _Token, mark: str) -> None:
        if token.kind == "space":
            self.pending_space += token.html
            return
        if self.open != mark:
            if self.open and not self.pending_space:
                self.pending_space = " "  # removed and added words side by side stay apart
            self._close()
            self.parts.append(f'<{mark} class="verity-{mark}">')
            self.open = mark
        else:
            self.parts.append(self.pending_space)
        self.pending_space = token.tail
        self.parts.append(token.html)

    def gap(self) -> None:
        """Between words whose old tags are left out: keep them apart."""
        if not self.pending_space:
            self.pending_space = " "

    def html(self) -> SafeString:
        self._close()
        return mark_safe("".join(self.parts))  # noqa: S308 - sanitised tags and escaped text only


def _compare(old: list[_Token], new: list[_Token]) -> tuple[SafeString, SafeString, SafeString]:
    """(old side, new side, inline) of one changed region."""
    old_side, new_side, inline = _Writer(), _Writer(), _Writer()
    matcher = difflib.SequenceMatcher(
        None, [token.key for token in old], [token.key for token in new],
        autojunk=len(old) * len(new) > _EXACT_LIMIT,
    )
    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        if operation == "equal":
            for token in old[i1:i2]:
                old_side.plain(token)
            for token in new[j1:j2]:
                new_side.plain(token)
                inline.plain(token)
            continue
        for token in old[i1:i2]:
            if token.is_content or token.kind == "space":
                old_side.marked(token, "del")
                inline.marked(token, "del")
            else:
                old_side.structure(token)
                inline.gap()  # inline follows the new version's structure: the old tags are left out
        for token in new[j1:j2]:
            if token.is_content or token.kind == "space":
                new_side.marked(token, "ins")
                inline.marked(token, "ins")
            else:
                new_side.structure(token, changed=True)
                inline.structure(token, changed=True)
    return old_side.html(), new_side.html(), inline.html()


@dataclass(frozen=True)
class DiffRow:
    """One aligned pair of blocks: `same`, `changed`, `added` (only new) or `removed` (only old)."""

    kind: str
    old: SafeString
    new: SafeString
    inline: SafeString


def _joined(blocks: list[list[_Token]]) -> SafeString:
    writer = _Writer()
    for block in blocks:
        for token in block:
            writer.plain(token)
        writer.parts.append("\n")
    return writer.html()


def word_diff_html(old_html: str, new_html: str) -> list[DiffRow]:
    """The rows of two sanitised HTML renderings, unchanged blocks included (a reviewer reads the whole text)."""
    old_blocks, new_blocks = _blocks(_tokens(old_html)), _blocks(_tokens(new_html))
    matcher = difflib.SequenceMatcher(
        None, [_block_key(block) for block in old_blocks], [_block_key(block) for block in new_blocks], autojunk=False,
    )
    rows: list[DiffRow] = []
    for operation, i1, i2, j1, j2 in matcher.get_opcodes():
        if operation == "equal":
            for old_block, new_block in zip(old_blocks[i1:i2], new_blocks[j1:j2], strict=True):
                new = _joined([new_block])
                rows.append(DiffRow("same", _joined([old_block]), new, new))
            continue
        for old_group, new_group in _pair_blocks(old_blocks[i1:i2], new_blocks[j1:j2]):
            if not new_group:
                old_side = _compare(_flat(old_group), [])[0]
                rows.append(DiffRow("removed", old_side, mark_safe(""), old_side))  # noqa: S308 - empty
            elif not old_group:
                new_side = _compare([], _flat(new_group))[1]
                rows.append(DiffRow("added", mark_safe(""), new_side, new_side))  # noqa: S308 - empty
            else:
                rows.append(DiffRow("changed", *_compare(_flat(old_group), _flat(new_group))))
    return rows


def _block_key(block: list[_Token]) -> tuple[str, ...]:
    return tuple(token.key for token in block)


def _flat(blocks: list[list[_Token]]) -> list[_Token]:
    return [token for block in blocks for token in block]


def _element(block: list[_Token]) -> str:
    """The block's element name ("p", "ul", "h2"); "" for loose text."""
    first = block[0]
    return re.match(r"</?([a-zA-Z0-9]+)", first.key).group(1).lower() if first.kind in {"start", "void"} else ""


# Blocks of a changed region are paired when at least this similar (difflib's ratio of their words and tags).
_PAIR_SIMILARITY = 0.4
_PAIR_LIMIT = 400  # old x new blocks in one region above which the region is compared as one


def _pair_blocks(old: list[list[_Token]], new: list[list[_Token]]) -> list[tuple[list, list]]:
    """A changed region as (old blocks, new blocks) pairs in document order: similar blocks of the same
    element paired (an edited paragraph), the others alone (a removed list, an added paragraph)."""
    if not old or not new or len(old) * len(new) > _PAIR_LIMIT:
        return [(old, new)] if old and new else [([block], []) for block in old] + [([], [block]) for block in new]
    similarity = [[
        difflib.SequenceMatcher(None, _block_key(a), _block_key(b), autojunk=False).ratio() if _element(a) == _element(b) else 0.0
        for b in new] for a in old]
    # best[i][j]: the most similarity pairing old[:i] with new[:j] in order can gain
    best = [[0.0] * (len(new) + 1) for _ in range(len(old) + 1)]
    for i in range(1, len(old) + 1):
        for j in range(1, len(new) + 1):
            paired = best[i - 1][j - 1] + similarity[i - 1][j - 1] if similarity[i - 1][j - 1] >= _PAIR_SIMILARITY else -1.0
            best[i][j] = max(best[i - 1][j], best[i][j - 1], paired)
    pairs: list[tuple[list, list]] = []
    i, j = len(old), len(new)
    while i > 0 or j > 0:
        if i > 0 and j > 0 and similarity[i - 1][j - 1] >= _PAIR_SIMILARITY and \
                best[i][j] == best[i - 1][j - 1] + similarity[i - 1][j - 1]:
            pairs.append(([old[i - 1]], [new[j - 1]]))
            i, j = i - 1, j - 1
        elif j > 0 and (i == 0 or best[i][j] == best[i][j - 1]):
            pairs.append(([], [new[j - 1]]))
            j -= 1
        else:
            pairs.append(([old[i - 1]], []))
            i -= 1
    return pairs[::-1]


def word_diff(old_body: str | None, new_body: str) -> list[DiffRow]:
    """The word diff of two Markdown bodies as rendered; `old_body` None: all of `new_body` is new."""
    return word_diff_html(render_markdown(old_body) if old_body is not None else "", render_markdown(new_body))


def word_diff_text(old: str, new: str) -> SafeString:
    """Two plain texts (titles) inline, removed words in <del>, added ones in <ins>."""
    return _compare(_tokens(escape(old)), _tokens(escape(new)))[2]
