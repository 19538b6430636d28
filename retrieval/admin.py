"""Admin for guardrails (policies as data, audited), answer provenance, feedback, API keys and past tickets."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from governance.admin import ArticleAdmin as GovernanceArticleAdmin
from governance.admin import ReadOnlyAdmin
from governance.models import AuditEvent
from governance.services import audit_record
from kb.models import Article
from retrieval.answers.guardrails import guardrail_rule_delete, guardrail_rule_save
from retrieval.apikeys import apikey_create, apikey_revoke, apikey_rotate
from retrieval.models import (
    AnswerCitation,
    AnswerRecord,
    ApiKey,
    Feedback,
    GuardrailRule,
    IndexJob,
    Ticket,
    TicketImport,
    TicketSimulation,
    TranslationDraft,
)
from retrieval.translation.drafting import translation_draft
from verity.core.errors import ApplicationError


class GuardrailRuleForm(forms.ModelForm):
    class Meta:
        model = GuardrailRule
        fields = ("name", "kind", "phrases", "message", "audience", "space", "active")

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        lines = [line.strip() for line in (cleaned.get("phrases") or "").splitlines() if line.strip()]
        for number, line in enumerate(lines, start=1):
            is_regex = len(line) > 2 and line.startswith("/") and line.endswith("/")
            if is_regex or kind == GuardrailRule.Kind.REDACTION:
                body = line[1:-1] if is_regex else line
                try:
                    re.compile(body)
                except re.error as error:
                    self.add_error("phrases", _("Line %(number)s is not a valid regular expression: %(error)s.")
                                   % {"number": number, "error": error})
        if kind == GuardrailRule.Kind.REQUIRED_CLAUSE and not (cleaned.get("message") or "").strip():
            self.add_error("message", _("A required clause needs its text here."))
        if kind != GuardrailRule.Kind.REQUIRED_CLAUSE and not lines:
            self.add_error("phrases", _("Add at least one phrase or pattern."))
        return cleaned


@admin.register(GuardrailRule)
class GuardrailRuleAdmin(admin.ModelAdmin):
    form = GuardrailRuleForm
    list_display = ("name", "kind", "audience", "space", "active", "phrase_count", "updated_at")
    list_filter = ("kind", "audience", "active")
    search_fields = ("name", "phrases", "message")

    @admin.display(description=gettext_lazy("lines"))
    def phrase_count(self, rule: GuardrailRule) -> int:
        return len(rule.lines())

    def save_model(self, request, obj, form, change):
        guardrail_rule_save(actor=request.user, rule=obj, created=not change, changed=form.changed_data)

    def delete_model(self, request, obj):
        guardrail_rule_delete(actor=request.user, rule=obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


class CitationInline(admin.TabularInline):
    model = AnswerCitation
    extra = 0
    can_delete = False
    fields = ("n", "version", "quote")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class CitedVersionFilter(admin.SimpleListFilter):
    """"Which answers cited this version": reached from an article's version history."""

    title = gettext_lazy("cited version")
    parameter_name = "cited_version"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, _("version id %(id)s") % {"id": value})] if value else []

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(cited__version_id=int(self.value())).distinct()
        return queryset


class CitedArticleFilter(admin.SimpleListFilter):
    title = gettext_lazy("cited article")
    parameter_name = "cited_article"

    def lookups(self, request, model_admin):
        value = self.value()
        return [(value, _("article id %(id)s") % {"id": value})] if value else []

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(cited__version__article_id=int(self.value())).distinct()
        return queryset


class AnswerReasonFilter(admin.SimpleListFilter):
    """Refusal and hand-over reasons by their names (the stored codes are the API's)."""

    title = gettext_lazy("reason")
    parameter_name = "reason"

    def lookups(self, request, model_admin):
        codes = AnswerRecord.objects.exclude(reason="").values_list("reason", flat=True).distinct().order_by("reason")
        return [(code, str(AnswerRecord.REASON_LABELS.get(code, code))) for code in codes]

    def queryset(self, request, queryset):
        return queryset.filter(reason=self.value()) if self.value() else queryset


