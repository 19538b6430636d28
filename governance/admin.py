"""The knowledge owners' admin: articles with state badges, versions, diffs and workflow buttons.

Every write goes through governance.services, so four-eyes, permissions, optimistic
concurrency and the audit log hold here exactly as in the API and the commands.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.postgres.forms import SimpleArrayField
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from governance import selectors, services
from governance.models import (
    AuditEvent,
    ChangeEvent,
    ConnectorSource,
    Flag,
    ImportRun,
    ImportRunFile,
    Publication,
    Review,
    ReviewApproval,
    SettingsChange,
    Suggestion,
)
from kb import blocks
from kb.models import Article, ArticleVersion, Space, content_hash
from kb.rendering import markdown_problem, render_markdown
from kb.slugs import slug_from_title
from kb.word_diff import word_diff, word_diff_text
from verity.core.errors import ApplicationError
from verity.core.i18n import written_in

SETTINGS_FIELDS = (
    "owner", "space", "locale", "kind", "audience", "review_interval_days",
    "valid_from", "valid_until", "tags", "translation_of",
)


def _local_url(request: HttpRequest, url: str | None) -> str | None:
    """`url` when it is a page of this site (a form's "next"), else None: never a redirect elsewhere."""
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return url
    return None


# --- list filters -----------------------------------------------------------------------------


class MineFilter(admin.SimpleListFilter):
    title = gettext_lazy("owner")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", _("Mine"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(owner=request.user)
        return queryset


class StateFilter(admin.SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("awaiting_me", _("Awaiting my approval")),
            ("in_review", _("In review")),
            ("draft", _("Draft pending")),
            ("due", _("Review due")),
            ("expired", _("Expired")),
            ("not_yet_valid", _("Not yet valid")),
            ("flagged", _("Flagged")),
            ("reported", gettext_lazy("Reports to confirm")),
            ("scheduled", gettext_lazy("Scheduled to go live")),
            ("withdrawn", gettext_lazy("Withdrawn (emergency unpublish)")),
            ("unpublished", _("Never published")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        today = timezone.localdate(now)
        value = self.value()
        if value == "awaiting_me":
            return queryset.filter(pk__in=selectors.articles_awaiting_approval(request.user).values("pk"))
        if value == "in_review":
            return queryset.filter(has_open_review=True)
        if value == "draft":
            return queryset.filter(has_open_review=False, latest_version__isnull=False).exclude(latest_version=F("live_version"))
        if value == "due":
            return queryset.filter(live_version__isnull=False, review_due_at__lte=now)
        if value == "expired":
            return queryset.filter(valid_until__lte=today)
        if value == "not_yet_valid":
            return queryset.filter(valid_from__gt=today)
        if value == "flagged":
            return queryset.filter(open_flag_count__gt=0)
        if value == "reported":
            return queryset.filter(open_report_count__gt=0)
        if value == "scheduled":
            return queryset.filter(scheduled_go_live_at__isnull=False)
        if value == "withdrawn":
            return queryset.filter(live_version__isnull=True, unpublished_at__isnull=False)
        if value == "unpublished":
            return queryset.filter(live_version__isnull=True)
        return queryset


# --- the article form -----------------------------------------------------------------------


def _first_version_note(locale: str | None) -> str:
    """The change note of a first version its author left empty, in the article's language."""
    with written_in(locale):
        return _("First version")


class MarkdownEditor(forms.Textarea):
    """The body's textarea, turned by static/verity/editor.js into EasyMDE (static/vendor/easymde/) with a
    toolbar and a side-by-side preview rendered by the server (`ArticleAdmin.preview_view`). Without
    JavaScript it stays a plain textarea."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__({"rows": 22, "class": "vLargeTextField verity-markdown", **(attrs or {})})

    @property
    def media(self) -> forms.Media:
        return forms.Media(
            css={"all": ("vendor/easymde/easymde.min.css", "verity/editor.css")},
            js=("vendor/easymde/easymde.min.js", "verity/editor.js"),
        )

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].update({
            "data-preview-url": reverse("admin:kb_article_preview"),
            "data-labels": json.dumps(editor_labels()),
        })
        return context


def editor_labels() -> dict[str, str]:
    """The editor's toolbar tooltips and messages, in the page's language."""
    return {
        "bold": _("Bold"), "italic": _("Italic"), "heading": _("Heading"), "quote": _("Quote"),
        "unordered-list": _("Bulleted list"), "ordered-list": _("Numbered list"), "link": _("Link"),
        "table": _("Table"), "horizontal-rule": _("Horizontal line"), "code": _("Code"),
        "preview": _("Preview"), "side-by-side": _("Text and preview side by side"),
        "fullscreen": _("Full screen"), "undo": _("Undo"), "redo": _("Redo"),
        "preview_failed": _("The preview could not be rendered; your text is unaffected."),
        "empty": _("The preview shows here what will be published."),
        "column": _("Column"), "text": _("Text"),
    }


def _language_choices(current: str | None = None) -> list[tuple[str, str]]:
    """The configured languages, and an article's own language if it is another (imported, say)."""
    choices = [(code, name) for code, name in settings.LANGUAGES]
    if current and current not in dict(choices):
        choices.append((current, current))
    return choices


class ArticleAdminForm(forms.ModelForm):
    content_title = forms.CharField(label=gettext_lazy("Title"), max_length=300,
                                    widget=forms.TextInput(attrs={"class": "vTextField verity-wide-input"}))
    content_body = forms.CharField(
        label=gettext_lazy("Body (Markdown)"),
        help_text=gettext_lazy("A content block is used with {{ block:slug }}: the article shows its live text."),
        widget=MarkdownEditor,
    )
    change_note = forms.CharField(label=gettext_lazy("Change note"), max_length=500, required=False,
                                  widget=forms.TextInput(attrs={"class": "vTextField verity-wide-input"}),
                                  help_text=gettext_lazy("What changed and why: shown in the history and to the reviewer."))
    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    tags = SimpleArrayField(forms.CharField(max_length=60), required=False, label=gettext_lazy("Tags"),
                            help_text=gettext_lazy("Comma-separated."))

    class Meta:
        model = Article
        fields = ("slug", *SETTINGS_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        passed = kwargs.get("initial") or {}
        latest = self.instance.latest_version if self.instance.pk else None
        if self.instance.pk:  # the text is in the article's language: browsers spell-check it, screen readers read it so
            for name in ("content_title", "content_body", "change_note"):
                self.fields[name].widget.attrs["lang"] = self.instance.locale
        if "locale" in self.fields:
            self.fields["locale"] = forms.ChoiceField(
                label=self.fields["locale"].label, choices=_language_choices(self.instance.locale or None),
                help_text=gettext_lazy("The language the article is written in."),
            )
        if not self.instance.pk and "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = _("Part of the article's address; proposed from the title, umlauts "
                                              "spelt out (ae, oe, ue, ss). Change it if you like: once you have, "
                                              "the title no longer changes it.")
            self.fields["slug"].widget.attrs["data-slug-from"] = "id_content_title"
        if not self.instance.pk and {"audience", "space"} <= set(self.fields):
            self.fields["audience"].required = False
            self.fields["audience"].choices = [("", _("the space's default audience")), *Article.Audience.choices]
            self.fields["audience"].help_text = _("Empty: the default audience of the chosen space.")
            if "audience" not in passed:  # not the model's default: the space's, once a space is chosen
                space = Space.objects.filter(pk=passed["space"]).first() if str(passed.get("space", "")).isdigit() else None
                self.initial["audience"] = space.default_audience if space else ""
            space_select = getattr(self.fields["space"].widget, "widget", self.fields["space"].widget)  # the admin wraps it
            space_select.attrs["data-default-audiences"] = json.dumps(
                dict(Space.objects.values_list("pk", "default_audience")))
        if latest is not None:
            self.fields["content_title"].initial = latest.title
            self.fields["content_body"].initial = latest.body
            self.fields["base_version"].initial = latest.number

    def clean_content_body(self) -> str:
        body = self.cleaned_data["content_body"]
        latest = self.instance.latest_version if self.instance.pk else None
        stored = body.strip() + "\n"
        if latest is not None and latest.body == stored:
            return body  # unchanged: a body stored before the limits must not block editing the settings
        if problem := markdown_problem(stored):
            raise forms.ValidationError(_("The body cannot be saved: %(problem)s.") % {"problem": problem},
                                        code="body_over_limits")
        return body

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.instance.pk:
            self._propose_settings(cleaned)
        body = cleaned.get("content_body")
        kind = cleaned.get("kind") or self.instance.kind
        if body is not None and (not self.instance.pk or self.content_changed()):
            audience = cleaned.get("audience") or self.instance.audience
            problems = blocks.reference_problems(body, audience=audience, is_block=kind == Article.Kind.BLOCK)
            if problems:
                self.add_error("content_body", forms.ValidationError(" ".join(problems), code="block_reference"))
        if self.instance.pk and "kind" in self.changed_data and (kind == Article.Kind.BLOCK) != self.instance.is_block:
            self.add_error("kind", forms.ValidationError(
                _("An article cannot become a content block or stop being one: create a new article or block."),
                code="block_kind_fixed"))
        if self.instance.pk and self.content_changed():
            latest = Article.objects.get(pk=self.instance.pk).latest_version
            if cleaned.get("base_version") != latest.number:
                raise forms.ValidationError(
                    _("Version %(latest)s was saved by %(author)s at %(time)s while you were editing version "
                      "%(base)s. Your text was NOT saved and nothing was overwritten: copy your changes, reload the "
                      "page and apply them to the current version.") % {
                        "latest": latest.number, "author": latest.author, "base": cleaned.get("base_version"),
                        "time": f"{timezone.localtime(latest.created_at):%Y-%m-%d %H:%M}",
                    },
                    code="concurrent_edit",
                )
        return cleaned

    def _propose_settings(self, cleaned: dict[str, Any]) -> None:
        """A new article's slug from its title and its audience from its space, when left empty
        (editor.js fills both in the browser; this is the same proposal without JavaScript)."""
        if "slug" in self.fields and not cleaned.get("slug") and "slug" not in self._errors:
            proposed = slug_from_title(cleaned.get("content_title", ""))
            if not proposed:
                self.add_error("slug", _("Give a slug: the title has no letters or digits to propose one from."))
            else:
                cleaned["slug"] = _free_slug(proposed)
        if "audience" in self.fields and not cleaned.get("audience") and cleaned.get("space"):
            cleaned["audience"] = cleaned["space"].default_audience

    def content_changed(self) -> bool:
        if not {"content_title", "content_body"} & set(self.changed_data):
            return False
        latest = self.instance.latest_version if self.instance.pk else None
        if latest is None or not hasattr(self, "cleaned_data"):
            return True
        # the form strips the body's trailing newline: an unchanged text must not count as an edit
        title, body = self.cleaned_data.get("content_title", ""), self.cleaned_data.get("content_body", "")
        return content_hash(title, body) != latest.content_hash


def _free_slug(proposed: str) -> str:
    """`proposed`, or `proposed-2`, `-3`, … when another article has it already."""
    taken = set(Article.objects.filter(slug__startswith=proposed).values_list("slug", flat=True))
    slug, number = proposed, 1
    while slug in taken:
        number += 1
        suffix = f"-{number}"
        slug = proposed[: 120 - len(suffix)].rstrip("-") + suffix
    return slug


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    form = ArticleAdminForm
    change_form_template = "admin/kb/article/change_form.html"
    list_display = ("slug", "title", "locale", "kind", "audience", "space", "owner", "state_badges", "review_due_at")
    list_filter = (MineFilter, StateFilter, "space", "locale", "audience", "kind")
    # the live text too: people search for what an article says, not only what it is called
    search_fields = ("slug", "title", "tags", "live_version__title", "live_version__body")
    list_select_related = ("space", "owner", "live_version", "latest_version")
    list_per_page = 50
    readonly_fields = ("live_version", "latest_version", "last_verified_at", "review_due_at", "metadata")
    autocomplete_fields = ("translation_of",)
    actions = None

    def get_fieldsets(self, request, obj=None):
        # in the order people fill them: the title (and the slug proposed from it), the text, then the settings
        content = ("content_title", "content_body", "change_note", "base_version")
        if obj is None:
            content = ("content_title", "slug", "content_body", "change_note")
        settings_fields = (("space", "audience"), ("locale", "kind"), "owner", "review_interval_days",
                           ("valid_from", "valid_until"), "tags", "translation_of")
        if obj is not None and not self.has_change_permission(request, obj):
            content = ()  # read-only visitors see the rendered live version and the history instead
        fieldsets = [
            (_("Content (saving a change creates a new draft version)") if obj is not None else _("Content"),
             {"fields": content}),
            (_("Governance"), {"fields": settings_fields}),
        ]
        if obj is not None:
            fieldsets.append((_("Status"), {"fields": self.readonly_fields}))
        return [fs for fs in fieldsets if fs[1]["fields"]]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.readonly_fields)
        if obj is not None:
            readonly.append("slug")
        return readonly

    def get_queryset(self, request):
        return selectors.articles_with_state()

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A new article: owned by its author, in the page's language, the slug proposed from a title
        passed in the link (insights' "Create article"), the only space if there is one."""
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("owner", request.user.pk)
        language = get_language()
        initial.setdefault("locale", language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE)
        if initial.get("content_title") and not initial.get("slug"):
            initial["slug"] = slug_from_title(str(initial["content_title"]))
        if "space" not in initial:
            spaces = list(Space.objects.all()[:2])
            if len(spaces) == 1:
                initial["space"] = spaces[0].pk
        return initial

    @admin.display(description=gettext_lazy("state"))
    def state_badges(self, article: Article) -> str:
        return format_html_join(
            " ", '<span class="verity-badge verity-badge-{}">{}</span>',
            ((badge.key, badge.label) for badge in selectors.article_badges(article)),
        )

    def has_delete_permission(self, request, obj=None):
        return False  # articles are retired with valid_until, never deleted: the history must stay

    # Saving goes through the services; the admin's own save is never used.
    def save_model(self, request, obj, form, change):
        cleaned = form.cleaned_data
        if not change:
            created = services.article_create(
                actor=request.user, slug=cleaned["slug"], title=cleaned["content_title"], body=cleaned["content_body"],
                change_note=cleaned.get("change_note") or _first_version_note(cleaned.get("locale")),
                **{field: cleaned.get(field) for field in SETTINGS_FIELDS if field != "tags"},
                tags=cleaned.get("tags") or [],
            )
            obj.pk = created.pk
            obj.refresh_from_db()
            return
        changed_settings = {field: cleaned.get(field) for field in SETTINGS_FIELDS if field in form.changed_data}
        if field_tags := changed_settings.get("tags"):
            changed_settings["tags"] = list(field_tags)
        current = Article.objects.get(pk=obj.pk)  # `obj` already carries the form's values
        gated = services.settings_needing_review(article=current, changes=changed_settings)
        immediate = {field: value for field, value in changed_settings.items() if field not in gated}
        if immediate:
            services.article_update_settings(actor=request.user, article=current, **immediate)
        if gated:
            services.settings_change_propose(actor=request.user, article=current,
                                             **{field: changed_settings[field] for field in gated})
        if form.content_changed():
            services.version_create(
                actor=request.user, article=obj, title=cleaned["content_title"], body=cleaned["content_body"],
                change_note=cleaned.get("change_note", ""), base_version=cleaned["base_version"],
            )
        if gated:  # said last: a refused step above rolls everything back and says "Nothing was saved"
            messages.warning(request, _("The change of %(settings)s is proposed and awaits approval by another "
                                        "approver; until then the article is served as before.")
                             % {"settings": services.setting_names(gated)})

    def save_related(self, request, form, formsets, change):
        pass  # no related objects are edited on this page

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as error:
            # A race the form could not see (e.g. a concurrent save): the transaction rolled back.
            messages.error(request, _("Nothing was saved: %(reason)s") % {"reason": error.message})
            if object_id:
                return HttpResponseRedirect(reverse("admin:kb_article_change", args=[object_id]))
            return HttpResponseRedirect(reverse("admin:kb_article_changelist"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        article = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if article is not None:
            extra_context.update(self._workflow_context(request, article))
        return super().change_view(request, object_id, form_url, extra_context)

    def _review_context(self, request: HttpRequest, article: Article, review: Review | None) -> dict[str, Any]:
        """What the review's panel offers this person; the services check every rule again on POST."""
        user = request.user
        can_approve = selectors.can_decide_review(user, review)
        last_step = bool(can_approve and len(review.approvals.all()) + 1 >= review.required_approvals)
        can_assign = selectors.can_assign_reviewer(user, review)
        return {
            "open_review": review,
            "can_approve": can_approve,
            "is_own_version": bool(review and review.version.author_id == user.pk),
            "can_withdraw": bool(review and (review.submitted_by_id == user.pk or user.has_perm("kb.change_space"))),
            "can_assign": can_assign,
            "assignable": list(selectors.review_deciders(review)) if can_assign else [],
            "go_live_choices": selectors.go_live_choices(article) if last_step else [],
            "go_live_min": f"{timezone.localtime():%Y-%m-%dT%H:%M}",
        }

    def _workflow_context(self, request: HttpRequest, article: Article) -> dict[str, Any]:
        review = selectors.open_review(article)
        scheduled = selectors.scheduled_publication(article)
        user = request.user
        services.notifications_mark_read(user=user, article_id=article.pk)  # seen: no longer new, nor e-mailed
        return {
            **self._review_context(request, article, review),
            "sent_back": selectors.changes_requested_review(article),
            "article": article,
            "badges": selectors.article_badges(article),
            "history": selectors.version_history(article),
            "audit_events": [(event, selectors.audit_details(event)) for event in selectors.article_audit_events(article)],
            "scheduled": scheduled,
            "scheduled_approvers": ", ".join(str(approval.approver) for approval in scheduled.approvals.all()) if scheduled else "",
            "unpublished": selectors.last_unpublish(article),
            "can_cancel_schedule": bool(scheduled and selectors.is_knowledge_admin(user)),
            "can_unpublish": bool(article.live_version_id and selectors.is_knowledge_admin(user)),
            "can_submit": bool(
                user.has_perm("kb.add_articleversion") and review is None and scheduled is None
                and article.has_unpublished_version
            ),
            "can_verify": bool(article.live_version_id and (article.owner_id == user.pk or user.has_perm("kb.verify_article"))),
            "can_rollback": user.has_perm("kb.add_articleversion") and review is None,
            "rollback_numbers": set(
                Publication.objects.filter(article=article).values_list("version__number", flat=True)
            ) | ({article.live_version.number} if article.live_version_id else set()),
            "live_preview": render_markdown(blocks.render_version(article.live_version)) if article.live_version_id else None,
            **self._blocks_context(article),
            **self._settings_review_context(request, article),
        }

    def _blocks_context(self, article: Article) -> dict[str, Any]:
        """On a block: the articles using it; on an article: the blocks its live and latest versions use."""
        if article.is_block:
            return {"block_uses": blocks.block_uses(article), "block_reference": f"{{{{ block:{article.slug} }}}}"}
        live = blocks.blocks_of(article.live_version) if article.live_version_id else []
        latest = blocks.blocks_of(article.latest_version) if article.latest_version_id else []
        live_ids, latest_ids = {b.pk for b in live}, {b.pk for b in latest}
        used = {b.pk: b for b in [*live, *latest]}
        return {"blocks_used": [
            blocks.BlockUse(block, block.pk in live_ids, block.pk in latest_ids)
            for block in sorted(used.values(), key=lambda b: b.slug)
        ]}

    def _settings_review_context(self, request: HttpRequest, article: Article) -> dict[str, Any]:
        change = selectors.pending_settings_change(article)
        user = request.user
        return {
            "pending_settings": change,
            "pending_settings_rows": selectors.settings_change_rows(change) if change else [],
            "can_approve_settings": bool(
                change and user.has_perm("kb.approve_version") and change.proposed_by_id != user.pk
                and change.first_approver_id != user.pk
            ),
            "is_own_settings_change": bool(change and change.proposed_by_id == user.pk),
            "can_withdraw_settings": bool(change and (change.proposed_by_id == user.pk or user.has_perm("kb.change_space"))),
        }

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("preview/", wrap(require_POST(self.preview_view)), name="kb_article_preview"),
            path("<int:article_id>/workflow/<str:action>/", wrap(require_POST(self.workflow_view)), name="kb_article_workflow"),
            path("<int:article_id>/versions/<int:number>/", wrap(self.version_view), name="kb_article_version"),
            path("<int:article_id>/diff/", wrap(self.diff_view), name="kb_article_diff"),
            *super().get_urls(),
        ]

    def _article_for(self, request: HttpRequest, article_id: int) -> Article:
        article = get_object_or_404(Article.objects.select_related("live_version", "latest_version"), pk=article_id)
        if not self.has_view_or_change_permission(request, article):
            raise PermissionDenied
        return article

    def workflow_view(self, request: HttpRequest, article_id: int, action: str) -> HttpResponse:
        article = self._article_for(request, article_id)
        article_page = reverse("admin:kb_article_change", args=[article.pk])
        back = HttpResponseRedirect(_local_url(request, request.POST.get("back")) or article_page)  # after a refusal
        onward = HttpResponseRedirect(_local_url(request, request.POST.get("next")) or back.url)  # after success
        review = selectors.open_review(article)
        user = request.user
        comment = request.POST.get("comment", "")
        try:
            with transaction.atomic():
                if action == "submit":
                    services.version_submit(actor=user, version=article.latest_version)
                    done = _("Version %(number)s submitted for review.") % {"number": article.latest_version.number}
                elif action in {"approve", "request_changes", "withdraw", "assign"}:
                    if review is None or str(review.pk) != request.POST.get("review"):
                        raise ApplicationError(_("This review is no longer open: someone decided it in the meantime."))
                    if action == "approve":
                        review = services.version_approve(actor=user, review=review, comment=comment,
                                                          go_live_at=self._go_live_at(request, article))
                        done = (_("Approved and published.") if review.status == Review.Status.APPROVED
                                else _("Approved: version %(number)s goes live on %(when)s; until then the article "
                                       "is served as it is.") % {"number": review.version.number,
                                                                  "when": services.local_minute(review.go_live_at)}
                                if review.status == Review.Status.SCHEDULED
                                else _("Approved step 1: a second approver must approve before it is published."))
                    elif action == "request_changes":
                        services.version_request_changes(actor=user, review=review, comment=comment)
                        done = _("Changes requested: the version went back to its author with your comment.")
                    elif action == "assign":
                        assignee = self._assignee(request)
                        services.review_assign(actor=user, review=review, assignee=assignee)
                        done = (_("%(person)s is asked to review version %(number)s and was notified.") % {
                            "person": assignee.get_full_name() or assignee.get_username(), "number": review.version.number}
                            if assignee else _("The review is no longer assigned to anyone in particular."))
                    else:
                        services.review_withdraw(actor=user, review=review)
                        done = _("Withdrawn from review: the version is a draft again.")
                elif action in {"approve_settings", "reject_settings", "withdraw_settings"}:
                    change = selectors.pending_settings_change(article)
                    if change is None or str(change.pk) != request.POST.get("settings_change"):
                        raise ApplicationError(
                            _("This settings change is no longer pending: someone decided it in the meantime."))
                    if action == "approve_settings":
                        change = services.settings_change_approve(actor=user, change=change, comment=comment)
                        done = (_("Settings change approved and applied.") if change.status == SettingsChange.Status.APPROVED
                                else _("Approved step 1: a second approver must approve before the settings change is applied."))
                    elif action == "reject_settings":
                        services.settings_change_reject(actor=user, change=change, comment=comment)
                        done = _("Settings change rejected: the article keeps its settings.")
                    else:
                        services.settings_change_withdraw(actor=user, change=change)
                        done = _("Settings change withdrawn.")
                elif action == "cancel_schedule":
                    scheduled = selectors.scheduled_publication(article)
                    if scheduled is None or str(scheduled.pk) != request.POST.get("review"):
                        raise ApplicationError(_("This publication is no longer scheduled: it went live or was cancelled "
                                                 "in the meantime."))
                    services.publication_cancel(actor=user, review=scheduled, reason=comment)
                    done = _("Scheduled publication of version %(number)s cancelled; it is a draft again.") % {
                        "number": scheduled.version.number}
                elif action == "unpublish":
                    withdrawn = article.live_version
                    services.article_unpublish(actor=user, article=article, reason=request.POST.get("reason", ""))
                    done = _("Version %(number)s was withdrawn: search and answers no longer serve this article. "
                             "Submit a version for review to publish it again.") % {"number": withdrawn.number}
                elif action == "verify":
                    services.article_verify(actor=user, article=article, note=comment)
                    done = _("Verified as still correct: the next review is due in %(days)s days.") % {
                        "days": article.effective_review_interval_days}
                elif action == "rollback":
                    number = int(request.POST.get("version", "0"))
                    target = get_object_or_404(ArticleVersion, article=article, number=number)
                    version = services.version_rollback(
                        actor=user, article=article, to_version=target, base_version=int(request.POST.get("base_version", "0"))
                    )
                    done = _("Version %(new)s restores version %(old)s: submit it for review to publish it.") % {
                        "new": version.number, "old": number}
                else:
                    raise Http404(_("Unknown workflow action"))
        except ApplicationError as error:
            messages.error(request, error.message)
            return back
        except ValueError:
            messages.error(request, _("The form was incomplete: a version number was missing or not a number."))
            return back
        messages.success(request, done)
        return onward

    @staticmethod
    def _assignee(request: HttpRequest):
        """The person chosen in the assign form (empty: nobody in particular)."""
        chosen = request.POST.get("assignee", "").strip()
        if not chosen:
            return None
        person = get_user_model().objects.filter(pk=int(chosen)).first() if chosen.isdigit() else None
        if person is None:
            raise ApplicationError(_("That person no longer exists; choose again."), code="assignee_unknown")
        return person

    @staticmethod
    def _go_live_at(request: HttpRequest, article: Article) -> dt.datetime | None:
        """The go-live moment the approver chose: None (now), one of the offered dates, or a date and time."""
        choice = request.POST.get("go_live", "now")
        if choice != "at" and request.POST.get("go_live_at", "").strip():
            raise ApplicationError(_("You entered a go-live date and time but did not choose it: choose “at this date "
                                     "and time”, or clear the date. Nothing was approved."), code="go_live_ambiguous")
        if choice == "now":
            return None
        if choice == "at":
            try:
                moment = dt.datetime.fromisoformat(request.POST.get("go_live_at", "").strip())
            except ValueError:
                raise ApplicationError(_("Give the go-live date and time, e.g. 2027-01-01 08:00."),
                                       code="go_live_invalid") from None
            return timezone.make_aware(moment) if timezone.is_naive(moment) else moment
        for option in selectors.go_live_choices(article):
            if option.key == choice:
                return option.at
        raise ApplicationError(_("That go-live date is no longer on offer; choose again."), code="go_live_invalid")

    def preview_view(self, request: HttpRequest) -> JsonResponse:
        """The editor's live preview: a body rendered exactly as it would be published (content blocks'
        live text, Markdown, sanitising) for the audience and kind chosen in the form, for those who may
        write articles. A body the save would refuse gets the save's message instead; block references
        the save would refuse are named above the rendering."""
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            return JsonResponse({"error": _("You may not write articles.")}, status=403)
        body = request.POST.get("body", "")
        stored = body.strip() + "\n"
        if problem := markdown_problem(stored):
            return JsonResponse({"error": _("The body cannot be saved: %(problem)s.") % {"problem": problem}},
                                status=400)
        audience = request.POST.get("audience", "")
        if audience not in Article.Audience.values:
            space = request.POST.get("space", "")
            audience = (Space.objects.filter(pk=space).values_list("default_audience", flat=True).first()
                        if space.isdigit() else None) or Article.Audience.INTERNAL
        is_block = request.POST.get("kind") == Article.Kind.BLOCK
        return JsonResponse({
            "html": str(render_markdown(blocks.render_blocks(stored, audience=audience))),
            "problems": blocks.reference_problems(stored, audience=audience, is_block=is_block),
        })

    def version_view(self, request: HttpRequest, article_id: int, number: int) -> HttpResponse:
        article = self._article_for(request, article_id)
        version = get_object_or_404(ArticleVersion.objects.select_related("author"), article=article, number=number)
        return TemplateResponse(request, "admin/kb/article/version.html", {
            **self.admin_site.each_context(request),
            "opts": self.model._meta, "article": article, "version": version,
            "rendered": render_markdown(blocks.render_blocks(version.body, audience=article.audience)),
            "title": _("%(slug)s: version %(number)s") % {"slug": article.slug, "number": number},
        })

    def diff_view(self, request: HttpRequest, article_id: int) -> HttpResponse:
        """Two versions as rendered text, changed words marked, inline or side by side; for the version in
        review, the review's panel with Approve / Request changes (the same forms and services as the article page)."""
        article = self._article_for(request, article_id)
        versions = {v.number: v for v in article.versions.select_related("author")}
        try:
            new = versions[int(request.GET.get("to", ""))]
            chosen_from = request.GET.get("from", "")
            old = versions[int(chosen_from)] if chosen_from not in ("", "0") else self._compared_with(article, new, versions)
        except (KeyError, ValueError):
            messages.error(request, _("Choose two existing versions to compare."))
            return HttpResponseRedirect(reverse("admin:kb_article_change", args=[article.pk]))
        layout = "side" if request.GET.get("view") == "side" else "inline"
        rows = word_diff(old.body if old else None, new.body)
        review = selectors.open_review(article)
        if review is not None and review.version_id != new.pk:
            review = None  # the panel belongs to the version in review only
        here = request.get_full_path()
        query = {"from": old.number if old else 0, "to": new.number}
        return TemplateResponse(request, "admin/kb/article/diff.html", {
            **self.admin_site.each_context(request),
            "opts": self.model._meta, "article": article, "old": old, "new": new,
            "title_diff": word_diff_text(old.title, new.title) if old and old.title != new.title else None,
            "rows": rows, "numbers": sorted(versions, reverse=True), "layout": layout,
            "counts": {kind: sum(row.kind == kind for row in rows) for kind in ("changed", "added", "removed")},
            "inline_url": "?" + urlencode({**query, "view": "inline"}), "side_url": "?" + urlencode({**query, "view": "side"}),
            **self._review_context(request, article, review),
            "return_to": here, "after_decision": reverse("admin:inbox"),
            **self._settings_review_context(request, article),
            "title": (_("%(slug)s: version %(old)s → %(new)s") % {"slug": article.slug, "old": old.number, "new": new.number}
                      if old else _("%(slug)s: version %(number)s, all new") % {"slug": article.slug, "number": new.number}),
        })

    @staticmethod
    def _compared_with(article: Article, new: ArticleVersion, versions: dict[int, ArticleVersion]) -> ArticleVersion | None:
        """What a version is compared with when no "from" is chosen: the live version, else the one before it."""
        if article.live_version_id and article.live_version_id != new.pk:
            return versions.get(article.live_version.number)
        earlier = [number for number in versions if number < new.number]
        return versions[max(earlier)] if earlier else None


@admin.register(Space)
class SpaceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "default_review_interval_days", "requires_extra_approval", "article_count")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    @admin.display(description=gettext_lazy("articles"))
    def article_count(self, space: Space) -> int:
        return space.articles.count()

    def save_model(self, request, obj, form, change):
        services.space_save(actor=request.user, space=obj)

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_label", "event_type", "article_link", "version_number", "details_short")
    list_filter = ("event_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("target_label", "actor_label")
    date_hierarchy = "created_at"
    list_select_related = ("version", "article")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        article_id = request.GET.get("article")
        return queryset.filter(article_id=article_id) if article_id and article_id.isdigit() else queryset

    def lookup_allowed(self, lookup, value, request=None):
        return lookup == "article" or super().lookup_allowed(lookup, value, request)

    @admin.display(description=gettext_lazy("article"))
    def article_link(self, event: AuditEvent) -> str:
        if event.article_id and Article.objects.filter(pk=event.article_id).exists():
            return format_html('<a href="{}">{}</a>', reverse("admin:kb_article_change", args=[event.article_id]), event.target_label)
        return event.target_label

    @admin.display(description=gettext_lazy("version"))
    def version_number(self, event: AuditEvent) -> str:
        return f"v{event.version.number}" if event.version_id and event.version else ""

    @admin.display(description=gettext_lazy("details"))
    def details_short(self, event: AuditEvent) -> str:
        """Each detail shortened; what someone wrote marked with its article's language."""
        language = event.article.locale if event.article_id and event.article else ""
        return format_html_join(
            ", ", '{}: <span{}>{}</span>',
            ((detail.label, format_html(' lang="{}"', language) if detail.prose and language else "",
              detail.value if len(detail.value) <= 100 else detail.value[:99] + "…")
             for detail in selectors.audit_details(event)),
        )


class ImportRunFileInline(admin.TabularInline):
    model = ImportRunFile
    fields = ("path", "slug", "outcome", "version", "error_key", "error", "note", "finished_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _run_progress(run: ImportRun) -> str:
    return f"{run.files.count()}/{run.total}"


def _run_outcomes(run: ImportRun) -> str:
    counts = dict(run.files.order_by().values_list("outcome").annotate(count=Count("pk")).values_list("outcome", "count"))
    return ", ".join(f"{counts[outcome]} {label.split(':')[0].lower()}" for outcome, label in ImportRunFile.Outcome.choices
                     if counts.get(outcome))


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    """`kb_import` and `kb_connect` runs: progress while workers import, then what happened to each file or page."""

    list_display = ("started_at", "folder", "source", "started_by", "progress", "failed", "sent_again", "status", "finished_at")
    list_filter = ("status", "source__kind", "source")
    list_select_related = ("source", "started_by")
    fields = ("folder", "source", "started_by", "status", "error", "started_at", "finished_at")
    readonly_fields = fields
    inlines = [ImportRunFileInline]

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, run: ImportRun) -> str:
        return _run_progress(run)

    @admin.display(description=gettext_lazy("failed"))
    def failed(self, run: ImportRun) -> int:
        return run.files.filter(outcome=ImportRunFile.Outcome.FAILED).count()

    @admin.display(description="batches sent again")
    def sent_again(self, run: ImportRun) -> int:
        """Batches lost with their worker and sent again (verity.core.batches)."""
        return run.batches.filter(dispatches__gt=1).count()


class SourceRunInline(admin.TabularInline):
    """A source's runs, newest first, each with its progress and outcome."""

    model = ImportRun
    fk_name = "source"
    fields = ("run", "started_at", "started_by", "progress", "outcomes", "status", "finished_at")
    readonly_fields = fields
    ordering = ("-started_at",)
    extra = 0
    can_delete = False
    verbose_name = "run"
    verbose_name_plural = "runs"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="run")
    def run(self, run: ImportRun) -> str:
        return format_html('<a href="{}">#{}</a>', reverse("admin:governance_importrun_change", args=[run.pk]), run.pk)

    @admin.display(description="progress")
    def progress(self, run: ImportRun) -> str:
        return _run_progress(run)

    @admin.display(description="outcome")
    def outcomes(self, run: ImportRun) -> str:
        return _run_outcomes(run)


@admin.register(ConnectorSource)
class ConnectorSourceAdmin(ReadOnlyAdmin):
    """Connected sources (`kb_connect`): one page per source, with its runs and their progress."""

    list_display = ("name", "kind", "space", "page_count", "last_run")
    list_filter = ("kind", "space")
    list_select_related = ("space",)
    fields = ("kind", "name", "space", "location", "created_at", "page_count", "deleted_at_source")
    readonly_fields = fields
    inlines = [SourceRunInline]

    @admin.display(description="pages")
    def page_count(self, source: ConnectorSource) -> int:
        return source.links.count()

    @admin.display(description="deleted at the source (flagged)")
    def deleted_at_source(self, source: ConnectorSource) -> int:
        return source.links.filter(deleted_at__isnull=False).count()

    @admin.display(description="last run")
    def last_run(self, source: ConnectorSource) -> str:
        run = source.runs.order_by("-started_at").first()
        if run is None:
            return "—"
        return format_html('<a href="{}">{} · {} · {}</a>', reverse("admin:governance_importrun_change", args=[run.pk]),
                           timezone.localtime(run.started_at).strftime("%Y-%m-%d %H:%M"), run.get_status_display(),
                           _run_progress(run))


class ApprovalInline(admin.TabularInline):
    model = ReviewApproval
    extra = 0
    can_delete = False
    fields = ("step", "approver", "comment", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class AwaitingMeFilter(admin.SimpleListFilter):
    title = gettext_lazy("for me")
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [("me", _("Awaiting my approval"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(
                status=Review.Status.IN_REVIEW,
                article__in=selectors.articles_awaiting_approval(request.user),
            )
        return queryset


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ("article_link", "version_number", "status", "submitted_by", "submitted_at", "approvals_given", "decided_at",
                    "goes_live")
    list_filter = (AwaitingMeFilter, "status", "article__space")
    search_fields = ("article__slug", "article__title")
    list_select_related = ("article", "version", "submitted_by")
    inlines = [ApprovalInline]

    @admin.display(description=gettext_lazy("article"))
    def article_link(self, review: Review) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:kb_article_change", args=[review.article_id]), review.article.slug)

    @admin.display(description=gettext_lazy("version"))
    def version_number(self, review: Review) -> str:
        return f"v{review.version.number}"

    @admin.display(description=gettext_lazy("approvals"))
    def approvals_given(self, review: Review) -> str:
        return f"{review.approvals.count()}/{review.required_approvals}"

    @admin.display(description=gettext_lazy("goes live"), ordering="go_live_at")
    def goes_live(self, review: Review) -> str:
        if review.go_live_at is None:
            return ""
        when = services.local_minute(review.go_live_at)
        if review.status == Review.Status.SCHEDULED:
            return _("goes live on %(when)s") % {"when": when}
        return when


@admin.register(SettingsChange)
class SettingsChangeAdmin(ReadOnlyAdmin):
    """Proposed settings changes; they are decided on the article's page."""

    list_display = ("article_link", "settings", "status", "proposed_by", "proposed_at", "decided_by", "decided_at")
    list_filter = ("status", "article__space")
    search_fields = ("article__slug",)
    list_select_related = ("article", "proposed_by", "decided_by")

    @admin.display(description=gettext_lazy("article"))
    def article_link(self, change: SettingsChange) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:kb_article_change", args=[change.article_id]), change.article.slug)

    @admin.display(description=gettext_lazy("settings"))
    def settings(self, change: SettingsChange) -> str:
        return services.setting_names(change.proposed)


class FlagMineFilter(admin.SimpleListFilter):
    title = gettext_lazy("owner")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("1", _("My inbox"))]

    def queryset(self, request, queryset):
        # their own flags, and for knowledge admins those of owners who cannot log in
        return queryset.filter(selectors.flags_inbox_q(request.user)) if self.value() == "1" else queryset


class FlagCloseForm(forms.Form):
    """The reason asked for once when several flags are resolved or dismissed together."""

    note = forms.CharField(
        label=gettext_lazy("Reason (required, kept in the audit log of each flag)"), max_length=2000, strip=True,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
    )


@admin.register(Flag)
class FlagAdmin(ReadOnlyAdmin):
    list_display = ("article_link", "reason_label", "state", "owner_label", "due_at", "summary", "change_link", "other_article")
    list_filter = (FlagMineFilter, "state", "reason", "article__space")
    search_fields = ("article__slug", "summary", "evidence")
    list_select_related = ("article", "owner", "change_event", "related_article")
    change_form_template = "admin/governance/flag/change_form.html"
    readonly_fields = ("article", "reason", "state", "owner", "due_at", "summary", "evidence", "change_event", "score",
                       "flagged_version", "raised_by", "created_at", "closed_at", "closed_by", "resolution_note",
                       "resolved_by_version", "other_article", "follows_link", "confirmed_at", "confirmed_by")
    exclude = ("related_article", "follows")  # shown as other_article and follows_link, with what they mean
    actions = ["dismiss_selected", "resolve_selected"]

    @admin.display(description=gettext_lazy("article"))
    def article_link(self, flag: Flag) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:kb_article_change", args=[flag.article_id]), flag.article.slug)

    @admin.display(description=gettext_lazy("reason"), ordering="reason")
    def reason_label(self, flag: Flag) -> str:
        if flag.is_unconfirmed_report:
            return _("%(reason)s (to confirm)") % {"reason": flag.get_reason_display()}
        return flag.get_reason_display()

    @admin.display(description=gettext_lazy("owner"), ordering="owner__username")
    def owner_label(self, flag: Flag) -> str:
        if selectors.can_log_in(flag.owner):
            return str(flag.owner)
        return format_html('{} <span class="verity-note">{}</span>', flag.owner, _("(cannot log in: knowledge admins)"))

    @admin.display(description=gettext_lazy("other article"))
    def other_article(self, flag: Flag) -> str:
        if not flag.related_article_id:
            return self.get_empty_value_display()
        return format_html('<a href="{}">{}</a> ({})', reverse("admin:kb_article_change", args=[flag.related_article_id]),
                           flag.related_article.slug, flag.related_article.title)

    @admin.display(description=gettext_lazy("follows"))
    def follows_link(self, flag: Flag) -> str:
        if not flag.follows_id:
            return _("opened on its own") if flag.change_event_id else self.get_empty_value_display()
        source = flag.follows
        return format_html('{} <a href="{}">{}</a>', _("the flag of its source"),
                           reverse("admin:governance_flag_change", args=[source.pk]), source.article.slug)

    # bulk triage: one reason, asked on an intermediate page, audited per flag
    @admin.action(description=gettext_lazy("Dismiss selected flags…"))
    def dismiss_selected(self, request: HttpRequest, queryset) -> HttpResponse | None:
        return self._close_selected(request, queryset, Flag.State.DISMISSED)

    @admin.action(description=gettext_lazy("Resolve selected flags…"))
    def resolve_selected(self, request: HttpRequest, queryset) -> HttpResponse | None:
        return self._close_selected(request, queryset, Flag.State.RESOLVED)

    def _close_selected(self, request: HttpRequest, queryset, state: str) -> HttpResponse | None:
        flags = list(queryset.select_related("article", "owner").order_by("article__slug", "pk"))
        open_flags = [flag for flag in flags if flag.state == Flag.State.OPEN]
        form = FlagCloseForm(request.POST if request.POST.get("confirm") == "yes" else None)
        if form.is_bound and form.is_valid():
            try:
                closed = services.flags_close(actor=request.user, flags=open_flags, state=state, note=form.cleaned_data["note"])
            except ApplicationError as error:
                messages.error(request, error.message)
                return None
            followed = Flag.objects.filter(follows__in=closed, state=state).count()
            if state == Flag.State.DISMISSED:
                message = ngettext("%(count)d flag dismissed; the reason is in its audit log.",
                                   "%(count)d flags dismissed; the reason is in the audit log of each.", len(closed))
            else:
                message = ngettext("%(count)d flag resolved; the reason is in its audit log.",
                                   "%(count)d flags resolved; the reason is in the audit log of each.", len(closed))
            message %= {"count": len(closed)}
            if followed:
                message += " " + ngettext("%(count)d translation's flag followed its source.",
                                          "%(count)d translations' flags followed their source.", followed) % {"count": followed}
            messages.success(request, message)
            return None
        if not open_flags:
            messages.warning(request, _("None of the selected flags is open; nothing was changed."))
            return None
        return TemplateResponse(request, "admin/governance/flag/close_selected.html", {
            **self.admin_site.each_context(request),
            "opts": self.model._meta, "title": _("Dismiss flags") if state == Flag.State.DISMISSED else _("Resolve flags"),
            "flags": open_flags, "skipped": len(flags) - len(open_flags), "form": form,
            "action": request.POST.get("action", ""), "state": state,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        })

    @admin.display(description=gettext_lazy("change"))
    def change_link(self, flag: Flag) -> str:
        if not flag.change_event_id:
            return ""
        return format_html('<a href="{}">{}</a>', reverse("admin:governance_changeevent_change", args=[flag.change_event_id]),
                           flag.change_event.title[:40])

    def get_urls(self):
        return [
            path("<int:flag_id>/dismiss/", self.admin_site.admin_view(require_POST(self.dismiss_view)), name="governance_flag_dismiss"),
            path("<int:flag_id>/confirm/", self.admin_site.admin_view(require_POST(self.confirm_view)), name="governance_flag_confirm"),
            path("<int:flag_id>/suggest/", self.admin_site.admin_view(require_POST(self.suggest_view)), name="governance_flag_suggest"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        flag = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if flag is not None:
            extra_context["can_dismiss"] = flag.state == Flag.State.OPEN and (
                flag.owner_id == request.user.pk or request.user.has_perm("kb.approve_version"))
            extra_context["can_confirm"] = extra_context["can_dismiss"] and flag.is_unconfirmed_report
            extra_context["suggestions"] = list(flag.suggestions.order_by("-created_at")[:5])
            extra_context["can_suggest"] = (
                flag.state == Flag.State.OPEN and flag.change_event_id is not None
                and services.suggestion_may_act(request.user, flag.article)
                and not any(s.status in (Suggestion.Status.DRAFTING, Suggestion.Status.READY) for s in extra_context["suggestions"]))
        return super().change_view(request, object_id, form_url, extra_context)

    def confirm_view(self, request: HttpRequest, flag_id: int) -> HttpResponse:
        flag = get_object_or_404(Flag, pk=flag_id)
        try:
            services.flag_confirm(actor=request.user, flag=flag, note=request.POST.get("note", ""))
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Report confirmed: the article is now marked as flagged for everyone until "
                                        "a corrected version is published."))
        return HttpResponseRedirect(reverse("admin:governance_flag_change", args=[flag.pk]))

    def suggest_view(self, request: HttpRequest, flag_id: int) -> HttpResponse:
        flag = get_object_or_404(Flag, pk=flag_id)
        try:
            suggestion = services.suggestion_request(actor=request.user, flag=flag)
        except ApplicationError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse("admin:governance_flag_change", args=[flag.pk]))
        messages.success(request, _("Verity is drafting a corrected version; this page shows it when it is ready."))
        return HttpResponseRedirect(reverse("admin:governance_suggestion_change", args=[suggestion.pk]))

    def dismiss_view(self, request: HttpRequest, flag_id: int) -> HttpResponse:
        flag = get_object_or_404(Flag, pk=flag_id)
        try:
            services.flag_dismiss(actor=request.user, flag=flag, reason=request.POST.get("reason", ""))
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Flag dismissed: your reason is in the audit log."))
        return HttpResponseRedirect(reverse("admin:governance_flag_change", args=[flag.pk]))


class ChangeEventForm(forms.ModelForm):
    source_url = forms.URLField(label=gettext_lazy("Source URL"), required=False, assume_scheme="https", max_length=500)

    class Meta:
        model = ChangeEvent
        fields = ("kind", "title", "description", "effective_date", "source_url")


@admin.register(ChangeEvent)
class ChangeEventAdmin(admin.ModelAdmin):
    form = ChangeEventForm
    list_display = ("title", "kind", "effective_date", "status", "flag_progress", "author_label", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("title", "description")
    change_form_template = "admin/governance/changeevent/change_form.html"
    actions = None

    def get_queryset(self, request):
        from django.db.models import Count, Q

        return super().get_queryset(request).annotate(
            flag_total=Count("flags"), flag_open=Count("flags", filter=Q(flags__state=Flag.State.OPEN)),
        )

    @admin.display(description=gettext_lazy("flags open / total"))
    def flag_progress(self, event: ChangeEvent) -> str:
        return f"{event.flag_open} / {event.flag_total}"

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("kind", "title", "description", "effective_date", "source_url", "status", "author_label", "created_at",
                "assessed_at", "assessment_ms", "error")

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj) or ("kind", "title", "description", "effective_date", "source_url")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created = services.change_event_create(author=request.user, **{f: form.cleaned_data[f] for f in ChangeEventForm.Meta.fields})
        obj.pk = created.pk

    def change_view(self, request, object_id, form_url="", extra_context=None):
        event = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if event is not None:
            flags = list(Flag.objects.filter(change_event=event).select_related("article", "owner").order_by("state", "-score"))
            extra_context.update({
                "event": event, "flags": flags,
                "progress": {state: sum(f.state == state for f in flags) for state in Flag.State.values},
            })
        return super().change_view(request, object_id, form_url, extra_context)


def content_health_view(request: HttpRequest) -> HttpResponse:
    """Per space and per owner: the share of articles current, due, expired, flagged and out of sync."""
    return TemplateResponse(request, "admin/governance/health.html", {
        **admin.site.each_context(request),
        "title": _("Content health"),
        "by_space": selectors.content_health("space"),
        "by_owner": selectors.content_health("owner"),
    })


def _review_url(review: Review) -> str:
    """Where a review is read and decided: its word diff against the live version."""
    return reverse("admin:kb_article_diff", args=[review.article_id]) + f"?to={review.version.number}"


def _notification_url(notification) -> str:
    if notification.review_id and notification.kind in services.NOTIFICATION_ACTION_KINDS:
        return _review_url(notification.review)
    url = reverse("admin:kb_article_change", args=[notification.article_id])
    return url + ("#pending-settings" if notification.settings_change_id else "#workflow")


def inbox_context(request: HttpRequest, *, limit: int | None = None) -> dict[str, Any]:
    """What awaits a person: reviews to decide (assigned ones first), settings changes, their versions sent
    back, their notifications and open flags. `limit`: at most this many of each list (the start page)."""
    user = request.user
    reviews = list(selectors.reviews_awaiting(user))
    settings_changes = list(selectors.settings_changes_awaiting(user))
    sent_back = list(selectors.reviews_sent_back(user))
    notifications = selectors.notifications_for(user, limit=limit or 30)
    return {
        "can_decide": user.has_perm("kb.approve_version"),
        "assigned": [(review, _review_url(review)) for review in reviews if review.assignee_id == user.pk][:limit],
        "awaiting": [(review, _review_url(review)) for review in reviews if review.assignee_id != user.pk][:limit],
        "awaiting_total": len(reviews) + len(settings_changes),
        "settings_changes": settings_changes[:limit],
        "sent_back": sent_back[:limit],
        "notifications": [(n, selectors.notification_text(n), _notification_url(n)) for n in notifications],
        "unread_total": selectors.unread_notification_count(user),
        "open_flags": Flag.objects.filter(selectors.flags_inbox_q(user), state=Flag.State.OPEN).count(),
        "flags_url": reverse("admin:governance_flag_changelist") + "?state__exact=open&mine=1",
    }


def inbox_view(request: HttpRequest) -> HttpResponse:
    """/admin/inbox/: everything that awaits the signed-in person, oldest decision first."""
    return TemplateResponse(request, "admin/inbox.html", {
        **admin.site.each_context(request), "title": _("My inbox"), **inbox_context(request),
    })


@require_POST
def notifications_read_view(request: HttpRequest) -> HttpResponse:
    """Mark one notification (or, with "all", every one) of the signed-in person read."""
    ids = [int(value) for value in request.POST.getlist("notification") if value.isdigit()]
    if request.POST.get("all") != "1" and not ids:
        messages.error(request, _("Choose a notification to mark as read."))
    else:
        count = services.notifications_mark_read(user=request.user, ids=None if request.POST.get("all") == "1" else ids)
        messages.success(request, ngettext("%(count)d notification marked as read.",
                                           "%(count)d notifications marked as read.", count) % {"count": count})
    return HttpResponseRedirect(_local_url(request, request.POST.get("next")) or reverse("admin:inbox"))


from governance import glossary_admin  # noqa: E402,F401 - registers the glossary admin


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    """Drafts Verity suggested (a new version from a change flag, a new article from past tickets): whoever
    decides reads the sources and the draft, edits, accepts or rejects."""

    list_display = ("target", "kind", "status", "change_event", "requested_by", "created_at")
    list_filter = ("kind", "status")
    search_fields = ("article__slug", "title", "slug")
    list_select_related = ("article", "space", "change_event", "requested_by")
    change_form_template = "admin/governance/suggestion/change_form.html"
    fields = ("article", "flag", "change_event", "base_version", "status", "requested_by", "created_at", "drafted_at",
              "generator", "decided_by", "decided_at", "decision_note", "version")
    article_fields = ("kind", "space", "locale", "source_tickets", "article", "status", "requested_by", "created_at",
                      "drafted_at", "generator", "decided_by", "decided_at", "decision_note", "version")
    readonly_fields = tuple(dict.fromkeys(fields + article_fields))

    def get_fields(self, request, obj=None):
        return self.article_fields if obj is not None and obj.is_new_article else self.fields

    @admin.display(description=gettext_lazy("article"), ordering="article__slug")
    def target(self, suggestion: Suggestion) -> str:
        if suggestion.article_id:
            return suggestion.article.slug
        return _("new: “%(title)s” in %(space)s") % {"title": suggestion.title, "space": suggestion.space}

    def get_urls(self):
        return [
            path("<int:suggestion_id>/accept/", self.admin_site.admin_view(require_POST(self.accept_view)),
                 name="governance_suggestion_accept"),
            path("<int:suggestion_id>/reject/", self.admin_site.admin_view(require_POST(self.reject_view)),
                 name="governance_suggestion_reject"),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        suggestion = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if suggestion is not None:
            base = suggestion.base_version
            ready = suggestion.status == Suggestion.Status.READY
            new_article = suggestion.is_new_article
            latest = None if new_article else suggestion.article.latest_version
            extra_context.update({
                "stale_version": latest if ready and latest is not None and latest.pk != suggestion.base_version_id else None,
                "suggestion": suggestion,
                "new_article": new_article,
                "can_decide": ready and services.suggestion_may_decide(request.user, suggestion),
                "rows": word_diff(base.body if base else None, suggestion.body) if suggestion.body and not new_article else [],
                "announcement": next((x for x in suggestion.sources if x.get("kind") == "announcement"), None),
                "evidence": next((x for x in suggestion.sources if x.get("kind") == "evidence"), None),
                "tickets": [x for x in suggestion.sources if x.get("kind") == "ticket"],
                "changed": [p for p in suggestion.paragraphs if p.get("changed")],
                "needs_human": suggestion.needs_human,
                "drafting": suggestion.status == Suggestion.Status.DRAFTING,
            })
        return super().change_view(request, object_id, form_url, extra_context)

    def _back(self, suggestion_id: int) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:governance_suggestion_change", args=[suggestion_id]))

    def accept_view(self, request: HttpRequest, suggestion_id: int) -> HttpResponse:
        suggestion = get_object_or_404(Suggestion, pk=suggestion_id)
        try:
            suggestion = services.suggestion_accept(actor=request.user, suggestion=suggestion,
                                                    body=request.POST.get("body"), title=request.POST.get("title"),
                                                    slug=request.POST.get("slug"))
        except ApplicationError as error:
            messages.error(request, error.message)
            return self._back(suggestion_id)
        if suggestion.is_new_article:
            messages.success(request, _("Accepted: the article “%(slug)s” was created with version 1 as a draft. "
                                        "Submit it for review; nothing is served before it is approved.")
                             % {"slug": suggestion.article.slug})
            return HttpResponseRedirect(reverse("admin:kb_article_change", args=[suggestion.article_id]))
        messages.success(request, _("Accepted: version %(number)s is a draft. Submit it for review; the flag stays "
                                    "open until a corrected version is published.") % {"number": suggestion.version.number})
        return HttpResponseRedirect(reverse("admin:kb_article_change", args=[suggestion.article_id]))

    def reject_view(self, request: HttpRequest, suggestion_id: int) -> HttpResponse:
        suggestion = get_object_or_404(Suggestion, pk=suggestion_id)
        try:
            services.suggestion_reject(actor=request.user, suggestion=suggestion, reason=request.POST.get("reason", ""))
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Suggestion rejected: your reason is in the audit log."))
        return self._back(suggestion_id)
