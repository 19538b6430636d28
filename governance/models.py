"""Keeping the knowledge true: reviews, flags and the append-only audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kb.models import Article, ArticleVersion, Space
from verity.core.batches import LeasedBatch
from verity.core.web_address import validate_web_address


class Review(models.Model):
    """The approval workflow of one submitted version (Wagtail's WorkflowState, simplified)."""

    class Status(models.TextChoices):
        IN_REVIEW = "in_review", _("In review")
        APPROVED = "approved", _("Approved and published")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        SCHEDULED = "scheduled", _("Approved, scheduled to go live")
        CANCELLED = "cancelled", _("Scheduled publication cancelled")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("article"))
    version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("version"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.IN_REVIEW)
    required_approvals = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submitted_reviews", verbose_name=_("submitted by")
    )
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True, help_text=_("The reviewer's reason when changes are requested."))
    go_live_at = models.DateTimeField(
        _("goes live"), null=True, blank=True, db_index=True,
        help_text=_("When the approved version goes live (scheduled publication); empty: at its approval."),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("decided by"), help_text=_("Who gave the last approval, requested changes or withdrew it."),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="assigned_reviews",
        verbose_name=_("assigned reviewer"),
        help_text=_("The approver asked to review it; never its author nor whoever approved step 1."),
    )
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            # at most one version on its way to publication: in review, or approved and scheduled
            models.UniqueConstraint(
                fields=["article"],
                condition=models.Q(status__in=["in_review", "scheduled"]),
                name="one_open_review_per_article",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="scheduled") | models.Q(go_live_at__isnull=False),
                name="scheduled_review_has_go_live_at",
            ),
            models.CheckConstraint(
                condition=models.Q(required_approvals__gte=1, required_approvals__lte=2),
                name="review_required_approvals_1_or_2",
            ),
        ]

    def __str__(self) -> str:
        return _("Review of %(version)s (%(status)s)") % {"version": self.version, "status": self.get_status_display()}

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.IN_REVIEW

    @property
    def is_scheduled(self) -> bool:
        return self.status == self.Status.SCHEDULED