@admin.register(AnswerRecord)
class AnswerRecordAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "status", "reason_label", "audience", "question_short", "cited_versions", "latency_ms",
                    "feedback_summary")
    list_filter = ("status", "audience", AnswerReasonFilter, "simulated", CitedVersionFilter, CitedArticleFilter,
                   ("created_at", admin.DateFieldListFilter))
    search_fields = ("question", "answer")
    date_hierarchy = "created_at"
    inlines = [CitationInline]
    readonly_fields = ("id", "created_at", "question", "locale", "audience", "api_key", "user", "status", "reason_label",
                       "answer", "retrieved", "generator", "latency_ms", "simulated")
    exclude = ("citations", "reason")

    @admin.display(description=gettext_lazy("reason"), ordering="reason")
    def reason_label(self, record: AnswerRecord) -> str:
        return record.get_reason_display()

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            helpful=Count("feedback", filter=Q(feedback__helpful=True)),
            unhelpful=Count("feedback", filter=Q(feedback__helpful=False)),
        ).prefetch_related("cited__version__article")

    @admin.display(description=gettext_lazy("question"))
    def question_short(self, record: AnswerRecord) -> str:
        return record.question[:90]

    @admin.display(description=gettext_lazy("cited"))
    def cited_versions(self, record: AnswerRecord) -> str:
        return format_html_join(
            ", ", '<a href="{}">{} v{}</a>',
            ((reverse("admin:kb_article_change", args=[c.version.article_id]), c.version.article.slug, c.version.number)
             for c in record.cited.all()),
        )

    @admin.display(description=gettext_lazy("feedback"))
    def feedback_summary(self, record: AnswerRecord) -> str:
        return f"+{record.helpful} / -{record.unhelpful}" if record.helpful or record.unhelpful else ""


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "helpful", "reason", "comment", "answer_link")
    list_filter = ("helpful", "reason")

    @admin.display(description=gettext_lazy("answer"))
    def answer_link(self, feedback: Feedback) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:retrieval_answerrecord_change", args=[feedback.answer_id]),
                           feedback.answer.question[:60])


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, help_text=gettext_lazy("Who uses the key, e.g. “help center” or “chatbot”."))
    audience = forms.ChoiceField(label=gettext_lazy("Audience"), choices=Article.Audience.choices,
                                 help_text=gettext_lazy("What the key may see: public keys never see internal articles."))
    scopes = forms.MultipleChoiceField(label=gettext_lazy("Scopes"), choices=ApiKey.Scope.choices, required=False,
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text=gettext_lazy("Search and answers need no scope."))
    rate_limit_per_minute = forms.IntegerField(label=gettext_lazy("Requests per minute"), min_value=1, max_value=100000, initial=120)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "audience", "scopes", "rate_limit_per_minute", "created_at", "last_used_at", "revoked_at")
    list_filter = ("audience", ("revoked_at", admin.EmptyFieldListFilter))
    fields = ("name", "prefix", "audience", "scopes", "rate_limit_per_minute", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("name", "prefix", "audience", "scopes", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]
    change_list_template = "admin/retrieval/apikey/change_list.html"
    change_form_template = "admin/retrieval/apikey/change_form.html"

    def has_add_permission(self, request):
        return False  # created through create_view: the key is shown once, never stored in clear

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        own = [
            path("new/", self.admin_site.admin_view(self.create_view), name="retrieval_apikey_create"),
            path("<int:pk>/rotate/", self.admin_site.admin_view(self.rotate_view), name="retrieval_apikey_rotate"),
        ]
        return own + super().get_urls()

    def _secret(self, request, key: ApiKey, raw: str, title: str):
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, "key": key, "raw": raw}
        response = TemplateResponse(request, "admin/retrieval/apikey/secret.html", context)
        response["Cache-Control"] = "no-store"  # the key is shown once: no copy in any cache
        return response

    def create_view(self, request):
        if not request.user.has_perm("retrieval.add_apikey"):
            raise PermissionDenied
        form = ApiKeyCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    key, raw = apikey_create(name=form.cleaned_data["name"], audience=form.cleaned_data["audience"],
                                             scopes=form.cleaned_data["scopes"],
                                             rate_limit_per_minute=form.cleaned_data["rate_limit_per_minute"],
                                             created_by=request.user)
                    audit_record(event_type=AuditEvent.Type.APIKEY_CREATE, actor=request.user,
                                 target_label=f"api key: {key.name}",
                                 details={"audience": key.audience, "scopes": key.scopes})
            except ApplicationError as error:
                form.add_error("name" if error.code in {"name_required", "name_taken"} else None, error.message)
            else:
                return self._secret(request, key, raw, _("API key created"))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": _("Create an API key")}
        return TemplateResponse(request, "admin/retrieval/apikey/create.html", context)

    def rotate_view(self, request, pk: int):
        if not request.user.has_perm("retrieval.change_apikey"):
            raise PermissionDenied
        key = get_object_or_404(ApiKey, pk=pk)
        if request.method == "POST":
            try:
                with transaction.atomic():
                    key, raw = apikey_rotate(name=key.name)
                    audit_record(event_type=AuditEvent.Type.APIKEY_ROTATE, actor=request.user,
                                 target_label=f"api key: {key.name}")
            except ApplicationError as error:
                messages.error(request, error.message)
                return redirect("admin:retrieval_apikey_change", key.pk)
            return self._secret(request, key, raw, _("API key rotated"))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "key": key,
                   "title": _("Rotate the API key “%(name)s”?") % {"name": key.name}}
        return TemplateResponse(request, "admin/retrieval/apikey/rotate.html", context)

    @admin.action(description=gettext_lazy("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        for key in queryset:
            with transaction.atomic():
                apikey_revoke(name=key.name)
                audit_record(event_type=AuditEvent.Type.APIKEY_REVOKE, actor=request.user, target_label=f"api key: {key.name}")
        count = queryset.count()
        messages.success(request, ngettext("Revoked %(count)s key.", "Revoked %(count)s keys.", count) % {"count": count})


@admin.register(IndexJob)
class IndexJobAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "kind", "embedder_key", "progress", "sent_again", "status", "finished_at")

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, job: IndexJob) -> str:
        return f"{job.done}/{job.total}"

    @admin.display(description="batches sent again")
    def sent_again(self, job: IndexJob) -> int:
        """Batches lost with their worker and sent again (verity.core.batches)."""
        return job.batches.filter(dispatches__gt=1).count()


