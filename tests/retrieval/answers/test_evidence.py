"""Evidence selection: days of the week, the asking sentence of a message, the confidence decision."""

from __future__ import annotations

import datetime as dt

import pytest

from retrieval.answers import evidence
from retrieval.text.numbers import normalise_days


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mo–Fr 8:00–20:00 Uhr, Sa 9:00–16:00 Uhr", "wdmo wdtu wdwe wdth wdfr wdwk 8:00–20:00 Uhr, wdsa 9:00–16:00 Uhr"),
        ("Mon–Fri 8:00–20:00, Sat 9:00–16:00", "wdmo wdtu wdwe wdth wdfr wdwk 8:00–20:00, wdsa 9:00–16:00"),
        ("Mo–Sa 8:00–22:00 Uhr", "wdmo wdtu wdwe wdth wdfr wdsa wdwk 8:00–22:00 Uhr"),
        ("Montag bis Freitag", "wdmo wdtu wdwe wdth wdfr wdwk"),
        ("bis wann kann ich samstags anrufen?", "bis wann kann ich wdsa anrufen?"),
        ("What time on weekdays?", "What time on wdwk?"),
        # abbreviations outside a schedule are words ("So erreichen Sie ...", "Do I ...")
        ("So erreichen Sie uns. Do I need a PIN?", "So erreichen Sie uns. Do I need a PIN?"),
    ],
)
def test_days_of_the_week_become_one_token_each(text, expected):
    assert normalise_days(text) == expected


@pytest.mark.django_db
def test_terms_of_the_story_around_the_question_count_half(monkeypatch):
    # given every term equally rare
    monkeypatch.setattr(evidence, "idf_weights", lambda terms: dict.fromkeys(terms, 2.0))
    # when a message tells a story and then asks
    weights = evidence._question_weights("Ich habe ein Handy bestellt. Wie lange dauert die Lieferung?", ["de"])["de"]
    # then the asking sentence's terms weigh fully, the story's half
    assert weights["liefer"] == 2.0
    assert weights["bestellt"] == 1.0
    assert weights["handy"] == 1.0


@pytest.mark.django_db
def test_a_single_question_weighs_all_its_terms_fully(monkeypatch):
    monkeypatch.setattr(evidence, "idf_weights", lambda terms: dict.fromkeys(terms, 2.0))
    weights = evidence._question_weights("Wie lange dauert die Lieferung, wenn ich ein Handy bestelle?", ["de"])["de"]
    assert set(weights.values()) == {2.0}


@pytest.mark.django_db
def test_opening_hours_by_weekday_are_covered(monkeypatch):
    monkeypatch.setattr(evidence, "idf_weights", lambda terms: dict.fromkeys(terms, 2.0))
    weights = evidence._question_weights("Bis wann seid ihr samstags erreichbar?", ["de"])
    row = "Erreichbarkeit: Mo–Fr 8:00–20:00 Uhr, Sa 9:00–16:00 Uhr"
    other = "Erreichbarkeit: rund um die Uhr"
    assert evidence._best_coverage(row, weights) > evidence._best_coverage(other, weights)


@pytest.mark.django_db
def test_a_prefixed_german_verb_covers_its_noun(monkeypatch):
    monkeypatch.setattr(evidence, "idf_weights", lambda terms: dict.fromkeys(terms, 2.0))
    weights = evidence._question_weights("Wie lange braucht ihr für die Antwort?", ["de"])
    answer = "Wir beantworten Ihren Antrag innerhalb von 1 Monat."
    unrelated = "Wir speichern Ihre Daten 6 Monate."
    assert evidence._best_coverage(answer, weights) > evidence._best_coverage(unrelated, weights)
    # short roots are never split off ("Vertrag" is not about "trag")
    assert evidence._root("vertrag", "de") == "vertrag"
    assert evidence._root("beantwort", "en") == "beantwort"


def test_an_article_is_named_by_its_title_or_the_main_part_of_it():
    titles = {1: "Router zurückgeben nach Vertragsende", 2: "Rufnummernmitnahme – Ihre Nummer mitnehmen", 3: "Tarif wechseln", 4: "Router"}

    assert evidence.referenced_articles("Frist und Ablauf stehen im Artikel „Router zurückgeben“.", titles) == {1}
    assert evidence.referenced_articles('See "Rufnummernmitnahme" for details.', titles) == {2}
    assert evidence.referenced_articles("Tippen Sie auf „Router“.", titles) == {4}
    # a single quoted word is a label or a button unless it is a whole title or the part before a dash
    assert evidence.referenced_articles("Wählen Sie „Tarif“ und dann „Ändern“.", titles) == set()
    assert evidence.referenced_articles("Router zurückgeben nach Vertragsende", titles) == set()  # not quoted


