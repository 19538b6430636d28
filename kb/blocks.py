"""Content blocks: a fact or paragraph written once and used in many articles.

A block is an Article of kind `block` (kb.models.Article.Kind.BLOCK): versioned, owned, reviewed and
published through the same workflow and audit log as every article. An article version uses it
with `{{ block:slug }}` anywhere in its Markdown (inline, "kostet {{ block:sim-ersatz-preis }}", or on a
line of its own for a paragraph). Versions keep the reference, never a copy: wherever an article is
rendered or indexed, the reference is replaced by the block's *live* text (render_blocks).

The rules, in one place:
- a version may use only blocks that exist and are published; a block uses no other block;
- a public article may not use an internal block (refused when the version is saved, and when the
  article is made public); should a block become internal or be unpublished later, it renders as
  nothing where its audience or state does not allow it, never as its internal text;
- "the articles using a block" are the articles whose live or latest version references it
  (BlockReference rows written with each version).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kb.models import SLUG_PATTERN, Article, ArticleVersion, BlockReference

# `{{ block:slug }}`, spaces optional; whatever stands after "block:" is captured, so that a malformed
# slug is named in the error instead of being left in the text.
BLOCK_REFERENCE = re.compile(r"\{\{\s*block\s*:\s*([^{}\s]*)\s*\}\}")
_SLUG = re.compile(SLUG_PATTERN)


def referenced_slugs(body: str) -> list[str]:
    """The block slugs a text references, in order of first use, each once."""
    if "{{" not in body:
        return []
    return list(dict.fromkeys(match.group(1) for match in BLOCK_REFERENCE.finditer(body)))


def reference_problems(body: str, *, audience: str, is_block: bool = False) -> list[str]:
    """What is wrong with the block references of a text for an article of `audience`, one sentence
    each (in the active language) naming the block's slug; empty when every reference may be used."""
    slugs = referenced_slugs(body)
    if not slugs:
        return []
    if is_block:
        return [_("A content block cannot use another content block (“%(slug)s”): write its text into this "
                  "block, or use both blocks in the article.") % {"slug": slug} for slug in slugs]
    problems = []
    found = {article.slug: article for article in Article.objects.filter(slug__in=[s for s in slugs if _SLUG.match(s)])}
    for slug in slugs:
        block = found.get(slug)
        if not _SLUG.match(slug):
            problems.append(_("“{{ block:%(slug)s }}” does not name a content block: use its slug, e.g. "
                              "{{ block:sim-ersatz-preis }}.") % {"slug": slug})
        elif block is None:
            problems.append(_("There is no content block “%(slug)s”.") % {"slug": slug})
        elif not block.is_block:
            problems.append(_("“%(slug)s” is an article, not a content block.") % {"slug": slug})
        elif block.live_version_id is None:
            problems.append(_("The content block “%(slug)s” is not published: it can be used once it is approved.")
                            % {"slug": slug})
        elif audience == Article.Audience.PUBLIC and block.audience != Article.Audience.PUBLIC:
            problems.append(_("The content block “%(slug)s” is internal and cannot be used in a public article.")
                            % {"slug": slug})
    return problems


def visible_to(block: Article, audience: str) -> bool:
    """Whether an article of `audience` shows this block's live text (an internal article shows every block)."""
    return (
        block.is_block and block.live_version_id is not None
        and (audience == Article.Audience.INTERNAL or block.audience == Article.Audience.PUBLIC)
    )


def render_blocks(body: str, *, audience: str) -> str:
    """The text with every block reference replaced by the block's live text, as an article of
    `audience` shows it: a block it may not show (internal in a public article, unpublished, unknown)
    becomes nothing."""
    slugs = referenced_slugs(body)
    if not slugs:
        return body
    blocks = Article.objects.filter(slug__in=slugs, kind=Article.Kind.BLOCK).select_related("live_version")
    texts = {block.slug: block.live_version.body.strip() for block in blocks if visible_to(block, audience)}
    return BLOCK_REFERENCE.sub(lambda match: texts.get(match.group(1), ""), body)


def render_version(version: ArticleVersion) -> str:
    """A version's body as its article shows it today (with the blocks' live text)."""
    return render_blocks(version.body, audience=version.article.audience)


def blocks_of(version: ArticleVersion) -> list[Article]:
    """The blocks a version uses, by slug."""
    return list(Article.objects.filter(block_uses__version=version).select_related("live_version").order_by("slug"))


def articles_using(block: Article, *, live_only: bool = False) -> QuerySet[Article]:
    """The articles whose live version uses `block` (and, unless `live_only`, whose latest version does)."""
    uses = BlockReference.objects.filter(block=block)
    condition = Q(live_version__in=uses.values("version"))
    if not live_only:
        condition |= Q(latest_version__in=uses.values("version"))
    return Article.objects.filter(condition).exclude(pk=block.pk).order_by("slug")


@dataclass(frozen=True)
class BlockUse:
    """An article using a block, for the admin: does its live version use it, does its latest draft?"""

    article: Article
    live: bool
    latest: bool


def block_uses(block: Article) -> list[BlockUse]:
    used = set(BlockReference.objects.filter(block=block).values_list("version_id", flat=True))
    return [
        BlockUse(article, article.live_version_id in used, article.latest_version_id in used)
        for article in articles_using(block).select_related("space", "owner")
    ]


def references_record(version: ArticleVersion) -> None:
    """Write the version's references (when it is saved; versions never change)."""
    slugs = referenced_slugs(version.body)
    if slugs:
        BlockReference.objects.bulk_create([
            BlockReference(version=version, block=block)
            for block in Article.objects.filter(slug__in=slugs, kind=Article.Kind.BLOCK)
        ], ignore_conflicts=True)