class TicketSimulationInline(admin.StackedInline):
    model = TicketSimulation
    can_delete = False
    fields = ("simulated_at", "audience", "status", "reason", "agreement", "similarity", "question", "answer",
              "citations", "differences", "generator")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    """Past tickets as stored: redacted; imported with `manage.py kb_tickets import FILE`."""

    list_display = ("external_id", "subject", "resolved_at", "tags", "locale", "last_simulation", "imported_by")
    list_filter = ("locale", "simulation__status", "simulation__agreement", ("resolved_at", admin.DateFieldListFilter))
    search_fields = ("external_id", "subject")
    date_hierarchy = "resolved_at"
    list_select_related = ("simulation", "imported_by")
    fields = ("external_id", "subject", "conversation", "tags", "locale", "resolved_at", "imported_by", "imported_at")
    readonly_fields = fields
    inlines = [TicketSimulationInline]

    @admin.display(description="conversation")
    def conversation(self, ticket: Ticket) -> str:
        return format_html_join(
            "", '<p><strong>{}</strong><br><span style="white-space:pre-wrap">{}</span></p>',
            ((Ticket.Sender(message["from"]).label, message["text"]) for message in ticket.messages),
        )

    @admin.display(description="last simulation")
    def last_simulation(self, ticket: Ticket) -> str:
        simulation = getattr(ticket, "simulation", None)
        if simulation is None:
            return "–"
        return f"{simulation.get_status_display()}{', ' + simulation.get_agreement_display().lower() if simulation.agreement else ''}"


