"""The agent desktop: search as you type, a cited answer draft, the source article, problem reports.

Server-rendered pages for signed-in users (support agents and knowledge staff). Agents see public
AND internal knowledge, so every search and answer here uses the "internal" audience. The views
only parse the request, call retrieval/governance services and selectors, and render; the small
read helpers below are the desktop's own selectors.

Fragments (results, answer, feedback) are plain HTML that desktop.js swaps in; without
JavaScript the same URLs answer with whole pages (results via GET, answer and feedback via POST).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from governance import selectors, services
from governance.models import AuditEvent, Flag
from kb.blocks import render_version
from kb.models import Article, ArticleVersion, Space
from kb.rendering import render_markdown
from retrieval.answers.feedback import feedback_create
from retrieval.answers.insights import GAP_REASONS
from retrieval.answers.pipeline import AnswerResult, answer_question
from retrieval.answers.streaming import answer_events
from retrieval.models import Feedback
from retrieval.search.hybrid import ArticleResult, search
from retrieval.search.query import SearchQuery, detect_locale
from retrieval.text.snippets import Segment
from retrieval.text.tokens import QUESTION_FILLERS, STOP_WORDS, tokens
from verity.core.errors import NotFoundError

AUDIENCES = ("public", "internal")  # every desktop user is an agent or knowledge staff
MAX_QUERY_CHARS = 500
RESULT_LIMIT = 10
FRAGMENT_HEADER = "HTTP_X_VERITY_FRAGMENT"

STATE_LABELS = {
    "current": gettext_lazy("current"),
    "review_due": gettext_lazy("review due"),
    "flagged": gettext_lazy("flagged"),
    "out_of_sync": gettext_lazy("out of sync"),
}
AUDIENCE_LABELS = {"public": gettext_lazy("public"), "internal": gettext_lazy("internal")}
KIND_LABELS = {
    Article.Kind.ARTICLE: gettext_lazy("Help article"),
    Article.Kind.MACRO: gettext_lazy("Macro"),
    Article.Kind.RUNBOOK: gettext_lazy("Runbook"),
    Article.Kind.POLICY: gettext_lazy("Policy"),
}
FLAG_LABELS = {
    Flag.Reason.REVIEW_DUE: gettext_lazy("review due"),
    Flag.Reason.EXPIRED: gettext_lazy("expired"),
    Flag.Reason.CHANGE_EVENT: gettext_lazy("affected by a change"),
    Flag.Reason.TRANSLATION_DRIFT: gettext_lazy("translation out of sync"),
    Flag.Reason.AGENT_REPORT: gettext_lazy("reported by an agent"),
    Flag.Reason.FEEDBACK: gettext_lazy("negative feedback"),
    Flag.Reason.CONTRADICTION: gettext_lazy("contradicts another article"),
    selectors.UNCONFIRMED_REPORT: gettext_lazy("reported by an agent, not yet confirmed"),
}
REPORTED_LABEL = gettext_lazy("reported")


# --- forms -----------------------------------------------------------------------------------


class FeedbackForm(forms.Form):
    """Thumbs up, or thumbs down with a reason (the owner sees it); the gap behind a refusal is reported the
    same way, with the reason "knowledge missing" and what the customer needed."""

    query_id = forms.UUIDField()
    helpful = forms.TypedChoiceField(choices=[("1", "yes"), ("0", "no")], coerce=lambda value: value == "1")
    reason = forms.ChoiceField(choices=Feedback.Reason.choices, required=False)
    comment = forms.CharField(max_length=1000, required=False, strip=True)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("helpful") is False and not data.get("reason"):
            self.add_error("reason", _("Please choose what is wrong with the draft."))
        return data


DOWN_REASONS = [reason for reason in Feedback.Reason if reason != Feedback.Reason.MISSING]


class ReportForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("What is wrong or missing?"), max_length=2000, strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "required": True}),
    )
    version = forms.IntegerField(min_value=1, widget=forms.HiddenInput)


# --- the desktop's read helpers ----------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    key: str
    label: str


@dataclass(frozen=True)
class ResultRow:
    """A search result with its labels in the user's language."""

    result: ArticleResult
    state_label: str
    audience_label: str
    kind_label: str
    reported_label: str = ""
    snippet_html: SafeString = SafeString("")


