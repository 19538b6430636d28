"""Contradictions compare only what is served: kb's servable rule, not a hand-written copy of it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from retrieval.impact.contradictions import contradictions_scan

FEE_A = "# Ersatzkarte\n\nFür eine Ersatzkarte berechnen wir eine Bearbeitungsgebühr von 9,95 €. Die Karte kommt per Post."
FEE_B = "# Karte verloren\n\nBei Verlust berechnen wir für die Ersatzkarte eine Bearbeitungsgebühr von 14,95 €."


def test_an_article_valid_only_from_tomorrow_is_not_compared(publish):
    # given two articles stating different fees, the second not valid yet
    publish("ersatzkarte", body=FEE_A, title="Ersatzkarte")
    later = publish("karte-verloren", body=FEE_B, title="Karte verloren",
                    valid_from=timezone.localdate() + dt.timedelta(days=1))

    # when the scan runs, for all articles or for the not-yet-valid one
    # then nothing is found: the not-yet-valid article is not served, so it contradicts nothing yet
    assert contradictions_scan() == []
    assert contradictions_scan([later.pk]) == []


def test_the_same_pair_valid_today_is_a_contradiction(publish):
    publish("ersatzkarte", body=FEE_A, title="Ersatzkarte")
    publish("karte-verloren", body=FEE_B, title="Karte verloren", valid_from=timezone.localdate())

    assert [(f.article.slug, f.other.slug) for f in contradictions_scan()] == [("ersatzkarte", "karte-verloren")]
