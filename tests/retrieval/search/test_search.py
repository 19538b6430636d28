"""search(): audience isolation, validity dates, result states and the atomic version switch."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from governance import services
from governance.models import Flag
from kb.models import Article, Space
from retrieval.models import Chunk, ChunkEmbedding, Posting
from retrieval.search.hybrid import search
from retrieval.search.query import SearchQuery
from tests.retrieval.helpers import live_version, run_search, slugs

MODES = ("keyword", "semantic", "hybrid")

RETURNS_DE = "Sie können Ware innerhalb von 30 Tagen zurücksenden. Das Rücksendeetikett finden Sie im Kundenkonto."
GOODWILL_DE = (
    "Interne Kulanzregel: Bei Rücksendungen nach Fristende dürfen Agenten bis 50 Euro Kulanz gewähren. "
    "Das Codewort lautet Zitronenfalter."
)
GOODWILL_EN = (
    "Internal goodwill rule: for late returns agents may grant up to 50 euros of goodwill. "
    "The codeword is lemon butterfly."
)


@pytest.fixture
def returns_kb(publish):
    """One public article and two internal ones (German and English, neither translated to public)."""
    return {
        "ruecksendung": publish("ruecksendung", body=RETURNS_DE, title="Rücksendung"),
        "kulanz-intern": publish("kulanz-intern", body=GOODWILL_DE, title="Kulanz bei Rücksendungen",
                                 audience=Article.Audience.INTERNAL),
        "goodwill-internal": publish("goodwill-internal", body=GOODWILL_EN, title="Goodwill for late returns",
                                     audience=Article.Audience.INTERNAL, locale="en"),
    }


INTERNAL = {"kulanz-intern", "goodwill-internal"}


# --- audience isolation ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_public_search_quoting_internal_text_verbatim_never_returns_it(returns_kb, mode):
    quote = "Bei Rücksendungen nach Fristende dürfen Agenten bis 50 Euro Kulanz gewähren. Das Codewort lautet Zitronenfalter."

    results = run_search(quote, audiences=("public",), mode=mode, locale="de")

    assert slugs(results) == ["ruecksendung"]
    assert all("Zitronenfalter" not in result.snippet for result in results)
    assert all(chunk.article_id == returns_kb["ruecksendung"].pk for result in results for chunk in result.chunks)


@pytest.mark.parametrize("mode", MODES)
def test_internal_audience_finds_the_quoted_internal_article_first(returns_kb, mode):
    quote = "Bei Rücksendungen nach Fristende dürfen Agenten bis 50 Euro Kulanz gewähren. Das Codewort lautet Zitronenfalter."

    results = run_search(quote, audiences=("public", "internal"), mode=mode, locale="de")

    assert slugs(results)[0] == "kulanz-intern"
    assert "Zitronenfalter" in results[0].snippet


@pytest.mark.parametrize("locale", ["de", "en", "fr", None])
@pytest.mark.parametrize("mode", MODES)
def test_public_search_in_any_locale_never_falls_back_to_internal_articles(returns_kb, mode, locale):
    for text in ("goodwill for late returns lemon butterfly", "Kulanz Zitronenfalter nach Fristende"):
        public = slugs(run_search(text, audiences=("public",), mode=mode, locale=locale))
        if mode == "keyword":
            assert set(public) <= {"ruecksendung"}, text
        else:  # vector search always has a nearest public neighbour, and only that one
            assert public == ["ruecksendung"], text
        internal = slugs(run_search(text, audiences=("public", "internal"), mode=mode, locale=locale))
        assert set(internal) & INTERNAL, (text, internal)


def test_internal_translation_of_a_public_article_is_never_chosen_for_a_public_key(publish):
    # given a public German article whose English translation is internal
    original = publish("versandkosten", body="Die Versandkosten betragen 4,95 Euro, ab 50 Euro Bestellwert versandkostenfrei.",
                       title="Versandkosten")
    publish("shipping-costs-internal", locale="en", audience=Article.Audience.INTERNAL, translation_of=original,
            title="Shipping costs", body="Shipping costs are 4.95 euros; free shipping from 50 euros. Internal: waive on request.")
    query = "Versandkosten shipping costs 4,95 euros"

    for mode in MODES:
        # when a public client asks in English, it gets the public German original, never the internal translation
        assert slugs(run_search(query, audiences=("public",), mode=mode, locale="en")) == ["versandkosten"]
        # and an internal client gets the English translation in place of the original (one per translation group)
        assert slugs(run_search(query, audiences=("public", "internal"), mode=mode, locale="en")) == ["shipping-costs-internal"]
        assert slugs(run_search(query, audiences=("public", "internal"), mode=mode, locale="de")) == ["versandkosten"]


def test_internal_original_with_a_public_translation_serves_only_the_translation_to_public(publish):
    # given an internal German original and its public English translation
    original = publish("retouren-intern", audience=Article.Audience.INTERNAL, title="Retouren intern",
                       body="Retourenlabel: intern über das Lagerportal erzeugen, Zugangscode Kolibri.")
    publish("returns-label", locale="en", translation_of=original, title="Return label",
            body="Retourenlabel: print the return label from your customer account.")

    for mode in MODES:
        assert slugs(run_search("Retourenlabel Kolibri", audiences=("public",), mode=mode, locale="de")) == ["returns-label"]
        assert slugs(run_search("Retourenlabel Kolibri", audiences=("public", "internal"), mode=mode, locale="de")) == ["retouren-intern"]


@pytest.mark.parametrize("mode", MODES)
def test_filters_never_open_internal_articles_to_public(publish, mode):
    # given a public and an internal runbook in the same space with the same tag
    ops = Space.objects.create(slug="betrieb", name="Betrieb")
    publish("stoerung-public", space=ops, kind=Article.Kind.RUNBOOK, tags=["stoerung"],
            body="Bei einer Störung der Zahlungsseite bitten Sie Kunden, es später erneut zu versuchen.")
    publish("stoerung-intern", space=ops, kind=Article.Kind.RUNBOOK, tags=["stoerung"], audience=Article.Audience.INTERNAL,
            body="Bei einer Störung der Zahlungsseite den Bereitschaftsdienst unter Durchwahl 4711 anrufen.")
    publish("kuendigung-policy", space=ops, kind=Article.Kind.POLICY, tags=["stoerung"], audience=Article.Audience.INTERNAL,
            body="Bei einer Störung länger als 24 Stunden gilt ein Sonderkündigungsrecht (intern).")
    query = "Störung der Zahlungsseite Durchwahl 4711"

    # then every filter combination gives public clients the public runbook only
    for filters in ({"spaces": ("betrieb",)}, {"kinds": ("runbook",)}, {"tags": ("stoerung",)},
                    {"spaces": ("betrieb",), "kinds": ("runbook",), "tags": ("stoerung",)}):
        assert slugs(run_search(query, audiences=("public",), mode=mode, **filters)) == ["stoerung-public"], filters
    for kinds in (("policy",), ("macro",), ("policy", "macro")):
        assert slugs(run_search(query, audiences=("public",), mode=mode, kinds=kinds)) == []
    # and internal clients see the internal ones through the same filters
    assert set(slugs(run_search(query, audiences=("public", "internal"), mode=mode, kinds=("runbook",)))) == {
        "stoerung-public", "stoerung-intern"}
    assert slugs(run_search(query, audiences=("public", "internal"), mode=mode, kinds=("policy",))) == ["kuendigung-policy"]


def test_filters_restrict_results(publish):
    other = Space.objects.create(slug="zahlung", name="Zahlung")
    publish("rechnung-kauf", space=other, kind=Article.Kind.MACRO, tags=["rechnung"], body="Kauf auf Rechnung: Zahlungsziel 14 Tage.")
    publish("rechnung-korrektur", tags=["rechnung", "korrektur"], body="Eine Rechnung korrigieren wir innerhalb von 5 Tagen.")

    assert slugs(run_search("Rechnung", mode="keyword", spaces=("zahlung",))) == ["rechnung-kauf"]
    assert slugs(run_search("Rechnung", mode="keyword", spaces=("vertrag",))) == ["rechnung-korrektur"]
    assert slugs(run_search("Rechnung", mode="keyword", kinds=("macro",))) == ["rechnung-kauf"]
    assert slugs(run_search("Rechnung", mode="keyword", tags=("korrektur",))) == ["rechnung-korrektur"]
    assert sorted(slugs(run_search("Rechnung", mode="keyword", tags=("rechnung",)))) == ["rechnung-kauf", "rechnung-korrektur"]
    assert slugs(run_search("Rechnung", mode="keyword", tags=("unbekannt",))) == []


def test_changing_an_article_to_internal_removes_it_from_public_search_at_once(publish, author):
    article = publish("tarif-hinweis", body="Der Tarif Flex kann monatlich gekündigt werden.")
    assert slugs(run_search("Tarif Flex monatlich", mode="semantic")) == ["tarif-hinweis"]

    services.article_update_settings(actor=author, article=article, audience=Article.Audience.INTERNAL)

    for mode in MODES:
        assert slugs(run_search("Tarif Flex monatlich", mode=mode)) == []
        assert slugs(run_search("Tarif Flex monatlich", audiences=("public", "internal"), mode=mode)) == ["tarif-hinweis"]
    assert set(ChunkEmbedding.objects.filter(chunk__article=article).values_list("audience", flat=True)) == {"internal"}


# --- validity ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_expired_article_is_not_served_from_its_valid_until_date(publish, today, mode):
    publish("aktion-sommer", body="Sommeraktion: 20 Prozent Rabatt auf Zubehör.", valid_until=today)
    publish("aktion-dauer", body="Daueraktion: 5 Prozent Rabatt auf Zubehör.")

    assert slugs(run_search("Rabatt auf Zubehör", mode=mode)) == ["aktion-dauer"]
    assert slugs(run_search("Rabatt auf Zubehör", mode=mode, today=today + dt.timedelta(days=30))) == ["aktion-dauer"]
    assert sorted(slugs(run_search("Rabatt auf Zubehör", mode=mode, today=today - dt.timedelta(days=1)))) == [
        "aktion-dauer", "aktion-sommer"]


@pytest.mark.parametrize("mode", MODES)
def test_not_yet_valid_article_is_served_from_its_valid_from_date(publish, today, mode):
    starts = today + dt.timedelta(days=3)
    publish("preise-2027", body="Neue Preise: die Grundgebühr beträgt 12 Euro.", valid_from=starts)

    assert slugs(run_search("Grundgebühr", mode=mode)) == []
    assert slugs(run_search("Grundgebühr", mode=mode, today=starts - dt.timedelta(days=1))) == []
    assert slugs(run_search("Grundgebühr", mode=mode, today=starts)) == ["preise-2027"]
    assert slugs(run_search("Grundgebühr", mode=mode, today=starts + dt.timedelta(days=365))) == ["preise-2027"]


def test_validity_window_is_half_open(publish, today):
    start, end = today + dt.timedelta(days=10), today + dt.timedelta(days=20)
    publish("winteraktion", body="Winteraktion: kostenloser Versand für Mützen.", valid_from=start, valid_until=end)

    served = {day: slugs(run_search("kostenloser Versand Mützen", mode="keyword", today=day)) == ["winteraktion"]
              for day in (start - dt.timedelta(days=1), start, end - dt.timedelta(days=1), end)}

    assert list(served.values()) == [False, True, True, False]


# --- result states -----------------------------------------------------------------------------


def test_state_reports_open_flags_and_due_reviews(publish):
    for slug in ("kasse-a", "kasse-b", "kasse-c", "kasse-d", "kasse-e"):
        publish(slug, body=f"Kassenbon {slug}: Belege werden zehn Jahre aufbewahrt.")
    flagged, drift, due, both = (Article.objects.get(slug=s) for s in ("kasse-a", "kasse-b", "kasse-c", "kasse-d"))
    services.flag_raise(article=flagged, reason=Flag.Reason.CHANGE_EVENT, summary="Aufbewahrungsfrist ändert sich.")
    services.flag_raise(article=drift, reason=Flag.Reason.TRANSLATION_DRIFT, summary="Englische Fassung veraltet.")
    Article.objects.filter(pk=due.pk).update(review_due_at=due.review_due_at - dt.timedelta(days=400))
    services.flag_raise(article=both, reason=Flag.Reason.TRANSLATION_DRIFT, summary="veraltet")
    Article.objects.filter(pk=both.pk).update(review_due_at=both.review_due_at - dt.timedelta(days=400))

    states = {result.article.slug: result.state for result in run_search("Kassenbon Belege aufbewahrt", mode="keyword")}

    assert states == {"kasse-a": "flagged", "kasse-b": "out_of_sync", "kasse-c": "review_due", "kasse-d": "out_of_sync",
                      "kasse-e": "current"}


def test_resolved_flags_no_longer_change_the_state(publish, author):
    article = publish("kasse-f", body="Kassenbon: Belege werden zehn Jahre aufbewahrt.")
    flag = services.flag_raise(article=article, reason=Flag.Reason.CHANGE_EVENT, summary="Frist ändert sich.")
    assert [r.state for r in run_search("Kassenbon", mode="keyword")] == ["flagged"]

    services.flag_dismiss(actor=author, flag=flag, reason="Betrifft diesen Artikel nicht.")

    assert [r.state for r in run_search("Kassenbon", mode="keyword")] == ["current"]


# --- the atomic switch on publish --------------------------------------------------------------

V1 = "Die Bearbeitungsgebühr für eine Rücklastschrift beträgt 4,95 Euro. Kunden erhalten eine Mahnung."
V2 = "Die Bearbeitungsgebühr für eine Rücklastschrift beträgt 7,50 Euro. Kunden erhalten eine Zahlungserinnerung."


def _indexed(chunk_ids) -> tuple[int, int, int]:
    """(indexed chunks, postings, embeddings) of these chunks."""
    return (
        Chunk.objects.filter(pk__in=chunk_ids, is_indexed=True).count(),
        Posting.objects.filter(chunk_id__in=chunk_ids).count(),
        ChunkEmbedding.objects.filter(chunk_id__in=chunk_ids).count(),
    )


def test_approving_a_new_version_swaps_the_served_text_atomically(publish, revise, approver):
    # given version 1 is live and version 2 is in review
    article = publish("ruecklastschrift", body=V1, title="Rücklastschrift")
    v1_chunks = list(Chunk.objects.filter(version=article.live_version).values_list("pk", flat=True))
    review = revise(article, body=V2)
    v2 = review.version

    # then, before the approval, only version 1 is served, in every mode
    for mode in MODES:
        results = run_search("Bearbeitungsgebühr Rücklastschrift", mode=mode)
        assert [(r.article.slug, r.version_number) for r in results] == [("ruecklastschrift", 1)]
        assert "4,95" in results[0].snippet and "7,50" not in results[0].snippet
    assert Chunk.objects.filter(version=v2).count() == 0
    assert _indexed(v1_chunks) == (len(v1_chunks), Posting.objects.count(), len(v1_chunks))

    # when version 2 is approved
    services.version_approve(actor=approver, review=review)

    # then only version 2 is served, and the chunks of version 1 stay (for old citations) without postings or vectors
    assert live_version(article).pk == v2.pk
    for mode in MODES:
        results = run_search("Bearbeitungsgebühr Rücklastschrift", mode=mode)
        assert [(r.article.slug, r.version_number) for r in results] == [("ruecklastschrift", 2)]
        assert "7,50" in results[0].snippet and "4,95" not in results[0].snippet
        assert {chunk.version_id for chunk in results[0].chunks} == {v2.pk}
    assert slugs(run_search("4,95 Mahnung", mode="keyword")) == []
    assert slugs(run_search("7,50 Zahlungserinnerung", mode="keyword")) == ["ruecklastschrift"]
    v2_chunks = list(Chunk.objects.filter(version=v2).values_list("pk", flat=True))
    assert Chunk.objects.filter(pk__in=v1_chunks).count() == len(v1_chunks)
    assert _indexed(v1_chunks) == (0, 0, 0)
    assert _indexed(v2_chunks) == (len(v2_chunks), Posting.objects.count(), len(v2_chunks))
    assert ChunkEmbedding.objects.count() == len(v2_chunks)


def test_a_version_sent_back_for_changes_never_becomes_searchable(publish, revise, approver):
    article = publish("ruecklastschrift", body=V1, title="Rücklastschrift")
    review = revise(article, body=V2)

    services.version_request_changes(actor=approver, review=review, comment="Betrag prüfen.")

    results = run_search("Bearbeitungsgebühr Rücklastschrift", mode="hybrid")
    assert [(r.article.slug, r.version_number) for r in results] == [("ruecklastschrift", 1)]
    assert slugs(run_search("7,50 Zahlungserinnerung", mode="keyword")) == []
    assert Chunk.objects.filter(version=review.version).count() == 0


def test_unpublished_draft_is_never_searchable(make_article):
    make_article("entwurf", body="Entwurf: Sonderkündigung bei Umzug ins Ausland.")

    for mode in MODES:
        assert run_search("Sonderkündigung Umzug Ausland", audiences=("public", "internal"), mode=mode) == []
    assert Chunk.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_searches_see_exactly_one_version_while_a_new_one_is_published(publish, revise, approver):
    # given version 1 live and version 2 in review, with a term present in both
    article = publish("ruecklastschrift", body=V1, title="Rücklastschrift")
    review = revise(article, body=V2)
    seen: list[list[tuple[str, int]]] = []
    errors: list[BaseException] = []
    warmed_up, approved = threading.Event(), threading.Event()

    def searcher() -> None:
        try:
            for iteration in range(100):
                if iteration == 10:
                    warmed_up.set()
                if iteration == 60:
                    approved.wait(timeout=60)  # the last 40 searches start after the approval committed
                results = search(SearchQuery(text="Bearbeitungsgebühr Rücklastschrift", audiences=("public",)))
                seen.append([(r.article.slug, r.version_number) for r in results])
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            warmed_up.set()
            connection.close()

    thread = threading.Thread(target=searcher)
    thread.start()

    # when version 2 is approved while the searches run
    warmed_up.wait(timeout=60)
    services.version_approve(actor=approver, review=review)
    approved.set()
    thread.join(timeout=120)

    # then every single result set has the article exactly once, in version 1 or 2, never going back
    assert not thread.is_alive()
    assert errors == []
    assert len(seen) == 100
    versions = []
    for results in seen:
        assert len(results) == 1 and results[0][0] == "ruecklastschrift", results
        versions.append(results[0][1])
    assert set(versions) <= {1, 2}
    assert versions[:10] == [1] * 10
    assert versions[60:] == [2] * 40
    assert versions == sorted(versions)


class _PublishingEmbedder:
    """The real embedder, but embedding the query publishes a new version from another connection.

    This puts a committed publish exactly between search's keyword query and its vector query.
    """

    def __init__(self, inner, publish_now):
        self._inner, self._publish_now = inner, publish_now
        self.key, self.dimension = inner.key, inner.dimension

    def embed_documents(self, texts):
        return self._inner.embed_documents(texts)

    def embed_query(self, text):
        if self._publish_now:
            publish_now, self._publish_now = self._publish_now, None
            thread = threading.Thread(target=publish_now)
            thread.start()
            thread.join(timeout=60)
        return self._inner.embed_query(text)


@pytest.mark.django_db(transaction=True)
def test_a_publish_between_the_keyword_and_the_vector_query_never_mixes_versions(publish, revise, approver):
    from retrieval.index.embeddings import active_embedder

    article = publish("ruecklastschrift", body=V1, title="Rücklastschrift")
    review = revise(article, body=V2)

    def approve_elsewhere() -> None:
        try:
            services.version_approve(actor=approver, review=review)
        finally:
            connection.close()

    embedder = _PublishingEmbedder(active_embedder(), approve_elsewhere)
    results = search(SearchQuery(text="Bearbeitungsgebühr Rücklastschrift", audiences=("public",)), embedder=embedder)

    assert live_version(article).pk == review.version_id  # the publish did commit mid-search
    assert len(results) == 1
    served = live_version(article) if results[0].version_number == 2 else Article.objects.get(pk=article.pk).versions.get(number=1)
    assert {chunk.version_id for chunk in results[0].chunks} == {served.pk}


@pytest.mark.django_db(transaction=True)
def test_content_published_after_a_search_on_an_empty_index_is_found_by_keyword_at_once(publish):
    assert run_search("Bearbeitungsgebühr Rücklastschrift", mode="keyword") == []

    publish("ruecklastschrift", body=V1, title="Rücklastschrift")

    assert slugs(run_search("Bearbeitungsgebühr Rücklastschrift", mode="keyword")) == ["ruecklastschrift"]


# --- snippets from the readable text stored at indexing ------------------------------------------


def test_indexing_stores_each_chunk_as_the_reader_sees_it(publish):
    article = publish("versand", title="Versand", body="## Kosten\n\n| Land | Preis |\n|---|---|\n| **Schweiz** | 9,90 € |")

    readable = Chunk.objects.filter(article=article).values_list("readable", flat=True)

    assert readable and all(text for text in readable)
    assert all(mark not in text for text in readable for mark in ("##", "**", "|"))
    assert any("Schweiz 9,90 €" in text for text in readable)


def test_a_chunk_without_a_stored_readable_text_still_gets_a_rendered_snippet(publish):
    publish("versand", title="Versand", body="Der Versand in die **Schweiz** kostet 9,90 €.")
    Chunk.objects.update(readable="")  # e.g. rows written before the column existed

    [result] = run_search("Versand Schweiz", audiences=("public",), mode="keyword", locale="de")

    assert "Schweiz" in result.snippet and "**" not in result.snippet


def test_the_migration_fills_the_readable_text_of_existing_chunks(publish):
    from importlib import import_module

    from django.apps import apps

    publish("versand", title="Versand", body="Der Versand in die **Schweiz** kostet 9,90 €.")
    Chunk.objects.update(readable="")

    import_module("retrieval.migrations.0015_chunk_readable").fill_readable(apps, None)

    assert all("**" not in text and "Schweiz" in text for text in Chunk.objects.values_list("readable", flat=True))