def highlighted(segments: list[Segment]) -> SafeString:
    """A snippet as HTML: every segment escaped, the query's words in <mark>."""
    return mark_safe("".join(  # noqa: S308 - every piece escaped here
        f"<mark>{escape(segment.text)}</mark>" if segment.match else str(escape(segment.text)) for segment in segments
    ))


def result_rows(results: list[ArticleResult]) -> list[ResultRow]:
    return [
        ResultRow(
            result, str(STATE_LABELS.get(result.state, result.state)),
            str(AUDIENCE_LABELS.get(result.article.audience, result.article.audience)),
            str(KIND_LABELS.get(result.article.kind, result.article.kind)),
            str(REPORTED_LABEL) if result.reported else "",
            highlighted(result.snippet_segments) if result.snippet_segments else escape(result.snippet),
        )
        for result in results
    ]


@dataclass(frozen=True)
class ArticlePage:
    article: Article
    version: ArticleVersion
    is_live: bool


def _was_published(version: ArticleVersion) -> bool:
    """Was this version ever the live one? (Publishing and importing write append-only audit events.)"""
    return AuditEvent.objects.filter(
        version=version, event_type__in=[AuditEvent.Type.VERSION_PUBLISH, AuditEvent.Type.ARTICLE_IMPORT]
    ).exists()


def article_page(slug: str, version_param: str | None) -> ArticlePage:
    """The live version, or an exact version that was live once; never a draft (404)."""
    article = get_object_or_404(
        Article.objects.select_related("owner", "space", "live_version", "translation_of")
        .exclude(kind=Article.Kind.BLOCK), slug=slug,  # a content block is read inside the articles using it
    )
    live = article.live_version
    if not version_param:
        if live is None:
            raise Http404("This article has no published version.")
        return ArticlePage(article, live, True)
    try:
        number = int(version_param)
    except ValueError as error:
        raise Http404("No such version.") from error
    if live is not None and number == live.number:
        return ArticlePage(article, live, True)
    version = get_object_or_404(ArticleVersion.objects.select_related("author"), article=article, number=number)
    if not _was_published(version):
        raise Http404("This version was never published.")
    return ArticlePage(article, version, False)


def article_badges(article: Article, *, now: dt.datetime | None = None) -> tuple[list[Badge], list[str]]:
    """The agent-facing state (as in search results), validity and workflow badges, and open flag reasons."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    reasons = selectors.open_flag_reasons([article.pk]).get(article.pk, set())
    state = selectors.article_state(article, reasons, now=now)
    badges = [Badge(state, str(STATE_LABELS[state]))]
    if selectors.UNCONFIRMED_REPORT in reasons:
        badges.append(Badge("reported", str(REPORTED_LABEL)))
    if article.is_expired(today):
        badges.append(Badge("expired", _("expired on %(date)s") % {"date": date_format(article.valid_until, "SHORT_DATE_FORMAT")}))
    elif article.is_not_yet_valid(today):
        badges.append(Badge("not-yet-valid", _("valid from %(date)s") % {"date": date_format(article.valid_from, "SHORT_DATE_FORMAT")}))
    if selectors.open_review(article) is not None:
        badges.append(Badge("in-review", _("new version in review")))
    elif (scheduled := selectors.scheduled_publication(article)) is not None:
        badges.append(Badge("scheduled", _("new version from %(when)s") % {
            "when": date_format(timezone.localtime(scheduled.go_live_at), "SHORT_DATETIME_FORMAT")}))
    return badges, sorted(str(FLAG_LABELS.get(reason, reason)) for reason in reasons)


def translations_of(article: Article) -> list[Article]:
    """The article's other languages that are published (source and sibling translations)."""
    root = article.translation_of_id or article.pk
    return list(
        Article.objects.filter(Q(pk=root) | Q(translation_of_id=root), live_version__isnull=False)
        .exclude(pk=article.pk).order_by("locale")
    )


# --- request helpers ---------------------------------------------------------------------------