class ReviewApproval(models.Model):
    """One approver's approval of a review; two are needed in spaces with an extra step."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="approvals", verbose_name=_("review"))
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("approver"))
    step = models.PositiveSmallIntegerField(_("step"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("approved"), default=timezone.now)

    class Meta:
        ordering = ["review", "step"]
        verbose_name = _("approval")
        verbose_name_plural = _("approvals")
        constraints = [
            models.UniqueConstraint(fields=["review", "approver"], name="approval_once_per_approver"),
            models.UniqueConstraint(fields=["review", "step"], name="approval_once_per_step"),
        ]

    def __str__(self) -> str:
        return _("Step %(step)s approved by %(approver)s") % {"step": self.step, "approver": self.approver}


class SettingsChange(models.Model):
    """Governance settings proposed for an article (audience made public, validity, space, owner).

    Applied, all together, only when an approver other than the proposer approves (two approvers
    when the article's current or proposed space requires extra approval); until then the article
    is served exactly as before. Values are stored as plain JSON: model fields by primary key,
    dates in ISO format; `previous` holds the values the proposal was made against.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting approval")
        APPROVED = "approved", _("Approved and applied")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="settings_changes", verbose_name=_("article"))
    proposed = models.JSONField(_("proposed values"), help_text=_("The proposed values, by setting."))
    previous = models.JSONField(_("previous values"), help_text=_("The values when it was proposed, by setting."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    required_approvals = models.PositiveSmallIntegerField(_("approvals required"), default=1)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by"))
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    note = models.TextField(_("note"), blank=True, help_text=_("Why, in the proposer's words."))
    first_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("first approver"), help_text=_("Step 1 of 2, where two approvals are needed."),
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["-proposed_at"]
        verbose_name = _("settings change")
        verbose_name_plural = _("settings changes")
        constraints = [
            models.UniqueConstraint(
                fields=["article"], condition=models.Q(status="pending"), name="one_pending_settings_change_per_article",
            ),
            models.CheckConstraint(
                condition=models.Q(required_approvals__gte=1, required_approvals__lte=2),
                name="settings_change_required_approvals_1_or_2",
            ),
        ]

    def __str__(self) -> str:
        settings_names = ", ".join(str(Article._meta.get_field(field).verbose_name) for field in sorted(self.proposed))
        return _("Settings of %(slug)s: %(settings)s (%(status)s)") % {
            "slug": self.article.slug, "settings": settings_names, "status": self.get_status_display(),
        }

    @property
    def approvals_given(self) -> int:
        if self.status == self.Status.APPROVED:
            return self.required_approvals
        return 1 if self.first_approver_id else 0


class Publication(models.Model):
    """Each time a version became the live version: what 'was live' means (e.g. for rollback)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="publications", verbose_name=_("article"))
    version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="publications", verbose_name=_("version"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("published by"),
    )
    published_at = models.DateTimeField(_("published"), default=timezone.now)

    class Meta:
        ordering = ["-published_at"]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")

    def __str__(self) -> str:
        return _("%(version)s live from %(time)s") % {"version": self.version, "time": f"{self.published_at:%Y-%m-%d %H:%M}"}


class AuditEvent(models.Model):
    """Append-only record of every change (database triggers refuse UPDATE and DELETE)."""

    class Type(models.TextChoices):
        ARTICLE_CREATE = "article.create", _("Article created")
        ARTICLE_EDIT = "article.edit", _("Article settings edited")
        VERSION_CREATE = "version.create", _("Version created")
        VERSION_SUBMIT = "version.submit", _("Submitted for review")
        VERSION_APPROVE = "version.approve", _("Approved (step)")
        VERSION_REQUEST_CHANGES = "version.request_changes", _("Changes requested")
        REVIEW_ASSIGN = "review.assign", _("Reviewer assigned")
        VERSION_WITHDRAW = "version.withdraw", _("Review withdrawn")
        VERSION_PUBLISH = "version.publish", _("Published")
        VERSION_SCHEDULE = "version.schedule", _("Publication scheduled")
        VERSION_SCHEDULE_CANCEL = "version.schedule_cancel", _("Scheduled publication cancelled")
        VERSION_UNPUBLISH = "version.unpublish", _("Unpublished (emergency)")
        VERSION_ROLLBACK = "version.rollback", _("Rollback version created")
        ARTICLE_VERIFY = "article.verify", _("Verified as still correct")
        ARTICLE_IMPORT = "article.import", _("Imported")
        FLAG_RAISE = "flag.raise", _("Flag raised")
        FLAG_RESOLVE = "flag.resolve", _("Flag resolved")
        FLAG_DISMISS = "flag.dismiss", _("Flag dismissed")
        FLAG_CONFIRM = "flag.confirm", _("Report confirmed")
        CHANGE_CREATE = "change.create", _("Change announced")
        CHANGE_ASSESS = "change.assess", _("Change assessed")
        POLICY_CREATE = "policy.create", _("Guardrail created")
        POLICY_CHANGE = "policy.change", _("Guardrail changed")
        POLICY_DELETE = "policy.delete", _("Guardrail deleted")
        APIKEY_CREATE = "apikey.create", _("API key created")
        APIKEY_REVOKE = "apikey.revoke", _("API key revoked")
        APIKEY_ROTATE = "apikey.rotate", _("API key rotated")
        SETTINGS_PROPOSE = "settings.propose", _("Settings change proposed")
        SETTINGS_APPROVE = "settings.approve", _("Settings change approved")
        SETTINGS_REJECT = "settings.reject", _("Settings change rejected")
        SETTINGS_WITHDRAW = "settings.withdraw", _("Settings change withdrawn")
        GLOSSARY_CREATE = "glossary.create", _("Glossary entry created")
        GLOSSARY_CHANGE = "glossary.change", _("Glossary entry changed")
        GLOSSARY_DELETE = "glossary.delete", _("Glossary entry deleted")
        SUGGESTION_CREATE = "suggestion.create", _("Draft suggested")
        SUGGESTION_ACCEPT = "suggestion.accept", _("Suggested draft accepted")
        SUGGESTION_REJECT = "suggestion.reject", _("Suggested draft rejected")

    event_type = models.CharField(_("event"), max_length=40, choices=Type.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+", verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("who"), max_length=254, help_text=_("Who acted, kept if the user is deleted."))
    # Plain references without database constraints: the log outlives what it describes.
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="audit_events", verbose_name=_("article"),
    )
    version = models.ForeignKey(
        ArticleVersion, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+", verbose_name=_("version"),
    )
    target_label = models.CharField(_("concerns"), max_length=300)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label}: {self.get_event_type_display()} ({self.target_label})"


class ChangeEvent(models.Model):
    """A policy memo or release note that may make knowledge wrong; assessed in the background."""

    class Kind(models.TextChoices):
        POLICY = "policy", _("Policy change")
        RELEASE = "release", _("Product release")

    class Status(models.TextChoices):
        PENDING = "pending", _("Being assessed")
        DONE = "done", _("Assessed")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"))
    effective_date = models.DateField(_("effective date"))
    source_url = models.CharField(_("source URL"), blank=True, max_length=500, validators=[validate_web_address])
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               verbose_name=_("author"))
    author_label = models.CharField(_("announced by"), max_length=254, blank=True,
                                    help_text=_("Who announced it (a user or an API key)."))
    # The API key (retrieval.ApiKey) that announced it, by id without a foreign key: governance does
    # not depend on retrieval. Over the API a key reads only the changes it announced.
    announcing_key_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("announced"), default=timezone.now)
    assessed_at = models.DateTimeField(_("assessed"), null=True, blank=True)
    assessment_ms = models.PositiveIntegerField(_("assessment time (ms)"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("change event")
        verbose_name_plural = _("change events")

    def __str__(self) -> str:
        return _("%(kind)s: %(title)s (from %(date)s)") % {
            "kind": self.get_kind_display(), "title": self.title, "date": f"{self.effective_date:%Y-%m-%d}",
        }


class Flag(models.Model):
    """Why an article needs its owner's attention, with a due date and a resolution."""

    class Reason(models.TextChoices):
        REVIEW_DUE = "review_due", _("Review due")
        EXPIRED = "expired", _("Expired")
        CHANGE_EVENT = "change_event", _("Affected by a change")
        TRANSLATION_DRIFT = "out_of_sync", _("Translation out of sync")
        AGENT_REPORT = "agent_report", _("Reported by an agent")
        FEEDBACK = "feedback", _("Negative feedback")
        CONTRADICTION = "contradiction", _("Contradicts another article")
        SOURCE_DELETED = "source_deleted", _("Deleted at the source")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")
        DISMISSED = "dismissed", _("Dismissed")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="flags", verbose_name=_("article"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.OPEN)
    summary = models.TextField(_("what is wrong"), help_text=_("What is wrong, in words."))
    evidence = models.TextField(_("evidence"), blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="flags", verbose_name=_("owner"))
    due_at = models.DateTimeField(_("due"), default=timezone.now)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("raised by"),
    )
    created_at = models.DateTimeField(_("raised"), default=timezone.now)
    notified_at = models.DateTimeField(_("owner notified"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("closed by"),
    )
    resolution_note = models.TextField(_("resolution note"), blank=True)
    resolved_by_version = models.ForeignKey(
        ArticleVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="resolved_flags",
        verbose_name=_("resolved by version"),
    )
    change_event = models.ForeignKey(ChangeEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="flags",
                                     verbose_name=_("change event"))
    score = models.FloatField(_("confidence"), null=True, blank=True, help_text=_("How sure the impact analysis is (0-1)."))
    flagged_version = models.ForeignKey(
        ArticleVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("flagged version"), help_text=_("The live version the flag is about."),
    )
    related_article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("other article"), help_text=_("The other article (of a contradiction)."),
    )
    follows = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="followers",
        verbose_name=_("follows"),
        help_text=_("The source's flag for the same change: this translation's flag is resolved or "
                    "dismissed with it. Empty: opened on its own."),
    )
    confirmed_at = models.DateTimeField(
        _("confirmed"), null=True, blank=True,
        help_text=_("An agent's report counts against the article once its owner confirms it."),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("confirmed by"),
    )

    class Meta:
        ordering = ["state", "due_at"]
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        constraints = [
            models.UniqueConstraint(
                fields=["article", "reason"],
                condition=models.Q(state="open", reason__in=["review_due", "expired", "out_of_sync"]),
                name="one_open_timer_flag_per_article_and_reason",
            ),
            models.UniqueConstraint(
                fields=["article", "change_event"],
                condition=models.Q(state="open", change_event__isnull=False),
                name="one_open_flag_per_article_and_change",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.article.slug}"

    @property
    def is_unconfirmed_report(self) -> bool:
        """An agent's report its owner has not confirmed: shown as "reported", not as "flagged"."""
        return self.reason == self.Reason.AGENT_REPORT and self.confirmed_at is None


class Suggestion(models.Model):
    """A draft Verity wrote with the language model, for a person to edit, accept or reject.

    From an open change flag (`kind` flag): a new version of `article`. Only the paragraphs the change
    makes wrong are rewritten, from the announcement; a rewritten paragraph stating a number, amount,
    date or menu path that neither the old paragraph nor the announcement states is not used and is
    listed as needing a human. `paragraphs`: [{"old", "new", "changed", "problem"}] for every paragraph
    the model was asked about.

    From a cluster of past tickets the knowledge base could not answer (`kind` tickets): a new article
    for `space`, with no `article` until it is accepted. Its sources are the tickets' agent replies
    (redacted, as stored); every sentence of the draft must be supported by them, and one that is not is
    removed and listed as needing a human. `sentences`: [{"text", "kept", "problem", "tickets"}].

    Accepting creates an ordinary draft version (a new article's first version) by the person who
    accepted it, reviewed like any other; nothing is served before it is approved.
    """

    class Status(models.TextChoices):
        DRAFTING = "drafting", _("Being drafted")
        READY = "ready", _("Awaiting the owner")
        FAILED = "failed", _("Could not be drafted")
        ACCEPTED = "accepted", _("Accepted as a draft version")
        REJECTED = "rejected", _("Rejected")

    class Kind(models.TextChoices):
        FLAG = "flag", _("New version from a change flag")
        TICKETS = "tickets", _("New article from past tickets")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.FLAG)
    article = models.ForeignKey(Article, null=True, blank=True, on_delete=models.CASCADE, related_name="suggestions",
                                verbose_name=_("article"),
                                help_text=_("The article it revises; for a new article, the one created on acceptance."))
    space = models.ForeignKey(Space, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                              verbose_name=_("space"), help_text=_("Where a new article is created when it is accepted."))
    slug = models.CharField(_("proposed slug"), max_length=120, blank=True)
    locale = models.CharField(_("language"), max_length=12, blank=True)
    source_tickets = ArrayField(models.CharField(max_length=100), default=list, blank=True,
                                verbose_name=_("source tickets"),
                                help_text=_("The ids of the past tickets whose agent replies it was drafted from."))
    flag = models.ForeignKey(Flag, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggestions",
                             verbose_name=_("flag"))
    change_event = models.ForeignKey(ChangeEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                     verbose_name=_("change event"))
    base_version = models.ForeignKey(ArticleVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                     verbose_name=_("rewritten version"), help_text=_("The live version it rewrites."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFTING)
    title = models.CharField(_("title"), max_length=300, blank=True)
    body = models.TextField(_("suggested text"), blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True,
                               help_text=_("What the draft may draw on: the announcement and the flagged passage."))
    paragraphs = models.JSONField(_("rewritten paragraphs"), default=list, blank=True)
    sentences = models.JSONField(_("checked sentences"), default=list, blank=True)
    generator = models.CharField(_("written by"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("requested by"))
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    drafted_at = models.DateTimeField(_("drafted"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("reason"), blank=True)
    version = models.ForeignKey(ArticleVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("draft version"), help_text=_("The draft version created on acceptance."))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("suggested draft")
        verbose_name_plural = _("suggested drafts")
        constraints = [
            models.UniqueConstraint(fields=["flag"], condition=models.Q(status__in=["drafting", "ready"]),
                                    name="one_open_suggestion_per_flag"),
            models.CheckConstraint(
                condition=models.Q(kind="flag", article__isnull=False) | models.Q(kind="tickets", space__isnull=False),
                name="suggestion_has_a_target",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.TICKETS:
            return _("Suggested article “%(title)s” (%(status)s)") % {"title": self.title or self.slug,
                                                                       "status": self.get_status_display()}
        return _("Suggested draft of %(slug)s (%(status)s)") % {"slug": self.article.slug, "status": self.get_status_display()}

    @property
    def is_new_article(self) -> bool:
        return self.kind == self.Kind.TICKETS

    @property
    def needs_human(self) -> list[dict]:
        """What was left out for a person to decide: {"old": the text, "problem": why}."""
        if self.is_new_article:
            return [{"old": sentence["text"], "problem": sentence.get("problem", "")}
                    for sentence in self.sentences if not sentence.get("kept")]
        return [paragraph for paragraph in self.paragraphs if not paragraph.get("changed")]


class ConnectorSource(models.Model):
    """A connected source of existing knowledge (a Zendesk help center, a Confluence space, a folder of
    pages), synced into one space by `kb_connect`; its runs are ImportRuns."""

    class Kind(models.TextChoices):
        ZENDESK = "zendesk", "Zendesk Guide"
        CONFLUENCE = "confluence", "Confluence space"
        FOLDER = "folder", "Folder of HTML or Markdown pages"

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200,
                            help_text=_("The source's own name: help center host, space key or folder."))
    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="connector_sources", verbose_name=_("space"))
    location = models.CharField(_("location"), max_length=1000, blank=True,
                                help_text=_("Where the last export was read from."))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["kind", "name"]
        verbose_name = _("connected source")
        verbose_name_plural = _("connected sources")
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="connector_source_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"


class SourceLink(models.Model):
    """Which article a page of a connected source became, and what the source said when last synced:
    a re-run matches pages by `external_id` and compares `source_hash`."""

    source = models.ForeignKey(ConnectorSource, on_delete=models.PROTECT, related_name="links")
    external_id = models.CharField(max_length=500, help_text="The page's id in the source (a translation: id/locale).")
    article = models.OneToOneField(Article, on_delete=models.CASCADE, related_name="source_link")
    url = models.CharField(max_length=1000, blank=True)
    source_updated_at = models.CharField(max_length=40, blank=True, help_text="As the source states it.")
    source_hash = models.CharField(max_length=64, help_text="Title and converted body when last synced.")
    synced_at = models.DateTimeField(default=timezone.now)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="When a sync found it gone from the source.")

    class Meta:
        ordering = ["source", "external_id"]
        constraints = [models.UniqueConstraint(fields=["source", "external_id"], name="source_link_once_per_page")]

    def __str__(self) -> str:
        return f"{self.source.name} {self.external_id} -> {self.article.slug}"


class ImportRun(models.Model):
    """One `kb_import` of a folder or `kb_connect` of a source: progress while workers import, and the outcome."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    folder = models.CharField(_("folder"), max_length=1000)
    source = models.ForeignKey(
        ConnectorSource, null=True, blank=True, on_delete=models.PROTECT, related_name="runs",
        verbose_name=_("connected source"), help_text=_("Set for a `kb_connect` run."),
    )
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("started by"))
    total = models.PositiveIntegerField(_("files"), default=0, help_text=_("Files to import (those that could be read)."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")

    def __str__(self) -> str:
        if self.source_id:
            return _("Sync of %(source)s from %(folder)s (%(status)s)") % {
                "source": self.source, "folder": self.folder, "status": self.get_status_display()}
        return _("Import of %(folder)s (%(status)s)") % {"folder": self.folder, "status": self.get_status_display()}


class ImportRunBatch(LeasedBatch):
    """Files of a run sent to the workers together; sent again when its worker is lost."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="batches")
    wave = models.PositiveSmallIntegerField(help_text="0: sources; 1: their translations; 2: translations of those ...")
    files = models.JSONField(help_text='[{"path": ..., "text": ..., "shift_days": ...}]')

    class Meta:
        ordering = ["run", "pk"]

    def __str__(self) -> str:
        return f"batch {self.pk} of run {self.run_id}: {len(self.files)} file(s)"


class ImportRunFile(models.Model):
    """What happened to one file of an import; written once by the task that imported it."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        UNCHANGED = "unchanged", _("Unchanged")
        FLAGGED = "flagged", _("Deleted at the source: flagged")
        FAILED = "failed", _("Failed")

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="files", verbose_name=_("import run"))
    path = models.CharField(_("path"), max_length=1000)
    slug = models.CharField(_("slug"), max_length=200, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    version = models.ForeignKey(ArticleVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                verbose_name=_("version"))
    error_key = models.CharField(_("key"), max_length=100, blank=True)
    error = models.TextField(_("error"), blank=True)
    note = models.TextField(_("note"), blank=True, help_text=_("What was left out (attachments, images, macros) or why."))
    finished_at = models.DateTimeField(_("finished"), default=timezone.now)

    class Meta:
        ordering = ["run", "pk"]
        verbose_name = _("imported file")
        verbose_name_plural = _("imported files")
        constraints = [models.UniqueConstraint(fields=["run", "path"], name="importrunfile_once_per_run")]

    def __str__(self) -> str:
        return f"{self.path}: {self.get_outcome_display()}"


class UserPreferences(models.Model):
    """What a person chose for themselves: the language Verity writes to them in (the e-mail digest).

    Remembered when they sign in (their browser's language) and when they switch language in the
    header; without a row, settings.LANGUAGE_CODE.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True,
                                related_name="verity_preferences", verbose_name=_("user"))
    language = models.CharField(_("language"), max_length=12, choices=settings.LANGUAGES)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("user preferences")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.language}"


class Notification(models.Model):
    """Something a person should know or act on (a version awaits their approval, their version was sent
    back, ...): listed in their admin inbox and e-mailed in an hourly digest unless they read it first.

    The text is written when it is read, in the reader's language; only `comment` (a reviewer's words)
    is stored as written.
    """

    class Kind(models.TextChoices):
        REVIEW_REQUESTED = "review_requested", _("Version awaits approval")
        SECOND_APPROVAL = "second_approval", _("Version awaits the second approval")
        REVIEW_ASSIGNED = "review_assigned", _("Review assigned to you")
        CHANGES_REQUESTED = "changes_requested", _("Changes requested")
        VERSION_APPROVED = "version_approved", _("Version approved")
        SETTINGS_PROPOSED = "settings_proposed", _("Settings change awaits approval")

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="verity_notifications",
                                  verbose_name=_("recipient"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="+", verbose_name=_("article"))
    version = models.ForeignKey(ArticleVersion, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("version"))
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications",
                               verbose_name=_("review"))
    settings_change = models.ForeignKey(SettingsChange, null=True, blank=True, on_delete=models.CASCADE,
                                        related_name="notifications", verbose_name=_("settings change"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("by"))
    comment = models.TextField(_("comment"), blank=True, help_text=_("The reviewer's words, as written."))
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True,
                                   help_text=_("When the recipient read it, or when it no longer needed them."))
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_recipient_unread")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.article.slug} ({self.recipient})"
