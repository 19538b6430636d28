"""Change impact and contradictions: fact extraction, flags with reasons and evidence, idempotence."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.models import ChangeEvent, Flag
from governance.services import change_event_create
from retrieval.impact import assessment as impact
from retrieval.impact.assessment import assess_change, change_event_run, change_statements
from retrieval.impact.contradictions import contradictions_flag, contradictions_scan
from retrieval.text.facts import comparable_values, extract_facts, same_value

# --- fact extraction ----------------------------------------------------------------------------


def only(text: str, locale: str = "de", kind: str | None = None):
    facts = [f for f in extract_facts(text, locale) if kind is None or f.type == kind]
    assert len(facts) == 1, facts
    return facts[0]


@pytest.mark.parametrize(("text", "locale", "days"), [
    ("Die Frist beträgt 14 Tage.", "de", 14),
    ("Sie haben 30 Tagen Zeit.", "de", 30),
    ("innerhalb von einem Tag", "de", 1),
    ("The period is 10 days.", "en", 10),
    ("Das dauert 2 Wochen.", "de", 14),
    ("locked for 60 minutes", "en", 60 / 1440),
    ("für 24 Stunden gesperrt", "de", 1),
])
def test_durations_in_both_languages_with_inflections(text, locale, days):
    fact = only(text, locale, "duration")
    assert fact.unit == "duration"
    assert fact.value[0] == pytest.approx(days) and fact.value[2] == "time"


def test_duration_ranges_working_days_and_months():
    assert only("kommt in 2 bis 3 Werktagen", kind="duration").value == (2, 3, "workday")
    assert only("with 1 month's notice", "en", "duration").value == (1, 1, "month")
    assert not same_value(only("in 10 Werktagen", kind="duration"), only("in 10 Tagen", kind="duration"))
    assert same_value(only("nach 1 Monat", kind="duration"), only("nach 30 Tagen", kind="duration"))  # 10 % tolerance


@pytest.mark.parametrize("text,locale", [
    ("Die Karte kostet 9,95 €.", "de"), ("Die Karte kostet 9,95 EUR.", "de"), ("Die Karte kostet 9,95 Euro.", "de"),
    ("The card costs €9.95.", "en"), ("The card costs EUR 9.95.", "en"), ("Die Karte kostet € 9,95.", "de"),
])
def test_amounts_are_equal_in_german_and_english_notation(text, locale):
    fact = only(text, locale, "money")
    assert fact.value == (9.95,) and fact.unit == "money:EUR"


def test_amount_thousands_cents_rates_and_free():
    assert only("Gebühr 1.500 €", kind="money").value == only("fee €1,500", "en", "money").value == (1500.0,)
    assert only("Preis 1.500,50 €", kind="money").value == (1500.5,)
    assert only("pauschal 65,– €", kind="money").value == (65.0,)
    per_minute = only("9 Cent pro Minute in alle Netze", kind="money")
    assert per_minute.value == (0.09,) and per_minute.unit == "money:EUR/minute"
    assert only("€0.29 per MB", "en", "money").unit == only("0,29 € pro MB", kind="money").unit == "money:EUR/mb"
    assert only("13,50 € monatlich", kind="money").unit == "money:EUR/month"
    assert only("Die Sperre ist kostenlos.", kind="money").value == (0.0,)


def test_percentages():
    assert only("15 % Rabatt", kind="percent").value == only("15 Prozent Rabatt", kind="percent").value
    assert only("a 15 percent discount", "en", "percent").value == (15.0,)


@pytest.mark.parametrize("text,locale,value", [
    ("erreichbar von 8:00–20:00 Uhr", "de", (480, 1200)),
    ("erreichbar von 7 bis 21 Uhr", "de", (420, 1260)),
    ("zwischen 6:00 und 12:00 Uhr", "de", (360, 720)),
    ("open 9am-5pm", "en", (540, 1020)),
    ("bis 14:00 Uhr bestellt", "de", (840,)),
    ("rund um die Uhr erreichbar", "de", (0, 1440)),
])
def test_times_of_day_and_ranges(text, locale, value):
    assert only(text, locale, "clock").value == value


def test_time_ranges_carry_their_weekdays():
    mo_fr, sa = [f for f in extract_facts("Hotline: Mo–Fr 8:00–20:00 Uhr, Sa 9:00–16:00 Uhr") if f.type == "clock"]
    assert mo_fr.qualifier == frozenset(range(5)) and sa.qualifier == frozenset({5})
    weekdays = only("montags bis freitags von 7:00 bis 21:00 Uhr", kind="clock")
    assert weekdays.comparable(mo_fr) and not weekdays.comparable(sa)


def test_counts_and_quantities_keep_what_they_count_as_subject():
    customers = only("ab 250 betroffenen Kunden", kind="count")
    assert customers.value == (250.0,) and customers.text == "250 betroffenen Kunden" and "kund" in customers.subject
    assert only("includes 3 GB of data", "en", "quantity").value == only("mit 3.000 MB", kind="quantity").value
    assert only("150 Minuten ins Ausland", kind="duration").value[0] == pytest.approx(150 / 1440)
    assert not extract_facts("Postfach 80 12 34, 80912 Musterstadt")  # neither a count nor a date


@pytest.mark.parametrize("text,locale", [
    ("ab 1. März 2027", "de"), ("ab dem 01.03.2027", "de"), ("from 2027-03-01", "en"), ("from 1 March 2027", "en"),
    ("from March 1, 2027", "en"),
])
def test_dates_in_all_notations(text, locale):
    assert only(text, locale, "date").value == (2027, 3, 1)


def test_dates_without_year_and_days_of_the_month():
    assert only("Ablesung ab 15.12.", kind="date").value == (0, 12, 15)
    assert only("fällig am 15. des Monats", kind="day_of_month").value == (15,)
    assert only("due on the 15th of each month", "en", "day_of_month").value == (15,)


@pytest.mark.parametrize("text,locale,times", [
    ("einmal pro Monat", "de", 1), ("once a month", "en", 1), ("zweimal pro Kalendermonat", "de", 2),
    ("twice a month", "en", 2), ("zwei Buchungen pro Monat", "de", 2), ("3-mal im Monat", "de", 3),
])
def test_frequency_words(text, locale, times):
    fact = only(text, locale, "frequency")
    assert same_value(fact, only(f"{times} times a month", "en", "frequency"))


def test_menu_paths_lose_leading_verbs_and_trailing_particles():
    path = only("Öffnen Sie Mein Konto > Vertrag > Tarif wechseln.", kind="path")
    assert path.value[1:] == ("vertrag", "tarif wechseln")
    german, english = extract_facts("unter Mein Konto > Vertrag > Tarif wechseln (Contract > Change plan)")
    assert same_value(path, german) and english.value == ("contract", "change plan")
    assert only("Sie richten sie unter Mein Konto > Sperren > Drittanbieter ein.", kind="path").value[-1] == "drittanbieter"


def test_phone_numbers_and_extensions_are_identifiers():
    assert only("Hotline +49 89 2222 3600", kind="identifier").value == only("Hotline 089 2222 3600", kind="identifier").value
    assert only("unter Durchwahl 4711 erreichbar", kind="identifier").unit == "extension"


def test_subject_terms_leave_out_the_fact_and_stop_words():
    fact = only("Die Rückgabefrist beträgt 14 Tage ab Erhalt der Ware.", kind="duration")
    assert {"ruckgabefrist", "erhalt", "war"} <= fact.subject
    assert not {"14", "tag", "die", "der"} & fact.subject


def test_values_of_another_order_of_magnitude_are_not_compared():
    assert not comparable_values(only("7 Tage gültig", kind="duration"), only("5 Minuten gültig", kind="duration"))
    assert comparable_values(only("14 Tage", kind="duration"), only("30 Tage", kind="duration"))
    assert comparable_values(only("ist kostenlos", kind="money"), only("kostet 9,95 €", kind="money"))


# --- change statements --------------------------------------------------------------------------


def test_unchanged_clauses_are_set_apart_in_both_languages():
    statements = change_statements(
        "Neue Frist",
        "Ab 1. Januar 2027 gilt eine Frist von 30 Tagen, weiterhin auch für Zubehör. Die Erstattung bleibt unverändert. "
        "Access is now locked for 60 minutes; resetting the password still lifts the lock. "
        "Künftig bleibt der Zugang 60 Minuten gesperrt.",
        dt.date(2027, 1, 1),
    )
    kinds = {s.text: s.unchanged for s in statements}
    assert kinds["Ab 1. Januar 2027 gilt eine Frist von 30 Tagen"] is False
    assert kinds["weiterhin auch für Zubehör."] is True
    assert kinds["Die Erstattung bleibt unverändert."] is True
    assert kinds["resetting the password still lifts the lock."] is True
    assert kinds["Künftig bleibt der Zugang 60 Minuten gesperrt."] is False  # new from now on despite "bleibt"
    assert not any(f.type == "date" for s in statements for f in s.facts)  # the effective date is when, not what


def test_old_values_of_a_change_are_recognised():
    (statement,) = [s for s in change_statements("Gebühr", "Die Gebühr sinkt ab 1. Januar 2027 von 4,50 € auf 3,00 €.",
                                                 dt.date(2027, 1, 1)) if s.facts and s.context]
    old, new = statement.facts
    assert statement.is_old(old) and not statement.is_old(new)


# --- a small knowledge base, published through the services -------------------------------------

RETURNS = (
    "# Rückgabe im Online-Shop\n\n"
    "Gekaufte Ware können Sie bequem zurückschicken.\n\n"
    "## Rückgabefrist\n\n"
    "Die Rückgabefrist beträgt 14 Tage ab Erhalt der Ware. Maßgeblich ist das Zustelldatum der Sendung.\n\n"
    "## Erstattung\n\n"
    "Wir erstatten den Kaufpreis innerhalb von 10 Tagen nach Eingang der Rücksendung in unserem Lager."
)
RETURNS_EN = (
    "# Returns in the online shop\n\n"
    "You can easily send back goods you bought.\n\n"
    "## Return period\n\n"
    "The return period is 14 days from receipt of the goods. What counts is the delivery date of the parcel.\n\n"
    "## Refund\n\n"
    "We refund the purchase price within 10 days of the return arriving at our warehouse."
)
CONTRACT = (
    "# Vertrag widerrufen\n\n"
    "Einen online abgeschlossenen Vertrag können Sie innerhalb von 14 Tagen nach Vertragsschluss ohne Angabe von "
    "Gründen widerrufen. Der Vertrag wird dann rückabgewickelt.\n\n"
    "## Kündigung\n\n"
    "Nach der Mindestlaufzeit können Sie jederzeit mit einer Frist von 1 Monat kündigen."
)
SHIPPING = (
    "# Versand\n\n"
    "| Versandart | Preis |\n|---|---|\n| Standard | 4,95 € |\n| Express | 9,95 € |\n\n"
    "Die Lieferung dauert in der Regel 2 Werktage."
)
RETURN_CHANGE = (
    "Ab dem 1. Januar 2027 verlängern wir die Rückgabefrist für Ware aus dem Online-Shop auf 30 Tage ab Erhalt der Ware. "
    "Die Erstattung innerhalb von 10 Tagen nach Eingang der Rücksendung bleibt unverändert. "
    "Das gesetzliche Widerrufsrecht für Verträge ist davon nicht betroffen."
)


@pytest.fixture
def shop_kb(publish):
    returns = publish("rueckgabe", body=RETURNS, title="Rückgabe im Online-Shop")
    return {
        "rueckgabe": returns,
        "returns": publish("returns", body=RETURNS_EN, title="Returns in the online shop", locale="en",
                           translation_of=returns),
        "vertrag-widerrufen": publish("vertrag-widerrufen", body=CONTRACT, title="Vertrag widerrufen"),
        "versand": publish("versand", body=SHIPPING, title="Versand"),
    }


def announce(title: str, description: str, effective: str = "2027-01-01") -> ChangeEvent:
    return change_event_create(kind="policy", title=title, description=description,
                               effective_date=dt.date.fromisoformat(effective), assess=False)


def flagged(event: ChangeEvent) -> dict[str, Flag]:
    return {flag.article.slug: flag for flag in Flag.objects.filter(change_event=event).select_related("article")}


def test_a_change_flags_the_article_and_its_translation_but_not_a_neighbour(shop_kb):
    event = announce("Längere Rückgabefrist im Online-Shop", RETURN_CHANGE)
    findings = assess_change(event)
    assert [f.article.slug for f in findings] == ["rueckgabe"]  # judged in the change's language
    assert change_event_run(event.pk) == 2
    flags = flagged(event)
    assert set(flags) == {"rueckgabe", "returns"}
    # each flag in its article's language: the English translation's reason is English, quoting the values
    assert flags["returns"].summary == ("Translation of “rueckgabe” (de), which this change affects: states 14 Tage; "
                                        "the change sets 30 Tage from 2027-01-01")
    event.refresh_from_db()
    assert event.status == ChangeEvent.Status.DONE and event.assessment_ms is not None


def test_the_reason_names_old_value_new_value_and_date_and_the_evidence_is_the_sentence(shop_kb):
    (finding,) = assess_change(announce("Längere Rückgabefrist im Online-Shop", RETURN_CHANGE))
    assert "14 Tage" in finding.reason and "30 Tage" in finding.reason and "2027-01-01" in finding.reason
    assert finding.evidence == "Die Rückgabefrist beträgt 14 Tage ab Erhalt der Ware."
    assert finding.evidence in shop_kb["rueckgabe"].live_version.body
    assert 0.5 <= finding.score <= 1.0


def test_running_a_change_twice_raises_no_duplicate_flags(shop_kb):
    event = announce("Längere Rückgabefrist im Online-Shop", RETURN_CHANGE)
    change_event_run(event.pk)
    assert change_event_run(event.pk) == 0
    assert Flag.objects.filter(change_event=event).count() == 2


def test_a_failing_assessment_marks_the_event_failed_and_re_raises(shop_kb, monkeypatch):
    def broken(event):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(impact, "assess_change", broken)
    event = announce("Längere Rückgabefrist im Online-Shop", RETURN_CHANGE)
    with pytest.raises(RuntimeError):
        change_event_run(event.pk)
    event.refresh_from_db()
    assert event.status == ChangeEvent.Status.FAILED and "index unavailable" in event.error


def test_a_value_the_change_states_again_is_consistent(shop_kb):
    findings = assess_change(announce("Erstattung", "Ab dem 1. Januar 2027 erstatten wir den Kaufpreis weiterhin "
                                      "innerhalb von 10 Tagen nach Eingang der Rücksendung, jetzt auch per PayPal."))
    assert findings == []


HOTLINE = (
    "# Kontakt\n\n"
    "Unsere Service-Hotline ist Mo–Fr 8:00–20:00 Uhr erreichbar. Der Anruf ist kostenlos.\n\n"
    "## Videoservice\n\n"
    "Unser Gebärdensprach-Videoservice ist Mo–Fr 9:00–17:00 Uhr erreichbar. Sie brauchen nur eine Kamera."
)
HOTLINE_CHANGE = "Ab dem 4. Januar 2027 ist die Service-Hotline montags bis freitags von 7:00 bis 21:00 Uhr erreichbar."
VIDEO_UNCHANGED = " Die Zeiten des Gebärdensprach-Videoservice ändern sich nicht."


def test_a_sentence_an_unchanged_statement_describes_better_causes_no_flag(publish):
    publish("kontakt", body=HOTLINE, title="Kontakt")
    findings = assess_change(announce("Neue Hotline-Zeiten", HOTLINE_CHANGE + VIDEO_UNCHANGED, "2027-01-04"))
    (finding,) = findings
    assert "Service-Hotline" in finding.evidence and "8:00–20:00" in finding.reason


VIDEO = ("# Videoservice\n\nUnser Gebärdensprach-Videoservice für die Service-Hotline ist Mo–Fr 9:00–17:00 Uhr erreichbar. "
         "Sie brauchen nur eine Kamera.")


def test_the_unchanged_statement_is_what_protects_the_neighbouring_sentence(publish):
    publish("videoservice", body=VIDEO, title="Videoservice der Hotline")
    without = assess_change(announce("Neue Hotline-Zeiten", HOTLINE_CHANGE, "2027-01-04"))
    with_it = assess_change(announce("Neue Hotline-Zeiten", HOTLINE_CHANGE + VIDEO_UNCHANGED, "2027-01-04"))
    assert [f.article.slug for f in without] == ["videoservice"]
    assert with_it == []


MENU = "# Tarif wechseln\n\nDen Tarif wechseln Sie in der App unter Mein Konto > Vertrag > Tarif wechseln."
MENU_NEIGHBOUR = "# Kündigen\n\nSie kündigen in der App unter Mein Konto > Vertrag > Kündigen."


def test_a_moved_menu_item_flags_the_old_path_only(publish):
    publish("tarif-wechseln", body=MENU, title="Tarif wechseln")
    publish("kuendigen", body=MENU_NEIGHBOUR, title="Kündigen")
    (finding,) = assess_change(announce(
        "App 5.0: neuer Bereich Mein Tarif",
        "Mit Version 5.0 (ab 15. Februar 2027) liegt der Tarifwechsel künftig unter Mein Konto > Mein Tarif > Tarif wechseln. "
        "Alle anderen Einträge im Bereich Vertrag bleiben an ihrem Platz.", "2027-02-15"))
    assert finding.article.slug == "tarif-wechseln"
    assert "Mein Konto > Vertrag > Tarif wechseln" in finding.reason and "Mein Konto > Mein Tarif > Tarif wechseln" in finding.reason
    assert finding.evidence == "Den Tarif wechseln Sie in der App unter Mein Konto > Vertrag > Tarif wechseln."


def test_an_english_change_reaches_a_german_only_article(publish):
    publish("rueckgabe", body=RETURNS, title="Rückgabe im Online-Shop")
    (finding,) = assess_change(announce("Longer return period",
                                        "From 1 January 2027 the return period for goods bought in the online shop is "
                                        "30 days from receipt of the goods."))
    # the reason is in the article's language (German), quoting the change's value as the change says it
    assert (finding.article.slug, finding.reason) == ("rueckgabe", "nennt 14 Tage; die Änderung legt ab 2027-01-01 30 days fest")


def test_articles_that_expire_before_the_effective_date_are_not_flagged(publish, today):
    # given an article served today that stops being served before the change takes effect
    effective = today + dt.timedelta(days=60)
    publish("rueckgabe", body=RETURNS, title="Rückgabe im Online-Shop", valid_until=effective - dt.timedelta(days=1))
    # when the change is assessed, then the article is not flagged: it will no longer be served
    assert assess_change(announce("Längere Rückgabefrist im Online-Shop", RETURN_CHANGE, effective.isoformat())) == []


def test_articles_still_valid_on_the_effective_date_are_flagged(publish, today):
    effective = today + dt.timedelta(days=60)
    publish("rueckgabe", body=RETURNS, title="Rückgabe im Online-Shop", valid_until=effective + dt.timedelta(days=1))
    findings = assess_change(announce("Längere Rückgabefrist im Online-Shop", RETURN_CHANGE, effective.isoformat()))
    assert [finding.article.slug for finding in findings] == ["rueckgabe"]


# --- contradictions -----------------------------------------------------------------------------

FEE_A = "# Ersatzkarte\n\nFür eine Ersatzkarte berechnen wir eine Bearbeitungsgebühr von 9,95 €. Die Karte kommt per Post."
FEE_B = "# Karte verloren\n\nBei Verlust berechnen wir für die Ersatzkarte eine Bearbeitungsgebühr von 14,95 €."
FEE_C = "# Gebühren\n\nDie Bearbeitungsgebühr für eine Ersatzkarte beträgt 9,95 €."


def test_contradiction_scan_flags_both_articles_with_both_sentences(publish):
    first = publish("ersatzkarte", body=FEE_A, title="Ersatzkarte")
    second = publish("karte-verloren", body=FEE_B, title="Karte verloren")
    findings = contradictions_scan()
    assert {(f.article.slug, f.other.slug) for f in findings} == {("ersatzkarte", "karte-verloren")}
    assert contradictions_flag(findings) == 2
    for article, other, own, theirs in ((first, second, "9,95 €", "14,95 €"), (second, first, "14,95 €", "9,95 €")):
        (flag,) = Flag.objects.filter(article=article, reason=Flag.Reason.CONTRADICTION)
        assert f"'{other.slug}'" in flag.summary and own in flag.summary and theirs in flag.summary
        assert "Bearbeitungsgebühr von 9,95 €" in flag.evidence and "Bearbeitungsgebühr von 14,95 €" in flag.evidence
    assert contradictions_flag(contradictions_scan()) == 0  # an open flag naming the partner is not raised again


def test_consistent_articles_and_translations_are_left_alone(publish):
    first = publish("ersatzkarte", body=FEE_A, title="Ersatzkarte")
    publish("gebuehren", body=FEE_C, title="Gebühren")
    publish("replacement-card", locale="en", translation_of=first, title="Replacement card",
            body="# Replacement card\n\nFor a replacement card we charge a processing fee of €14.95.")
    assert contradictions_scan() == []


def test_a_scan_for_one_article_covers_only_its_pairs(publish):
    publish("ersatzkarte", body=FEE_A, title="Ersatzkarte")
    second = publish("karte-verloren", body=FEE_B, title="Karte verloren")
    unrelated = publish("versand", body=SHIPPING, title="Versand")
    assert contradictions_scan([unrelated.pk]) == []
    (finding,) = contradictions_scan([second.pk])  # the pair once, whichever side was asked for
    assert {finding.article.slug, finding.other.slug} == {"ersatzkarte", "karte-verloren"}


def test_the_tasks_flag_once(publish):
    from retrieval.tasks import contradictions_scan_all, contradictions_scan_article

    publish("ersatzkarte", body=FEE_A, title="Ersatzkarte")
    second = publish("karte-verloren", body=FEE_B, title="Karte verloren")
    assert contradictions_scan_article(second.pk) == 2
    assert contradictions_scan_all() == 0
    assert Flag.objects.filter(reason=Flag.Reason.CONTRADICTION, state=Flag.State.OPEN).count() == 2


def test_a_fact_sentence_starting_with_a_pronoun_takes_the_sentence_before_as_context(publish):
    """Regression: "Das dauert 5 Werktage." is about the sentence before it (no crash, context kept)."""
    from retrieval.impact.assessment import article_passages

    article = publish("umzug", title="Umzug melden",
                      body="## Ablauf\n\nMelden Sie Ihren Umzug im Kundenportal. Das dauert 5 Werktage.")

    passages = article_passages([article])

    timed = [p for p in passages if "5 Werktage" in p.text]
    assert len(timed) == 1
    assert "Melden Sie Ihren Umzug im Kundenportal." in timed[0].context


LINES = (
    "# Telefonnummern\n\n"
    "| Nummer | Wofür | Erreichbar |\n|---|---|---|\n"
    "| 0800 100 2000 | Kundenservice: Verträge und Beiträge | Mo–Fr 8:00–20:00 Uhr |\n"
    "| 0800 100 2500 | Rechtsberatung am Telefon | Mo–Sa 7:00–22:00 Uhr |\n"
)


def test_an_unchanged_statement_with_its_own_hours_does_not_protect_another_lines_hours(publish):
    # given a table of lines, and a change to one line's hours that says another line's hours stay
    publish("telefonnummern", body=LINES, title="Telefonnummern")
    findings = assess_change(announce(
        "Neue Zeiten im Kundenservice",
        "Ab dem 4. Januar 2027 ist der Kundenservice unter 0800 100 2000 montags bis freitags von 8:00 bis 19:00 Uhr "
        "erreichbar. Die Rechtsberatung 0800 100 2500 bleibt Mo–Sa 7:00–22:00 Uhr erreichbar.", "2027-01-04"))
    # then the customer service row is wrong: the other line's unchanged hours are no reason to keep it
    (finding,) = findings
    assert "Kundenservice" in finding.evidence and "8:00–20:00" in finding.reason


# --- what a change ends (retrieval.impact.ended) ---------------------------------------------------

CHEQUE = ("# Bezahlen per Scheck\n\nSie können Ihre Rechnung auch per Verrechnungsscheck bezahlen. "
          "Schicken Sie den Verrechnungsscheck an unsere Buchhaltung.")
CHEQUE_UPDATED = ("# Zahlungswege\n\nVerrechnungsschecks nehmen wir nicht mehr an. "
                  "Bitte überweisen Sie den Betrag oder erteilen Sie ein Lastschriftmandat.")
TRANSFER = "# Überweisung\n\nSie können Ihre Rechnung per Überweisung auf unser Konto bezahlen."


def test_a_passage_still_describing_what_a_change_discontinues_is_flagged(publish):
    publish("scheck", body=CHEQUE, title="Bezahlen per Scheck")
    publish("zahlungswege", body=CHEQUE_UPDATED, title="Zahlungswege")
    publish("ueberweisung", body=TRANSFER, title="Überweisung")

    findings = assess_change(announce(
        "Keine Zahlung per Verrechnungsscheck mehr",
        "Ab dem 1. März 2027 nehmen wir keine Verrechnungsschecks mehr als Zahlung an.", "2027-03-01"))

    # the article that still offers cheques is wrong; the one that already says so and the transfer are not
    (finding,) = findings
    assert finding.article.slug == "scheck"
    assert "Verrechnungsscheck" in finding.evidence
    assert finding.reason.startswith("nennt „Sie können Ihre Rechnung auch per Verrechnungsscheck bezahlen.“; das ändert sich ab 2027-03-01: „")


def test_without_an_ending_clause_the_ended_signal_adds_nothing(publish, settings):
    publish("scheck", body=CHEQUE, title="Bezahlen per Scheck")
    event = announce("Neue Adresse der Buchhaltung", "Ab dem 1. März 2027 sitzt die Buchhaltung in Köln.", "2027-03-01")

    assert assess_change(event) == []
    settings.VERITY_IMPACT_ENDED = False
    publish("ueberweisung", body=TRANSFER, title="Überweisung")
    assert assess_change(announce("Keine Schecks mehr", "Ab dem 1. März 2027 nehmen wir keine Verrechnungsschecks mehr an.",
                                  "2027-03-01")) == []


def test_a_clause_ending_two_things_and_naming_the_replacement_is_measured_part_by_part():
    from retrieval.impact.ended import _ended_parts

    clause = ("Die Hotline setzt die Zwei-Faktor-Anmeldung ab diesem Tag nicht mehr zurück und ändert keine "
              "E-Mail-Adressen mehr, sondern begleitet Anrufende durch den Self-Service.")

    # what follows "sondern" is the new way; the first part, with its subject, also counts on its own
    assert _ended_parts(clause) == [
        "Die Hotline setzt die Zwei-Faktor-Anmeldung ab diesem Tag nicht mehr zurück und ändert keine E-Mail-Adressen mehr",
        "Die Hotline setzt die Zwei-Faktor-Anmeldung ab diesem Tag nicht mehr zurück"]
    assert _ended_parts("The desk no longer exchanges coins and no longer cashes cheques, but refers callers to the app.") == [
        "The desk no longer exchanges coins and no longer cashes cheques", "The desk no longer exchanges coins"]
    # a clause of one part, and nouns joined by "und", are not cut
    assert _ended_parts("Schecks und Wechsel nehmen wir nicht mehr an.") == []


COINS = ("# Münzen einzahlen\n\nMünzgeld zahlen Sie am Schalter jeder Filiale ein; unsere Mitarbeitenden zählen es "
         "für Sie. Bringen Sie das Münzgeld bitte gerollt mit.")
CARD = "# Karte sperren\n\nIhre Bankkarte sperren Sie rund um die Uhr in der App unter Karten > Sperren."


def test_a_passage_describing_one_of_two_ended_things_is_flagged(publish):
    publish("muenzen", body=COINS, title="Münzen einzahlen")
    publish("karte-sperren", body=CARD, title="Karte sperren")

    findings = assess_change(announce(
        "Filialen: neue Bargeldautomaten",
        "Ab dem 1. März 2027 nehmen die Schalter der Filialen kein Münzgeld mehr zur Einzahlung an und zählen "
        "kein Bargeld mehr, sondern verweisen auf die neuen Einzahlungsautomaten.", "2027-03-01"))

    assert [finding.article.slug for finding in findings] == ["muenzen"]
    assert "Schalter" in findings[0].evidence


def test_a_compound_counts_as_one_word_of_an_ending_clause():
    from retrieval.impact.ended import _clause_words
    from retrieval.impact.statements import Statement

    words = _clause_words(Statement(text="Ab dem 1. März 2027 setzt die Hotline die Zwei-Faktor-Anmeldung nicht mehr zurück",
                                    unchanged=False, facts=[], language="de"), "de")

    # "Zwei-Faktor-Anmeldung" is one word with several terms; the date and the cue words are no content
    compound = [terms for terms in words if len(terms) > 1]
    assert len(compound) == 1 and {"zwei", "faktor"} <= compound[0]
    assert not any(term.startswith(("marz", "märz")) for terms in words for term in terms)
    assert len(words) == 4  # Hotline, Zwei-Faktor-Anmeldung, setzt, zurück


# --- paths, days of the month, short codes, what stays (2026-12-06) ---------------------------------


def test_two_paths_joined_by_a_conjunction_are_two_paths():
    first, second = extract_facts("Sie liegen künftig unter Online-Banking > Karten > Limits und Online-Banking > "
                                  "Karten > Sperren, wie bisher.")
    assert (first.value, second.value) == (("online-banking", "karten", "limits"), ("online-banking", "karten", "sperren"))
    # "bzw." ends an item; a section named "Rechnung und Zahlung" stays one section
    first, second = extract_facts("im Online-Banking (Karten > Limits bzw. Konto > Sperren)")
    assert (first.value, second.value) == (("karten", "limits"), ("konto", "sperren"))
    assert only("unter Konto > Rechnung und Zahlung > Belege.", kind="path").value == ("konto", "rechnung und zahlung", "belege")


@pytest.mark.parametrize(("text", "locale"), [
    ("Sie können die Überweisung bis zum letzten Tag des Monats widerrufen.", "de"),
    ("Bis zum Monatsende können Sie den Auftrag zurücknehmen.", "de"),
    ("You can cancel the order until the end of the month.", "en"),
])
def test_the_last_day_of_the_month_is_a_day_of_the_month(text, locale):
    last = only(text, locale, "day_of_month")
    assert comparable_values(last, only("bis zum 20. des Monats", kind="day_of_month"))
    assert not same_value(last, only("bis zum 20. des Monats", kind="day_of_month"))


def test_a_named_short_code_is_an_identifier_without_the_word_sms():
    assert only("Die Kurzwahl 44844 bleibt in Betrieb.", kind="identifier").value == ("44844",)
    assert only("nicht mehr per SMS-Stichwort an die Kurzwahl 44844", kind="identifier").value == ("44844",)


def test_a_piece_opening_with_the_verb_of_staying_keeps_its_subject_unchanged():
    statements = change_statements(
        "Überweisungen nur bis zum 20. widerrufbar",
        "Ab dem 1. Juli 2027 kann ein Dauerauftrag nur noch bis zum 20. des Monats geändert werden. "
        "Einmalige Überweisungen, die Gebührenfreiheit und der Ausführungstag (1. des Folgemonats), bleiben unverändert.",
        dt.date(2027, 7, 1))
    kinds = {s.text: s.unchanged for s in statements}
    assert kinds["Einmalige Überweisungen, die Gebührenfreiheit und der Ausführungstag (1. des Folgemonats), bleiben "
                 "unverändert."] is True
    assert not any(s.unchanged is False and any(f.value == (1,) for f in s.facts) for s in statements)


def test_a_piece_opening_with_staying_keeps_the_whole_list_after_it_unchanged():
    # "Unverändert bleiben A, B, C sowie D": the comma pieces after the verb are its subjects, not a change
    statements = change_statements(
        "Girokonto Plus: neue Kontoführung",
        "Ab dem 1. Juli 2027 sinkt die Kontoführungsgebühr auf 4,90 €. Unverändert bleiben das Girokonto Basis, "
        "die Karten für Partner, das Verwahrentgelt und der Dispozins von 9,9 %.",
        dt.date(2027, 7, 1))
    kinds = {s.text: s.unchanged for s in statements}
    assert kinds["Unverändert bleiben das Girokonto Basis, die Karten für Partner, das Verwahrentgelt und der Dispozins "
                 "von 9,9 %."] is True
    assert not any(not s.unchanged and any(f.type == "percent" for f in s.facts) for s in statements)
    # ... up to a piece that turns to something new
    (changed,) = [s for s in change_statements("Konto", "Weiterhin gilt der Dispozins von 9,9 %, neu ist die Gebühr von 5 €.",
                                               dt.date(2027, 7, 1)) if not s.unchanged and s.facts]
    assert changed.text == "neu ist die Gebühr von 5 €."


STANDING_ORDER = ("# Dauerauftrag ändern\n\nEinen Dauerauftrag ändern Sie im Online-Banking. Eine Änderung "
                  "können Sie bis zum letzten Tag des Monats wieder zurücknehmen.")


def test_a_deadline_at_the_end_of_the_month_is_flagged_when_it_moves_to_a_day(publish):
    publish("dauerauftrag", body=STANDING_ORDER, title="Dauerauftrag ändern")
    (finding,) = assess_change(announce(
        "Änderung eines Dauerauftrags nur noch bis zum 20. zurücknehmbar",
        "Ab dem 1. Juli 2027 kann die Änderung eines Dauerauftrags nur noch bis einschließlich zum 20. des laufenden "
        "Monats zurückgenommen werden.", "2027-07-01"))
    assert finding.article.slug == "dauerauftrag"
    assert "letzten Tag des Monats" in finding.reason and "20." in finding.reason


CONTACT = ("# Kontakt\n\n| Kanal | Erreichbarkeit |\n|---|---|\n| Chat im Online-Banking (Online-Banking > Service > Chat) "
           "| Mo–Fr 8–20 Uhr |\n| Telefon 0800 111 2222 | rund um die Uhr |")
COMPLAINT = "# Beschwerde\n\nEine Beschwerde reichen Sie unter Online-Banking > Service > Beschwerde ein."
TOP_UP = ("# Guthaben per SMS\n\nGuthaben laden Sie auf, indem Sie eine SMS mit AUFLADEN an 44844 senden.")


def test_an_ending_clause_naming_a_paths_item_and_section_ends_the_path_only(publish):
    publish("kontakt", body=CONTACT, title="Kontakt")
    publish("beschwerde", body=COMPLAINT, title="Beschwerde")
    findings = assess_change(announce(
        "Online-Banking 7: Chat auf der Startseite",
        "Ab dem 1. Mai 2027 ist der Chat kein Menüeintrag im Bereich „Service“ mehr, sondern startet über die "
        "Schaltfläche „Chat starten“ auf der Startseite. Die Beschwerde bleibt im Bereich „Service“.", "2027-05-01"))
    (finding,) = findings
    assert finding.article.slug == "kontakt"
    assert finding.reason.startswith("nennt „Online-Banking > Service > Chat“; das ändert sich ab 2027-05-01: „")


def test_a_short_code_an_ending_clause_names_flags_the_passage_using_it(publish):
    publish("guthaben", body=TOP_UP, title="Guthaben per SMS")
    (finding,) = assess_change(announce(
        "Aufladen per SMS wird eingestellt",
        "Ab dem 1. März 2027 lässt sich Guthaben nicht mehr per SMS an die Kurzwahl 44844 aufladen.", "2027-03-01"))
    assert finding.article.slug == "guthaben" and "44844" in finding.reason


def test_a_path_written_from_a_section_on_is_the_same_path(publish):
    publish("belege", body="# Belege\n\nIhre Belege finden Sie unter Konto > Rechnungen > Belege.", title="Belege")
    moved = announce("Neuer Bereich Dokumente", "Ab dem 1. Mai 2027 liegen die Belege unter Konto > Dokumente > Belege.",
                     "2027-05-01")
    same = announce("Belege im neuen Design",
                    "Ab dem 1. Mai 2027 zeigt der Bereich (Rechnungen > Belege) Ihre Belege im neuen Design.",
                    "2027-05-01")
    assert [finding.article.slug for finding in assess_change(moved)] == ["belege"]
    assert assess_change(same) == []


METER = ("# Zählerstand melden\n\nIhren Zählerstand melden Sie online unter Kundenportal > Zählerstand > Zählerstand "
         "erfassen.\n\nDie Smart-Meter-Daten sehen Sie unter Kundenportal > Verbrauch > Smart-Meter-Daten.")


@pytest.mark.parametrize("effective", ["2027-02-15", "2027-03-01"])  # the rollout date in the text, or another day
def test_a_removed_menu_section_flags_every_path_through_it(publish, effective):
    publish("zaehlerstand", body=METER, title="Zählerstand melden")
    (finding,) = assess_change(announce(
        "Kundenportal 5.0: Zählerstand wandert in den Bereich „Verbrauch“",
        "Mit Version 5.0 des Kundenportals (Rollout ab 15. Februar 2027) entfällt der Hauptmenüpunkt „Zählerstand“. "
        "Die Smart-Meter-Daten bleiben unter Verbrauch > Smart-Meter-Daten.", effective))
    assert finding.article.slug == "zaehlerstand"
    assert finding.reason.startswith("nennt „Kundenportal > Zählerstand > Zählerstand erfassen“")
    assert "Smart-Meter" not in finding.evidence


PORTAL = ("# Kundenportal\n\n| Anliegen | Menüpfad |\n|---|---|\n| Belege | Kundenportal > Verträge > Dokumente |\n"
          "| Zahlweise ändern | Kundenportal > Verträge > Zahlweise ändern |")


def test_the_menu_a_removed_entry_stands_in_is_where_not_what():
    from retrieval.impact.ended import removed_names

    assert removed_names("Der Eintrag „Dokumente“ im Menü „Verträge“ entfällt.") == {"dokumente"}
    assert removed_names("Der Chat ist kein Menüeintrag im Bereich „Hilfe“ mehr") == set()
    assert removed_names("The “Offers” tab is discontinued.") == {"offers"}


def test_only_the_paths_through_a_removed_entry_are_flagged(publish):
    publish("portal", body=PORTAL, title="Kundenportal")
    (finding,) = assess_change(announce("Kundenportal 6", "Ab dem 1. Mai 2027 entfällt der Eintrag „Dokumente“ im Menü "
                                        "„Verträge“; Belege kommen künftig per Post.", "2027-05-01"))
    assert "Dokumente" in finding.evidence and "Zahlweise" not in finding.evidence


CLAIMS = "# Schaden melden\n\nMelden Sie einen Schaden unter Kundenportal > Schäden > Schaden melden."


def test_a_clause_that_speaks_of_no_menu_ends_no_path_by_its_words(publish):
    publish("schaden", body=CLAIMS, title="Schaden melden")
    # the clause names "Schäden" and "Schadenmeldungen" (the path's section and item), but a channel, not a menu, ends
    assert assess_change(announce("Kein Schadenpostfach mehr", "Ab dem 1. April 2027 nehmen wir Schadenmeldungen und "
                                  "Unterlagen zu Schäden nicht mehr per E-Mail entgegen.", "2027-04-01")) == []


def test_a_verb_of_staying_with_its_own_content_does_not_take_the_change_before_it():
    statements = change_statements("Neue Gebühr", "Ab dem 1. Mai 2027 sinkt die Gebühr auf 3,00 €, gilt aber weiterhin nur "
                                   "für Neukunden, bleibt aber weiterhin nur für Neukunden buchbar.", dt.date(2027, 5, 1))
    assert any(not s.unchanged and any(f.type == "money" for f in s.facts) for s in statements)


BANK_CONTACT = ("# Kontakt\n\n- E-Mail: info@bank.example, für Reklamationen reklamation@bank.example.\n"
                "- Post: Bank AG, Hauptstraße 1, 10115 Berlin.")
BANK_PROFILE = ("# Online-Zugang\n\nHaben Sie keinen Zugriff mehr auf Ihr Postfach, schreiben Sie an zugang@bank.example.")


def test_a_clause_ending_the_e_mail_channel_flags_the_address_for_its_subject_only(publish):
    publish("kontakt", body=BANK_CONTACT, title="Kontakt")
    (finding,) = assess_change(announce(
        "Reklamationen nur noch online",
        "Ab dem 1. April 2027 nehmen wir Reklamationen nicht mehr per E-Mail entgegen, sondern im Online-Banking. "
        "Die Adresse info@bank.example bleibt für alle anderen Anliegen.", "2027-04-01"))
    assert finding.article.slug == "kontakt"
    assert finding.reason.startswith("nennt „reklamation@bank.example“")


def test_an_e_mail_address_is_no_channel_that_ends(publish):
    publish("zugang", body=BANK_PROFILE, title="Online-Zugang")
    # "keinen Zugriff mehr auf ihre E-Mail-Adresse" is a case, not the e-mail channel ending
    assert assess_change(announce(
        "Zugang selbst wiederherstellen", "Ab dem 1. Juni 2027 stellen Kunden ihren Zugang selbst wieder her, wenn sie "
        "keinen Zugriff mehr auf ihre hinterlegte E-Mail-Adresse haben.", "2027-06-01")) == []


BIKE_TABLE = ("# Fahrradversicherung\n\n## Leistungen\n\n| Leistung | Kompakt | Premium |\n|---|---|---|\n"
              "| Tarif | 3,50 € pro Monat | 6,90 € pro Monat |\n"
              "| Diebstahl des Fahrrads | bis 1.000 € | bis 3.000 € |\n"
              "| Akku-Schäden | nicht versichert | bis 800 € |\n"
              "| Selbstbeteiligung | 100 € | 0 € |\n")
BIKE_SHOP = ("# Fahrrad im Urlaub\n\n## Unterwegs\n\nWird Ihr Akku auf der Reise beschädigt, zahlt die Premium-Versicherung "
             "bis 800 € für Akku-Schäden.")


def test_a_table_cell_is_read_with_its_row_and_column_and_its_old_value_found_elsewhere(publish):
    # The change raises two limits of one table. Each new limit's old value is the cell about the same thing
    # (its row and column), not a number of another row that only stands near the same words: the 0 € deductible
    # is not the old battery limit, and an article repeating the old battery limit in its own words is flagged too.
    publish("fahrradversicherung", body=BIKE_TABLE, title="Fahrradversicherung")
    publish("fahrrad-urlaub", body=BIKE_SHOP, title="Fahrrad im Urlaub")
    findings = {f.article.slug: f for f in assess_change(announce(
        "Fahrradversicherung Premium: neue Leistungen",
        "Ab dem 1. April 2027 zahlt der Tarif Premium bei Diebstahl des Fahrrads bis 4.000 €. Akku-Schäden sind im Tarif "
        "Premium bis 1.200 € versichert. Unverändert bleiben der Tarif Kompakt, die Beiträge und die Selbstbeteiligung.",
        "2027-04-01"))}
    assert set(findings) == {"fahrradversicherung", "fahrrad-urlaub"}
    assert "800 €" in findings["fahrrad-urlaub"].reason and "1.200 €" in findings["fahrrad-urlaub"].reason
    assert "nennt 0 €" not in findings["fahrradversicherung"].reason  # the deductible is not the old limit


def test_a_table_cell_is_about_its_row_and_column():
    facts = extract_facts("Tarif: Plus; Deckungssumme: 50 Mio. €; Selbstbeteiligung: 0 €", "de", row=True)
    deductible = next(f for f in facts if f.value == (0.0,))
    assert {"selbstbeteil", "plus"} <= deductible.near
    assert "deckungssumm" not in deductible.near  # the cell beside it is another column


def test_a_change_naming_another_column_of_a_table_is_not_about_this_cell():
    kompakt, premium = extract_facts("Leistung: Diebstahl des Fahrrads; Kompakt: bis 1.000 €; Premium: bis 3.000 €", "de",
                                     row=True)
    (new,) = [f for f in extract_facts("Im Tarif Premium zahlen wir bei Diebstahl bis 4.000 €.", "de") if f.type == "money"]
    assert impact._other_column(kompakt, new)
    assert not impact._other_column(premium, new)
    # a change that names no column is about every cell
    (plain,) = [f for f in extract_facts("Bei Diebstahl zahlen wir bis 4.000 €.", "de") if f.type == "money"]
    assert not impact._other_column(kompakt, plain)