def _answered(api, question: str) -> dict:
    body = api.post("/api/v1/answer", {"question": question, "locale": "de"}, format="json").json()
    assert body["status"] == "answered", body
    return body


CANCEL_BODY = (
    "## Kündigungsfrist\n\nSie können mit einer Frist von 1 Monat zum Ende der Mindestlaufzeit kündigen.\n\n"
    "## Nach der Kündigung\n\n"
    "- Mietgeräte: Einen gemieteten Router müssen Sie nach dem Vertragsende zurückschicken. "
    "Frist und Ablauf stehen im Artikel „Router zurückgeben“.\n"
    "- Schlussrechnung: Nach Vertragsende erhalten Sie eine Schlussrechnung.\n"
)
ROUTER_BODY = (
    "## Frist\n\nBitte senden Sie Ihre Mietgeräte innerhalb von 30 Tagen nach Vertragsende an uns zurück.\n\n"
    "## Versand\n\nDas Rücksendeetikett finden Sie unter Mein Konto > Geräte."
)


def test_an_answer_follows_a_summary_to_the_article_it_names(publish, public_api):
    # given a summary that sends the reader to the article where the period is kept
    publish("vertrag-kuendigen", title="Vertrag kündigen", body=CANCEL_BODY)
    publish("router-zurueckgeben", title="Router zurückgeben nach Vertragsende", body=ROUTER_BODY)

    # when a customer asks for that period in the summary's words
    body = _answered(public_api, "Bis wann muss ich den gemieteten Router nach dem Vertragsende zurückschicken?")

    # then the answer comes from the named article, with its period
    assert {citation["slug"] for citation in body["citations"]} == {"router-zurueckgeben"}
    assert "30 Tagen" in body["answer"]


SHOP_BODY = (
    "## Übersicht\n\n"
    "| Filiale | Öffnungszeiten |\n|---|---|\n"
    "| Bahnhofstraße 12 | Mo–Fr 9:00–18:30 Uhr, Sa 10:00–14:00 Uhr |\n"
    "| Am Markt 3 | Mo–Fr 10:00–19:00 Uhr |\n\n"
    "## Wann ist wenig los?\n\n"
    "Wenn Sie samstags in die Filiale Bahnhofstraße kommen möchten: am wenigsten los ist dort samstags "
    "zwischen 10:00 und 11:00 Uhr.\n"
)


def test_a_table_row_stating_the_asked_fact_joins_the_best_sentence(publish, public_api):
    publish("filialen", title="Filialen und Öffnungszeiten", body=SHOP_BODY)

    body = _answered(public_api, "Bis wann hat die Filiale in der Bahnhofstraße samstags geöffnet?")

    assert "Sa 10:00–14:00 Uhr" in body["answer"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kunde seit 4 Jahren, er will 400 € Kulanz", (("year", 4.0), ("money", 400.0))),
        ("Die Anlage erzeugt 4.200 kWh", (("word:kwh", 4200.0),)),
        ("Der Kunde möchte 1.500 € in 6 Raten zahlen", (("money", 1500.0), ("word:raten", 6.0))),
        ("Mahngebühr (5,00 €), waive the €5 fee", (("money", 5.0), ("money", 5.0))),
        ("Auslandstarif 27,80 ct/Minute", (("money", 0.278),)),
        ("85-qm-Wohnung", (("word:qm", 85.0),)),
        # a date, a house number, an age: no quantity with a unit
        ("Am 20. ist mein Datenvolumen leer", ()),
        ("Hauptstraße 12 in Rosenheim", ()),
        ("Mein Sohn ist 19 und fährt mit", ()),
    ],
)
def test_quantities_are_read_with_their_unit(text, expected):
    assert evidence.quantities(text) == expected


def test_quantities_read_numbers_in_the_texts_language():
    assert evidence.quantities("1,200 minutes a month", "en") == (("minute", 1200.0),)
    assert evidence.quantities("1,5 Stunden", "de") == (("hour", 1.5),)


def test_a_unit_word_matches_the_head_of_a_compound():
    assert evidence.same_unit("word:raten", "word:monatsraten")
    assert not evidence.same_unit("word:monatsraten", "word:raten")
    assert not evidence.same_unit("money", "percent")