@admin.register(TicketImport)
class TicketImportAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "file", "status", "total", "created", "updated", "unchanged", "error_short")
    list_filter = ("status",)
    fields = ("file", "sha256", "status", "total", "created", "updated", "unchanged", "redactions", "error", "started_by",
              "started_at", "finished_at")
    readonly_fields = fields

    @admin.display(description="error")
    def error_short(self, run: TicketImport) -> str:
        return run.error[:120]


# --- translations drafted by the model, on the article page ----------------------------------------


class TranslateForm(forms.Form):
    target_locale = forms.CharField(max_length=12)


admin.site.unregister(Article)


@admin.register(Article)
class ArticleAdmin(GovernanceArticleAdmin):
    """The article page of governance, plus "Übersetzung entwerfen" and the score of a drafted translation."""

    change_form_template = "admin/kb/article/change_form_translations.html"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:article_id>/translate/", wrap(require_POST(self.translate_view)), name="kb_article_translate"),
            path("<int:article_id>/translations/<int:draft_id>/", wrap(self.translation_status_view),
                 name="kb_article_translation_status"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        article = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if article is not None:
            extra_context.update(translation_context(request.user, article))
        return super().change_view(request, object_id, form_url, extra_context)

    def translate_view(self, request, article_id: int):
        article = self._article_for(request, article_id)
        back = redirect(reverse("admin:kb_article_change", args=[article.pk]) + "#translations")
        form = TranslateForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose the language to translate into."))
            return back
        try:
            with transaction.atomic():
                draft = translation_draft(article=article, target_locale=form.cleaned_data["target_locale"],
                                          actor=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
            return back
        messages.success(request, _("The %(locale)s translation is being drafted. It becomes a draft version for "
                                    "review; nothing is served before another person approves it.")
                         % {"locale": draft.target_locale})
        return back

    def translation_status_view(self, request, article_id: int, draft_id: int):
        article = self._article_for(request, article_id)
        draft = get_object_or_404(TranslationDraft, pk=draft_id, source=article)
        return JsonResponse(_draft_status(draft))


def _draft_status(draft: TranslationDraft) -> dict:
    return {"status": draft.status, "label": str(draft.get_status_display()), "done": draft.sections_done,
            "total": draft.sections_total, "score": draft.score, "error": draft.error,
            "progress": _("%(done)s of %(total)s sections") % {"done": draft.sections_done, "total": draft.sections_total}}


def translation_context(user, article: Article) -> dict:
    """What the article page shows about translations: the button, drafts under way, and a drafted version's score."""
    languages = [(code, name) for code, name in settings.LANGUAGES if code != article.locale]
    drafts = list(TranslationDraft.objects.filter(source=article).select_related("target", "version", "requested_by")[:5])
    pending = None
    if article.latest_version_id and article.latest_version_id != article.live_version_id:
        pending = (TranslationDraft.objects.filter(version_id=article.latest_version_id, status=TranslationDraft.Status.DONE)
                   .select_related("source", "source_version").first())
    return {
        "translation_languages": languages if not article.translation_of_id and article.live_version_id else [],
        "can_draft_translation": user.has_perm("kb.add_articleversion"),
        "translation_drafts": drafts,
        "translations": list(article.translations.select_related("live_version", "latest_version")),
        "pending_translation": pending,
        "pending_translation_sections": [
            {**span, "missing_count": len(span["missing"])} for span in (pending.spans if pending else [])
        ],
    }