def _query(params: QueryDict) -> str:
    return " ".join(params.get("q", "").split())[:MAX_QUERY_CHARS]


def _is_fragment(request: HttpRequest) -> bool:
    return request.META.get(FRAGMENT_HEADER) == "1"


def _locale_for(request: HttpRequest, text: str) -> str:
    return detect_locale(text, default=getattr(request, "LANGUAGE_CODE", "de") or "de")


def _search(request: HttpRequest, q: str) -> list[ResultRow] | None:
    """Result rows for the query; None when there is no query (nothing searched)."""
    if not q:
        return None
    return result_rows(search(SearchQuery(text=q, audiences=AUDIENCES, locale=_locale_for(request, q), limit=RESULT_LIMIT)))


MARKER = re.compile(r"\[(\d+)\]")
MARKER_WITH_SPACE = re.compile(r"[ \t]*\[\d+\]")
MAX_SEARCH_TERMS = 5


def answer_paragraphs(text: str) -> list[SafeString]:
    """The draft as escaped paragraphs, each [n] marker a link to its citation."""
    label = _("source")

    def link(match: re.Match[str]) -> str:
        n = match.group(1)
        return f'<a class="marker" href="#citation-{n}" aria-label="{escape(label)} {n}">[{n}]</a>'

    paragraphs = [part for part in re.split(r"\n\s*\n", text.strip()) if part.strip()]
    return [mark_safe(MARKER.sub(link, str(escape(part))).replace("\n", "<br>")) for part in paragraphs]  # noqa: S308 - escaped above


def reply_text(text: str) -> str:
    """The draft as the customer gets it: without [n] markers, paragraphs kept."""
    paragraphs = [" ".join(MARKER_WITH_SPACE.sub("", part).split(" ")).strip() for part in re.split(r"\n\s*\n", text.strip())]
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph)


def reply_frame(result: AnswerResult) -> tuple[str, str]:
    """Greeting and closing of the space of the first cited article, in the draft's language."""
    if not result.citations:
        return "", ""
    space = Space.objects.filter(pk=result.citations[0].space_id).first()
    return space.reply_frame(result.locale) if space else ("", "")


def search_terms(question: str) -> list[str]:
    """Words of the question worth searching for: no stop words, no question fillers, each once."""
    seen: dict[str, str] = {}
    for word in re.findall(r"[^\W_]+(?:[-'’][^\W_]+)*", question):
        lowered = word.lower()
        if len(word) < 3 and not word.isdigit():
            continue
        if lowered in QUESTION_FILLERS or lowered in STOP_WORDS["de"] or lowered in STOP_WORDS["en"] or not tokens(word):
            continue
        seen.setdefault(lowered, word)
    return list(seen.values())[:MAX_SEARCH_TERMS]


def _answer_context(result: AnswerResult | None) -> dict:
    if result is None:
        return {"answer": None}
    context: dict = {"answer": result, "feedback_reasons": DOWN_REASONS}
    if result.status == "answered":
        reply = reply_text(result.answer or "")
        greeting, closing = reply_frame(result)
        context.update({
            "answer_paragraphs": answer_paragraphs(result.answer or ""), "reply": reply,
            "greeting": greeting, "closing": closing,
            "framed_reply": "\n\n".join(part for part in (greeting, reply, closing) if part),
        })
    elif result.status == "refused":
        terms = search_terms(result.question)
        context.update({
            "search_terms": terms, "all_terms": " ".join(terms),
            "gap_recorded": (result.reason or "") in GAP_REASONS,
        })
    return context


def _result_context(q: str, results: list[ResultRow] | None) -> dict:
    return {"q": q, "results": results}


# --- views -------------------------------------------------------------------------------------


@login_required
@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    """The desktop: search box, results (server-rendered when ?q= is given) and the answer panel."""
    q = _query(request.GET)
    return render(request, "desktop/search.html", _result_context(q, _search(request, q)))


@login_required
@require_GET
def search_results(request: HttpRequest) -> HttpResponse:
    """The results fragment, fetched as the agent types."""
    q = _query(request.GET)
    if not _is_fragment(request):
        return HttpResponseRedirect(f"{reverse('desktop:search')}?{request.GET.urlencode()}")
    return render(request, "desktop/_results.html", _result_context(q, _search(request, q)))