LIMITS_BODY = (
    "## Freigabegrenzen je Fall\n\n"
    "| Wer | Grenze |\n|---|---|\n"
    "| Agent im Kundenservice | bis 250 € |\n"
    "| Teamleitung | bis 1.000 € |\n"
    "| Abteilungsleitung | bis 5.000 € |\n\n"
    "## Voraussetzungen\n\n"
    "- Der Kunde ist seit mindestens 2 Jahren bei uns.\n"
    "- Höchstens eine Kulanzleistung je Kunde innerhalb von 24 Monaten.\n\n"
    "## Ohne Rücksprache\n\n"
    "- Eine Mahngebühr von 5,00 € einmal im Jahr erstatten.\n"
    "- Eine Selbstbeteiligung bis 150 € erlassen, wenn der Kunde seit mindestens 5 Jahren bei uns ist.\n"
)


def test_a_quantity_in_the_question_brings_the_limits_it_falls_between(publish, internal_api):
    # given a policy with a table of approval limits and other amounts
    publish("kulanz", title="Kulanzrichtlinie", body=LIMITS_BODY, audience="internal")

    # when an agent asks about an amount that none of the passages repeats
    body = _answered(internal_api, "Der Kunde will 400 € Kulanz. Darf ich das selbst freigeben?")

    # then the answer states the limits 400 € falls between, with who may approve them
    assert "bis 250 €" in body["answer"]
    assert "Teamleitung" in body["answer"] and "bis 1.000 €" in body["answer"]
    # and not the limits further away
    assert "5.000 €" not in body["answer"]


PUSH_TAN_BODY = (
    "Mit der Push-TAN geben Sie Überweisungen in der Banking-App frei.\n\n"
    "## Push-TAN aktivieren\n\n"
    "Die Push-TAN ist kostenlos. Sie aktivieren sie in der App unter Profil > Sicherheit > Push-TAN. "
    "Die Aktivierung dauert wenige Minuten.\n\n"
    "## Neues Smartphone\n\n"
    "1. Installieren Sie die Banking-App auf dem neuen Smartphone.\n"
    "2. Melden Sie sich mit Ihrer Kontonummer und Ihrer PIN an.\n"
    "3. Aktivieren Sie die Push-TAN erneut, damit Sie wieder Überweisungen freigeben können.\n"
)


def test_a_step_naming_another_section_is_carried_out_as_that_section_says(publish, public_api):
    # given a procedure whose step names a section of the same article by its heading
    publish("push-tan", title="Push-TAN in der Banking-App", body=PUSH_TAN_BODY)

    # when a customer asks what the step is about
    body = _answered(public_api, "Ich habe ein neues Smartphone. Wie kann ich wieder Überweisungen freigeben?")

    # then the answer also says how to do what the step names
    assert "Aktivieren Sie die Push-TAN erneut" in body["answer"]
    assert "Profil > Sicherheit > Push-TAN" in body["answer"]


RENTAL_BODY = (
    "## Rückgabe\n\nBitte bringen Sie das Leihrad innerhalb von 14 Tagen nach Mietende zu einer unserer Stationen.\n\n"
    "## Wenn das Rad nicht zurückkommt\n\n"
    "Erhalten wir das Rad nicht innerhalb von 14 Tagen nach Mietende, berechnen wir eine Ersatzpauschale:\n\n"
    "| Rad | Pauschale |\n|---|---|\n| E-Bike | 1.200,00 € |\n| Lastenrad | 1.800,00 € |\n\n"
    "Belegt Ihr Rückgabeschein, dass Sie das Rad rechtzeitig abgegeben haben, streichen wir die Pauschale wieder.\n"
)


def test_a_passage_referring_back_brings_what_it_refers_to(publish, public_api):
    # given a sentence that refers back ("die Pauschale") to a table introduced before it
    publish("leihrad", title="Leihrad zurückgeben", body=RENTAL_BODY)

    # when a customer's question is answered by that sentence
    body = _answered(public_api, "Mein Rückgabeschein belegt, dass ich das Rad rechtzeitig abgegeben habe. Streicht ihr sie dann?")

    # then the answer also states what the sentence refers to, with its table
    assert "streichen wir die Pauschale wieder" in body["answer"]
    assert "Ersatzpauschale" in body["answer"] and "1.200,00 €" in body["answer"]


