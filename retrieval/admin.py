"""Admin for guardrails (policies as data, audited), answer provenance, feedback and API keys."""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from governance.admin import ReadOnlyAdmin
from governance.models import AuditEvent
from governance.services import audit_record
from retrieval.answers.guardrails import guardrail_rule_delete, guardrail_rule_save
from retrieval.apikeys import apikey_revoke
from retrieval.models import AnswerCitation, AnswerRecord, ApiKey, Feedback, GuardrailRule, IndexJob


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
    list_display = ("created_at", "helpful", "comment", "answer_link")
    list_filter = ("helpful",)

    @admin.display(description=gettext_lazy("answer"))
    def answer_link(self, feedback: Feedback) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:retrieval_answerrecord_change", args=[feedback.answer_id]),
                           feedback.answer.question[:60])


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "audience", "scopes", "rate_limit_per_minute", "created_at", "last_used_at", "revoked_at")
    list_filter = ("audience", ("revoked_at", admin.EmptyFieldListFilter))
    fields = ("name", "prefix", "audience", "scopes", "rate_limit_per_minute", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("name", "prefix", "audience", "scopes", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # keys are created with `manage.py kb_apikey create`, which shows the key once

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request, queryset):
        for key in queryset:
            with transaction.atomic():
                apikey_revoke(name=key.name)
                audit_record(event_type=AuditEvent.Type.APIKEY_REVOKE, actor=request.user, target_label=key.name)
        count = queryset.count()
        messages.success(request, ngettext("Revoked %(count)s key.", "Revoked %(count)s keys.", count) % {"count": count})


@admin.register(IndexJob)
class IndexJobAdmin(ReadOnlyAdmin):
    list_display = ("started_at", "kind", "embedder_key", "progress", "status", "finished_at")

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, job: IndexJob) -> str:
        return f"{job.done}/{job.total}"