@login_required
@require_POST
def answer(request: HttpRequest) -> HttpResponse:
    """A cited answer draft for the question (a fragment; the whole page without JavaScript)."""
    q = _query(request.POST)
    result = None
    if q:
        result = answer_question(question=q, audience="internal", user=request.user, locale=_locale_for(request, q))
    if _is_fragment(request):
        return render(request, "desktop/_answer.html", {"q": q, **_answer_context(result)})
    return render(request, "desktop/search.html", {**_result_context(q, _search(request, q)), **_answer_context(result)})


@login_required
@require_POST
def answer_stream(request: HttpRequest) -> HttpResponse:
    """The answer draft as server-sent events: each verified sentence as it is written, then the whole
    rendered draft ("final": {"html": ...}); desktop.js shows the sentences while the model writes."""
    q = _query(request.POST)
    if not q:
        return HttpResponseBadRequest("q is required")

    def final(result: AnswerResult) -> dict:
        return {"html": render_to_string("desktop/_answer.html", {"q": q, **_answer_context(result)}, request=request)}

    response = StreamingHttpResponse(
        answer_events(final=final, question=q, audience="internal", user=request.user, locale=_locale_for(request, q)),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@login_required
@require_POST
def feedback(request: HttpRequest) -> HttpResponse:
    """Thumbs up or down on an answer draft."""
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        problems = " ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(escape(_("Invalid feedback: %(problems)s") % {"problems": problems}), status=400)
    data = form.cleaned_data
    try:
        feedback = feedback_create(query_id=data["query_id"], helpful=data["helpful"], reason=data["reason"],
                                   comment=data["comment"], user=request.user)
    except NotFoundError as error:
        raise Http404(error.message) from error
    if _is_fragment(request):
        return render(request, "desktop/_feedback_done.html", {"feedback": feedback})
    messages.success(request, _("Thank you for your feedback."))
    return HttpResponseRedirect(reverse("desktop:search"))


def _render_article(request: HttpRequest, page: ArticlePage, form: ReportForm, status: int = 200) -> HttpResponse:
    badges, open_flags = article_badges(page.article)
    return render(request, "desktop/article.html", {
        "page": page, "article": page.article, "version": page.version,
        "body": render_markdown(render_version(page.version)), "badges": badges, "open_flags": open_flags,
        "translations": translations_of(page.article), "form": form,
        "audience_label": AUDIENCE_LABELS.get(page.article.audience, page.article.audience),
        "kind_label": KIND_LABELS.get(page.article.kind, page.article.kind),
    }, status=status)


@login_required
@require_GET
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The source article: the live version, or `?version=N` for an exact version that was live once."""
    page = article_page(slug, request.GET.get("version"))
    return _render_article(request, page, ReportForm(initial={"version": page.version.number}))


@login_required
@require_POST
def article_report(request: HttpRequest, slug: str) -> HttpResponse:
    """"Report a problem": an agent-report flag for the article's owner."""
    form = ReportForm(request.POST)
    page = article_page(slug, request.POST.get("version"))
    if not form.is_valid():
        return _render_article(request, page, form, status=400)
    services.flag_raise(
        article=page.article, reason=Flag.Reason.AGENT_REPORT, summary=form.cleaned_data["text"],
        evidence=str(page.version.number), raised_by=request.user,
    )
    owner = page.article.owner
    messages.success(request, _("Thank you: your report was sent to %(owner)s, the owner of this article.")
                     % {"owner": owner.get_full_name() or owner.get_username()})
    url = reverse("desktop:article", args=[page.article.slug])
    return HttpResponseRedirect(url if page.is_live else f"{url}?version={page.version.number}")


@login_required
@require_GET
def article_link(request: HttpRequest, slug: str) -> HttpResponse:
    """`/articles/<slug>/`, the URL the API gives for a result: the desktop's article view."""
    url = reverse("desktop:article", args=[slug])
    return HttpResponseRedirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)
