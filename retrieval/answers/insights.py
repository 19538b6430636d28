"""What knowledge owners learn from the answers: gaps to write, articles most used or disliked,
and how often Verity answered, refused or handed over."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from retrieval.index.embeddings import active_embedder
from retrieval.models import AnswerCitation, AnswerRecord, Feedback
from retrieval.tuning import (
    SAME_TOPIC,
)

GAP_REASONS = ("no_supporting_evidence", "answer_not_supported")
MAX_GAP_QUESTIONS = 500


@dataclass
class GapTopic:
    label: str
    count: int
    refused: int
    disliked: int
    examples: list[str] = field(default_factory=list)
    last_asked: dt.datetime | None = None
    notes: list[str] = field(default_factory=list)  # what agents wrote when they reported the gap (desktop)


def topic_clusters(vectors: np.ndarray, *, threshold: float = SAME_TOPIC) -> list[list[int]]:
    """Greedy clustering of unit vectors, in their order: each joins the topic whose centroid is closest
    if that is at least `threshold` similar, else starts a topic. Lists of indexes, one per topic."""
    centroids: list[np.ndarray] = []
    members: list[list[int]] = []
    for index, vector in enumerate(vectors):
        similarities = [float(centroid @ vector) for centroid in centroids]
        best = int(np.argmax(similarities)) if similarities else -1
        if best >= 0 and similarities[best] >= threshold:
            members[best].append(index)
            centroid = np.mean(vectors[members[best]], axis=0)
            centroids[best] = centroid / max(np.linalg.norm(centroid), 1e-12)
        else:
            centroids.append(vector)
            members.append([index])
    return members


def by_centrality(vectors: np.ndarray, group: list[int]) -> list[int]:
    """The group's members, the one closest to the group's centroid first: its most typical text."""
    centroid = np.mean(vectors[group], axis=0)
    return sorted(group, key=lambda index: -float(vectors[index] @ centroid))


def readable(text: str, limit: int = 90) -> str:
    """A text as a topic's title: one line, cut at a word boundary with an ellipsis."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0]
    return f"{cut} …"


def _served(since: dt.datetime):
    return AnswerRecord.objects.filter(simulated=False, created_at__gte=since)


def knowledge_gaps(*, days: int = 90) -> list[GapTopic]:
    """Refused and badly rated questions, grouped by topic (greedy clustering of their embeddings)."""
    since = timezone.now() - dt.timedelta(days=days)
    records = list(
        _served(since)
        .filter(Q(status=AnswerRecord.Status.REFUSED, reason__in=GAP_REASONS) | Q(feedback__helpful=False))
        .distinct().order_by("-created_at").values("id", "question", "status", "created_at")[:MAX_GAP_QUESTIONS]
    )
    if not records:
        return []
    notes: dict[object, list[str]] = {}
    for answer_id, comment in (Feedback.objects.filter(answer_id__in=[r["id"] for r in records], reason=Feedback.Reason.MISSING)
                               .exclude(comment="").order_by("-created_at").values_list("answer_id", "comment")):
        notes.setdefault(answer_id, []).append(" ".join(comment.split()))
    vectors = active_embedder().embed_documents([record["question"] for record in records])
    topics = []
    for group in topic_clusters(vectors):
        # the topic is named by its most typical question, as a customer asked it (not a bag of keywords);
        # the other examples are the next most typical ones, each worded differently
        typical = [records[i] for i in by_centrality(vectors, group)]
        distinct = list(dict.fromkeys(" ".join(record["question"].split()) for record in typical))
        refused = sum(record["status"] == AnswerRecord.Status.REFUSED for record in typical)
        topics.append(GapTopic(
            label=readable(distinct[0]), count=len(typical), refused=refused, disliked=len(typical) - refused,
            examples=distinct[1:4], last_asked=max(record["created_at"] for record in typical),
            notes=list(dict.fromkeys(note for record in typical for note in notes.get(record["id"], [])))[:3],
        ))
    return sorted(topics, key=lambda topic: (topic.count, topic.last_asked), reverse=True)


@dataclass(frozen=True)
class ArticleCount:
    article_id: int
    slug: str
    title: str
    count: int


def most_cited(*, days: int = 30, limit: int = 15) -> list[ArticleCount]:
    since = timezone.now() - dt.timedelta(days=days)
    rows = (
        AnswerCitation.objects.filter(answer__simulated=False, answer__created_at__gte=since)
        .values("version__article_id", "version__article__slug", "version__article__title")
        .annotate(count=Count("answer", distinct=True)).order_by("-count", "version__article__slug")[:limit]
    )
    return [ArticleCount(r["version__article_id"], r["version__article__slug"], r["version__article__title"], r["count"]) for r in rows]


def most_disliked(*, days: int = 90, limit: int = 15) -> list[ArticleCount]:
    since = timezone.now() - dt.timedelta(days=days)
    rows = (
        AnswerCitation.objects.filter(answer__simulated=False, answer__created_at__gte=since, answer__feedback__helpful=False)
        .values("version__article_id", "version__article__slug", "version__article__title")
        .annotate(count=Count("answer__feedback", distinct=True)).order_by("-count", "version__article__slug")[:limit]
    )
    return [ArticleCount(r["version__article_id"], r["version__article__slug"], r["version__article__title"], r["count"]) for r in rows]


@dataclass(frozen=True)
class DayRates:
    day: dt.date
    answered: int
    refused: int
    handoff: int

    @property
    def total(self) -> int:
        return self.answered + self.refused + self.handoff


def rates_by_day(*, days: int = 30) -> list[DayRates]:
    """Answers, refusals and hand-overs per day, every day of the period (zeros included)."""
    since = timezone.localdate() - dt.timedelta(days=days - 1)
    rows = (
        _served(timezone.make_aware(dt.datetime.combine(since, dt.time.min)))
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day", "status").annotate(count=Count("id"))
    )
    counts: dict[dt.date, Counter] = {}
    for row in rows:
        counts.setdefault(row["day"], Counter())[row["status"]] = row["count"]
    return [
        DayRates(day, counts.get(day, Counter())["answered"], counts.get(day, Counter())["refused"], counts.get(day, Counter())["handoff"])
        for day in (since + dt.timedelta(days=offset) for offset in range(days))
    ]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    css: str
    title: str


def rate_chart(days: list[DayRates], *, width: int = 720, height: int = 180) -> dict:
    """Stacked bars as plain numbers for an inline SVG (rendered by the template; no JavaScript)."""
    peak = max((day.total for day in days), default=0) or 1
    slot = width / max(len(days), 1)
    bars: list[Bar] = []
    for index, day in enumerate(days):
        base = height
        for status in ("answered", "refused", "handoff"):
            value = getattr(day, status)
            if not value:
                continue
            bar_height = height * value / peak
            base -= bar_height
            label = AnswerRecord.Status(status).label
            bars.append(Bar(index * slot + 1, base, bar_height, status, f"{day.day:%Y-%m-%d}: {value} {label}"))
    return {"bars": bars, "bar_width": max(slot - 2, 1), "width": width, "height": height, "peak": peak}
