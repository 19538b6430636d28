"""Keeping the knowledge true: reviews, flags and the append-only audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kb.models import Article, ArticleVersion, Space
from verity.core.batches import LeasedBatch


class Review(models.Model):
    """The approval workflow of one submitted version (Wagtail's WorkflowState, simplified)."""

    class Status(models.TextChoices):
        IN_REVIEW = "in_review", "In review"
        APPROVED = "approved", "Approved and published"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        WITHDRAWN = "withdrawn", "Withdrawn"
        SCHEDULED = "scheduled", gettext_lazy("Approved, scheduled to go live")
        CANCELLED = "cancelled", gettext_lazy("Scheduled publication cancelled")

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="reviews")
    version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="reviews")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_REVIEW)
    required_approvals = models.PositiveSmallIntegerField(default=1)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submitted_reviews"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True, help_text="The reviewer's reason when changes are requested.")
    go_live_at = models.DateTimeField(
        null=True, blank=True, db_index=True,
        help_text=gettext_lazy("When the approved version goes live (scheduled publication); empty: at its approval."),
    )

    class Meta:
        ordering = ["-submitted_at"]
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
        return f"Review of {self.version} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.IN_REVIEW

    @property
    def is_scheduled(self) -> bool:
        return self.status == self.Status.SCHEDULED