def _passage(article, position, text, *, score, relevance, states=()):
    return evidence.Passage(
        chunk_id=position, version_id=1, article=article, position=0, quote=text, text=text, context=article.title,
        prior=1.0, unit=position, states=frozenset(states), relevance=relevance, score=score, section=f"section {position}",
    )


def test_a_passage_as_relevant_as_the_best_joins_it_without_the_asked_kind_of_fact():
    from kb.models import Article

    article = Article(pk=1, slug="gadget-cover", title="Gadget insurance", locale="en")
    # "Will you pay?" reads as asking for an amount: the passage stating one gets the kind bonus,
    # the row deciding the case (no amount) is as relevant by content but scores lower
    amount = _passage(article, 1, "The excess of your plan is deducted (Basic €50, Plus €0).", score=0.63, relevance=0.51,
                      states={"money"})
    deciding = _passage(article, 2, "On holiday abroad: only with the travel add-on.", score=0.42, relevance=0.50)
    unrelated = _passage(article, 3, "We send a courier for the repair.", score=0.30, relevance=0.30)

    best, chosen = evidence._compose([amount, deciding, unrelated], {"money"})

    assert best is amount
    assert deciding in chosen
    assert unrelated not in chosen


def test_a_table_row_reads_as_its_labelled_cells_a_row_code_with_its_label():
    table = (
        "| Stufe | Nachweis |\n|---|---|\n| B | drei Merkmale |\n| C | PIN und Zwei-Faktor-Code |\n\n"
        "| Gerät | Pauschale |\n|---|---|\n| Router | 89,00 € |\n"
    )

    texts = [passage.text for passage in evidence.split_passages(table)]

    assert texts == ["Stufe B; Nachweis: drei Merkmale", "Stufe C; Nachweis: PIN und Zwei-Faktor-Code", "Gerät: Router; Pauschale: 89,00 €"]


LIBRARY_BODY = (
    "## Leihfrist\n\nBücher, Zeitschriften und DVDs leihen Sie für 4 Wochen aus. Sie können die Leihfrist online bis zu "
    "zweimal verlängern, wenn niemand das Medium vorgemerkt hat.\n\n"
    "## Gebühren\n\nDer Bibliotheksausweis kostet 12 € im Jahr. Für jede angefangene Woche Verspätung berechnen wir "
    "1,00 € pro Medium.\n"
)
READING_SUMMER_BODY = "## Lesesommer\n\nIm Lesesommer leihen Kinder mit dem Code LESEZEIT24 alle Bücher 8 Wochen lang aus.\n"
STAFF_BODY = "## Magazinausleihe\n\nBücher aus dem Magazin geben Sie nur nach Rücksprache mit der Fachaufsicht heraus.\n"


def test_a_question_naming_what_only_hidden_articles_name_is_refused(publish, public_api, today):
    # given a library's loan rules, an expired offer with its code and an internal procedure
    publish("ausleihe", title="Ausleihe und Gebühren", body=LIBRARY_BODY)
    publish("lesesommer", title="Lesesommer für Kinder", body=READING_SUMMER_BODY,
            valid_from=today - dt.timedelta(days=120), valid_until=today - dt.timedelta(days=30))
    publish("magazin", title="Ausleihe aus dem Magazin", body=STAFF_BODY, audience="internal")

    # when a customer asks about what only the expired offer or the internal procedure names
    for question in ("Gilt die Leihfrist von 8 Wochen mit dem Code LESEZEIT24 auch noch für Bücher?",
                     "Wie lange ist die Leihfrist für Bücher aus dem Magazin?"):
        body = public_api.post("/api/v1/answer", {"question": question, "locale": "de"}, format="json").json()

        # then the visible loan rules do not answer it: it is refused (and recorded as a gap)
        assert body["status"] == "refused", body

    # while a name the visible articles use, or one in the story around the question, does not stop an answer
    body = _answered(public_api, "Meine Tochter hat drei DVDs ausgeliehen. Wie oft kann sie die Leihfrist verlängern?")
    assert "zweimal" in body["answer"]


def test_names_are_the_capitalised_words_inside_a_clause_and_codes():
    assert evidence.naming_words("Gilt meine Kfz-Versicherung auch, wenn ich nach Marokko fahre?") == ["Kfz", "Versicherung", "Marokko"]
    # the story around the asking sentence, sentence starts, days of the week and numbers are no names
    assert evidence.naming_words("Ich war am Montag da. Kann ich am Samstag mit Code SOMMER26 kommen?") == ["Code", "SOMMER26"]
