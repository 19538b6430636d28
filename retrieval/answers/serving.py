"""Serving rules for flagged content (a change made an article wrong, and nobody fixed it yet).

From the change's effective date on, public answers stop citing an article still flagged by it
(unless its space says otherwise); internal answers cite it with a warning. Search marks it
`flagged` for every audience.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.utils import timezone
from django.utils.translation import gettext as _

from governance.models import Flag
from governance.selectors import CONTENT_FLAG_REASONS


def withheld_from_public(article_ids: set[int], *, today: dt.date | None = None) -> set[int]:
    """Of these articles, those public answers must not cite today."""
    today = today or timezone.localdate()
    return set(
        Flag.objects.filter(
            article_id__in=article_ids, state=Flag.State.OPEN, reason=Flag.Reason.CHANGE_EVENT,
            change_event__effective_date__lte=today, article__space__withhold_flagged_from_public=True,
        ).values_list("article_id", flat=True)
    )


def flag_warnings(article_ids: set[int]) -> dict[int, list[str]]:
    """Open content flags per article, as short warnings for agents (an agent's report its owner has not
    confirmed says so)."""
    warnings: dict[int, list[str]] = defaultdict(list)
    flags = Flag.objects.filter(
        article_id__in=article_ids, state=Flag.State.OPEN,
        reason__in=CONTENT_FLAG_REASONS,
    ).select_related("change_event").order_by("created_at")
    for flag in flags:
        if flag.is_unconfirmed_report:
            text = _("Reported by an agent, not yet confirmed by the owner: %(summary)s") % {"summary": flag.summary}
        elif flag.change_event_id:
            text = f"{flag.get_reason_display()}: {flag.change_event.title} (from {flag.change_event.effective_date:%Y-%m-%d}) - {flag.summary}"
        else:
            text = f"{flag.get_reason_display()}: {flag.summary}"
        warnings[flag.article_id].append(text[:300])
    return dict(warnings)