class ReviewApproval(models.Model):
    """One approver's approval of a review; two are needed in spaces with an extra step."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    step = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["review", "step"]
        constraints = [
            models.UniqueConstraint(fields=["review", "approver"], name="approval_once_per_approver"),
            models.UniqueConstraint(fields=["review", "step"], name="approval_once_per_step"),
        ]

    def __str__(self) -> str:
        return f"Step {self.step} approved by {self.approver}"


class SettingsChange(models.Model):
    """Governance settings proposed for an article (audience made public, validity, space, owner).

    Applied, all together, only when an approver other than the proposer approves (two approvers
    when the article's current or proposed space requires extra approval); until then the article
    is served exactly as before. Values are stored as plain JSON: model fields by primary key,
    dates in ISO format; `previous` holds the values the proposal was made against.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting approval"
        APPROVED = "approved", "Approved and applied"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="settings_changes")
    proposed = models.JSONField(help_text="The proposed values, by setting.")
    previous = models.JSONField(help_text="The values when it was proposed, by setting.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    required_approvals = models.PositiveSmallIntegerField(default=1)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True, help_text="Why, in the proposer's words.")
    first_approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Step 1 of 2, where two approvals are needed.",
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-proposed_at"]
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
        return f"Settings of {self.article.slug}: {', '.join(sorted(self.proposed))} ({self.get_status_display()})"

    @property
    def approvals_given(self) -> int:
        if self.status == self.Status.APPROVED:
            return self.required_approvals
        return 1 if self.first_approver_id else 0


class Publication(models.Model):
    """Each time a version became the live version: what 'was live' means (e.g. for rollback)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="publications")
    version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="publications")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return f"{self.version} live from {self.published_at:%Y-%m-%d %H:%M}"


class AuditEvent(models.Model):
    """Append-only record of every change (database triggers refuse UPDATE and DELETE)."""

    class Type(models.TextChoices):
        ARTICLE_CREATE = "article.create", "Article created"
        ARTICLE_EDIT = "article.edit", "Article settings edited"
        VERSION_CREATE = "version.create", "Version created"
        VERSION_SUBMIT = "version.submit", "Submitted for review"
        VERSION_APPROVE = "version.approve", "Approved (step)"
        VERSION_REQUEST_CHANGES = "version.request_changes", "Changes requested"
        VERSION_WITHDRAW = "version.withdraw", "Review withdrawn"
        VERSION_PUBLISH = "version.publish", "Published"
        VERSION_SCHEDULE = "version.schedule", gettext_lazy("Publication scheduled")
        VERSION_SCHEDULE_CANCEL = "version.schedule_cancel", gettext_lazy("Scheduled publication cancelled")
        VERSION_UNPUBLISH = "version.unpublish", gettext_lazy("Unpublished (emergency)")
        VERSION_ROLLBACK = "version.rollback", "Rollback version created"
        ARTICLE_VERIFY = "article.verify", "Verified as still correct"
        ARTICLE_IMPORT = "article.import", "Imported"
        FLAG_RAISE = "flag.raise", "Flag raised"
        FLAG_RESOLVE = "flag.resolve", "Flag resolved"
        FLAG_DISMISS = "flag.dismiss", "Flag dismissed"
        FLAG_CONFIRM = "flag.confirm", gettext_lazy("Report confirmed")
        CHANGE_CREATE = "change.create", "Change announced"
        CHANGE_ASSESS = "change.assess", "Change assessed"
        POLICY_CREATE = "policy.create", "Guardrail created"
        POLICY_CHANGE = "policy.change", "Guardrail changed"
        POLICY_DELETE = "policy.delete", "Guardrail deleted"
        APIKEY_CREATE = "apikey.create", "API key created"
        APIKEY_REVOKE = "apikey.revoke", "API key revoked"
        APIKEY_ROTATE = "apikey.rotate", "API key rotated"
        SETTINGS_PROPOSE = "settings.propose", "Settings change proposed"
        SETTINGS_APPROVE = "settings.approve", "Settings change approved"
        SETTINGS_REJECT = "settings.reject", "Settings change rejected"
        SETTINGS_WITHDRAW = "settings.withdraw", "Settings change withdrawn"

    event_type = models.CharField(max_length=40, choices=Type.choices, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )
    actor_label = models.CharField(max_length=254, help_text="Who acted, kept if the user is deleted.")
    # Plain references without database constraints: the log outlives what it describes.
    article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="audit_events",
    )
    version = models.ForeignKey(
        ArticleVersion, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False,
        related_name="+",
    )
    target_label = models.CharField(max_length=300)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.event_type} {self.target_label}"


class ChangeEvent(models.Model):
    """A policy memo or release note that may make knowledge wrong; assessed in the background."""

    class Kind(models.TextChoices):
        POLICY = "policy", "Policy change"
        RELEASE = "release", "Product release"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=300)
    description = models.TextField()
    effective_date = models.DateField()
    source_url = models.URLField(blank=True, max_length=500)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author_label = models.CharField(max_length=254, blank=True, help_text="Who announced it (a user or an API key).")
    # The API key (retrieval.ApiKey) that announced it, by id without a foreign key: governance does
    # not depend on retrieval. Over the API a key reads only the changes it announced.
    announcing_key_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    assessed_at = models.DateTimeField(null=True, blank=True)
    assessment_ms = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title} (from {self.effective_date:%Y-%m-%d})"


class Flag(models.Model):
    """Why an article needs its owner's attention, with a due date and a resolution."""

    class Reason(models.TextChoices):
        REVIEW_DUE = "review_due", "Review due"
        EXPIRED = "expired", "Expired"
        CHANGE_EVENT = "change_event", "Affected by a change"
        TRANSLATION_DRIFT = "out_of_sync", "Translation out of sync"
        AGENT_REPORT = "agent_report", "Reported by an agent"
        FEEDBACK = "feedback", "Negative feedback"
        CONTRADICTION = "contradiction", "Contradicts another article"
        SOURCE_DELETED = "source_deleted", "Deleted at the source"

    class State(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="flags")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    summary = models.TextField(help_text="What is wrong, in words.")
    evidence = models.TextField(blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="flags")
    due_at = models.DateTimeField(default=timezone.now)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    notified_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution_note = models.TextField(blank=True)
    resolved_by_version = models.ForeignKey(
        ArticleVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="resolved_flags"
    )
    change_event = models.ForeignKey(ChangeEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    score = models.FloatField(null=True, blank=True, help_text="How sure the impact analysis is (0-1).")
    flagged_version = models.ForeignKey(
        ArticleVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The live version the flag is about.",
    )
    related_article = models.ForeignKey(
        Article, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=gettext_lazy("The other article (of a contradiction)."),
    )
    follows = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="followers",
        help_text=gettext_lazy("The source's flag for the same change: this translation's flag is resolved or "
                               "dismissed with it. Empty: opened on its own."),
    )
    confirmed_at = models.DateTimeField(
        null=True, blank=True,
        help_text=gettext_lazy("An agent's report counts against the article once its owner confirms it."),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["state", "due_at"]
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


class ConnectorSource(models.Model):
    """A connected source of existing knowledge (a Zendesk help center, a Confluence space, a folder of
    pages), synced into one space by `kb_connect`; its runs are ImportRuns."""

    class Kind(models.TextChoices):
        ZENDESK = "zendesk", "Zendesk Guide"
        CONFLUENCE = "confluence", "Confluence space"
        FOLDER = "folder", "Folder of HTML or Markdown pages"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    name = models.CharField(max_length=200, help_text="The source's own name: help center host, space key or folder.")
    space = models.ForeignKey(Space, on_delete=models.PROTECT, related_name="connector_sources")
    location = models.CharField(max_length=1000, blank=True, help_text="Where the last export was read from.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "name"]
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
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    folder = models.CharField(max_length=1000)
    source = models.ForeignKey(
        ConnectorSource, null=True, blank=True, on_delete=models.PROTECT, related_name="runs",
        help_text="Set for a `kb_connect` run.",
    )
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    total = models.PositiveIntegerField(default=0, help_text="Files to import (those that could be read).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        if self.source_id:
            return f"Sync of {self.source} from {self.folder} ({self.get_status_display()})"
        return f"Import of {self.folder} ({self.get_status_display()})"


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
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        UNCHANGED = "unchanged", "Unchanged"
        FLAGGED = "flagged", "Deleted at the source: flagged"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1000)
    slug = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    version = models.ForeignKey(ArticleVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    error_key = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    note = models.TextField(blank=True, help_text="What was left out (attachments, images, macros) or why.")
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "pk"]
        constraints = [models.UniqueConstraint(fields=["run", "path"], name="importrunfile_once_per_run")]

    def __str__(self) -> str:
        return f"{self.path}: {self.get_outcome_display()}"
