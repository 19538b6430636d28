"""German first, English for an English browser: the admin, the desktop, messages, flag reasons, e-mails.

Three kinds of check:

- the catalog: every string marked for translation in the code and templates has a German translation,
  none is fuzzy, and the committed .mo is the compiled .po (a fresh clone serves German without msgfmt);
- the pages: as each role, the main admin and desktop pages, fetched with Accept-Language de, show no
  English UI word, and with Accept-Language en no German one. Article content is not UI: text inside an
  element whose `lang` names another language is skipped (the pages mark article text with its language),
  and so are the stored texts of the test data (titles, names, reasons) wherever they appear;
- stored text: flag reasons in the article's language, the digest in the recipient's, refusals as sentences.
"""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation.template import templatize

from governance import selectors, services
from governance.models import ChangeEvent, Flag, Review, UserPreferences
from kb.models import Article
from retrieval.models import AnswerRecord, GuardrailRule
from verity.core.errors import PermissionDeniedError

BASE = Path(settings.BASE_DIR)
PO = BASE / "locale" / "de" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
SOURCE_DIRS = ("kb", "governance", "retrieval", "verity")
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}

# UI words that are English and not German (nor common in German service texts: no "App", "Service",
# "Update", "Status", "Name", "Details", "Feedback", "live", "Version", "Start", "Tags", "die", "an", "in").
ENGLISH_UI_WORDS = frozenset("""
    the and of to is are were be been your you yours with for this that these those not from by at or
    if than then which what who when where why how here there all any each every no yes please thank thanks
    add save delete search submit approve approved reject rejected withdraw withdrawn dismiss dismissed verify
    verified compare request requested publish published pending draft drafts review reviews reviewed history
    home owner owners workspace inbox due expired flag flags flagged current insights health knowledge article
    articles versions settings setting log out view site password select change changes changed action
    actions show hide none today now answer answers answered question questions sources copy helpful report send
    back language sign welcome results result found open closed resolved state audience public internal space
    spaces kind title body note comment comments step previous next created updated edited proposed applied
    superseded effective evidence reason confidence impact assessed nothing please try again more less events
    mine never yet valid until since days day rated refused handed over guardrail guardrails rule rules key keys
    imported file files run runs job jobs skip content
""".split())
# German UI words that are not English; plus any word with ä, ö, ü or ß.
GERMAN_UI_WORDS = frozenset("""
    und der die das den dem des ein eine einen einer ist sind nicht mit für von zu zur zum auf oder sie ihre ihr
    wird wurde werden kann darf dürfen muss noch nur bereits keine kein alle artikel freigabe freigeben freigegeben
    prüfung fällig meldung meldungen bereich verantwortlich zielgruppe sprache suchen sichern hinzufügen löschen
    abmelden anmelden entwurf änderung änderungen gemeldet veröffentlicht öffentlich intern aktuell
    abgelaufen zustand protokoll auswertungen posteingang wissen antwort antworten frage fragen quellen gültig
    bis ab seit jetzt heute zurück weiter schritt einreichen bestätigen vergleichen ablehnen verwerfen
""".split())
UMLAUT = re.compile(r"[äöüÄÖÜß]")
URL = re.compile(r"https?://\S+")
WORD = re.compile(r"[A-Za-zÄÖÜäöüß_]+")  # CUSTOMER_NO is a name, not two words


# --- the catalog ---------------------------------------------------------------------------------


def _po_entries() -> list[dict]:
    """The catalog's entries: msgid, msgid_plural, msgstr(s) and flags (a small reader of gettext's format)."""
    entries, entry, field = [], None, None
    for line in PO.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry is not None:
                entries.append(entry)
            entry, field = None, None
            continue
        entry = entry if entry is not None else {"flags": set(), "msgid": "", "msgid_plural": None, "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := re.match(r'(msgid_plural|msgid|msgstr)(?:\[(\d+)\])? (".*")$', line):
            name, index, text = match.groups()
            field = (name, int(index) if index is not None else None)
            value = ast.literal_eval(text)
            if name == "msgstr":
                entry["msgstr"][field[1]] = value
            else:
                entry[name] = value
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += value
            else:
                entry[field[0]] += value
    return entries


def _marked_strings() -> set[str]:
    """Every msgid marked for translation in Verity's Python code and templates."""
    found: set[str] = set()
    for folder in SOURCE_DIRS:
        for path in (BASE / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT_NAMES
                        and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                    found.add(node.args[0].value)
    call = re.compile(r"\b(?:n?p?gettext)\(\s*(u'(?:[^'\\]|\\.)*')")
    for path in (BASE / "templates").rglob("*.html"):
        for literal in call.findall(templatize(path.read_text(encoding="utf-8"), origin=str(path))):
            found.add(ast.literal_eval(literal))
    return found


def test_the_german_catalog_has_no_untranslated_or_fuzzy_entry_and_the_mo_is_compiled_from_it():
    entries = [entry for entry in _po_entries() if entry["msgid"]]
    assert len(entries) > 500

    untranslated = [entry["msgid"] for entry in entries if not all(entry["msgstr"].values())]
    fuzzy = [entry["msgid"] for entry in entries if "fuzzy" in entry["flags"]]
    placeholders = re.compile(r"%\((\w+)\)s")
    broken = [entry["msgid"] for entry in entries if entry["msgid_plural"] is None
              and set(placeholders.findall(entry["msgid"])) != set(placeholders.findall(entry["msgstr"][None]))]
    assert (untranslated, fuzzy, broken) == ([], [], [])

    # the committed .mo says exactly what the .po says (msgfmt -o locale/de/LC_MESSAGES/django.mo ...po)
    with MO.open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)._catalog
    expected = {}
    for entry in entries:
        if entry["msgid_plural"] is None:
            expected[entry["msgid"]] = entry["msgstr"][None]
        else:
            for n, text in entry["msgstr"].items():
                expected[(entry["msgid"], n)] = text
    assert {key: value for key, value in catalog.items() if key != ""} == expected


def test_every_string_marked_for_translation_has_a_german_translation():
    translated = {entry["msgid"] for entry in _po_entries() if entry["msgid"] and all(entry["msgstr"].values())}

    missing = sorted(_marked_strings() - translated)

    assert missing == []  # run makemessages (see the .po's header), translate, compile


# --- the pages ---------------------------------------------------------------------------------


class _VisibleText(HTMLParser):
    """Text a person sees or hears on a page (text nodes, titles, labels, button values), except text inside an
    element whose nearest `lang` is another language than the page's, and except scripts and styles."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
    ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

    def __init__(self, language: str):
        super().__init__(convert_charrefs=True)
        self.language = language
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.texts: list[str] = []

    def _skipped(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"script", "style", "template"}:
            skipped = True
        elif attrs.get("lang"):  # the nearest lang decides
            skipped = attrs["lang"].split("-")[0].lower() != self.language
        else:
            skipped = self._skipped()
        if not skipped:
            self.texts += [attrs[name] for name in self.ATTRIBUTES if attrs.get(name)]
            self.texts += [value for name, value in attrs.items() if name.startswith("data-msg") and value]
            if tag == "input" and attrs.get("type") in {"submit", "button", "reset"} and attrs.get("value"):
                self.texts.append(attrs["value"])
        if tag not in self.VOID:
            self.stack.append((tag, skipped))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if data.strip() and not self._skipped():
            self.texts.append(data)


def visible_text(html: str, language: str) -> list[str]:
    parser = _VisibleText(language)
    parser.feed(html)
    return parser.texts


IDENTIFIER = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b|\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b", re.IGNORECASE)


def foreign_words(texts: list[str], language: str, content: list[str]) -> list[tuple[str, str]]:
    """(word, where) for each UI word of the other language; stored content strings are taken out first."""
    found = []
    for text in texts:
        text = URL.sub(" ", text)
        text = IDENTIFIER.sub(" ", text)  # a UUID or hash ("…-be64…") holds letter pairs that are no words
        for value in content:
            text = text.replace(value, " ")
        for word in WORD.findall(text):
            lowered = word.lower()
            if language == "de" and lowered in ENGLISH_UI_WORDS:
                found.append((word, " ".join(text.split())[:120]))
            if language == "en" and (lowered in GERMAN_UI_WORDS or UMLAUT.search(word)):
                found.append((word, " ".join(text.split())[:120]))
    return found


@pytest.fixture
def knowledge(author, author2, approver, approver2, admin_user_role, agent, space, make_article, mailoutbox):
    """Every state the pages show, made through the services: German articles and an English translation."""
    tarif = make_article("tarifwechsel", title="Tarif wechseln", body="## Wechsel\n\nSie können einmal pro Monat wechseln.")
    services.version_approve(actor=approver, review=services.version_submit(actor=author, version=tarif.latest_version))
    tarif.refresh_from_db()
    translation = make_article("plan-change", title="Changing your plan", locale="en", translation_of=tarif,
                               body="## Changing\n\nYou can change your plan once a month.")
    services.version_approve(actor=approver, review=services.version_submit(actor=author, version=translation.latest_version))
    # v2 goes live (the translation is flagged out of sync), v3 waits for approval
    for number, body in ((1, "Sie können zweimal pro Monat wechseln."), (2, "Sie können dreimal pro Monat wechseln.")):
        version = services.version_create(actor=author, article=tarif, title="Tarif wechseln", base_version=number,
                                          body=f"## Wechsel\n\n{body}", change_note="Häufiger wechseln")
        review = services.version_submit(actor=author, version=version)
        if number == 1:
            services.version_approve(actor=approver, review=review)
        tarif.refresh_from_db()

    kuendigung = make_article("kuendigung", title="Vertrag kündigen", body="Die Kündigungsfrist beträgt einen Monat.")
    services.version_approve(actor=approver2, review=services.version_submit(actor=author, version=kuendigung.latest_version))
    kuendigung.refresh_from_db()
    services.settings_change_propose(actor=author, article=kuendigung, owner=author2, note="Ben übernimmt.")
    agent_report = services.flag_raise(article=kuendigung, reason=Flag.Reason.AGENT_REPORT, raised_by=agent,
                                       summary="Die Frist ist seit Januar anders.", evidence="1")
    event = services.change_event_create(kind=ChangeEvent.Kind.POLICY, title="Wechsel zweimal pro Monat",
                                         description="Ab 1. März 2027 ist ein Wechsel zweimal pro Monat möglich.",
                                         effective_date=dt.date(2027, 3, 1), author=admin_user_role, assess=False)
    tarif.refresh_from_db()
    services.change_event_record(event=event, elapsed_ms=12, findings=[services.ImpactFinding(
        article=tarif, score=0.9, evidence="Sie können dreimal pro Monat wechseln.",
        cause=services.ImpactReason(stated="dreimal pro Monat", new="zweimal pro Monat", date=dt.date(2027, 3, 1)),
    )])
    Article.objects.filter(pk=kuendigung.pk).update(review_due_at=timezone.now() - dt.timedelta(days=3))
    services.review_cycle_run()
    return {"tarif": tarif, "translation": translation, "kuendigung": kuendigung, "event": event,
            "agent_report": agent_report, "review": Review.objects.get(article=tarif, status=Review.Status.IN_REVIEW)}


def _content(knowledge) -> list[str]:
    """Stored texts (not UI): the pages show them as they were written. Longest first."""
    from django.contrib.auth import get_user_model

    from governance.models import SettingsChange
    from kb.models import ArticleVersion, Space

    values: set[str] = set()
    for version in ArticleVersion.objects.all():
        values |= {version.title, version.change_note}
    for flag in Flag.objects.all():
        values |= {flag.summary, flag.evidence, flag.resolution_note}
    for event in ChangeEvent.objects.all():
        values |= {event.title, event.description}
    values |= {change.note for change in SettingsChange.objects.all()}
    values |= {space.name for space in Space.objects.all()} | set(Article.objects.values_list("slug", flat=True))
    values |= {text for record in AnswerRecord.objects.all() for text in (record.question, record.answer)}
    values |= {rule.name for rule in GuardrailRule.objects.all()}
    values |= {user.get_username() for user in get_user_model().objects.all()}
    return sorted((value for value in values if len(value) > 2), key=len, reverse=True)


def _admin_pages(role: str, knowledge) -> list[str]:
    tarif, kuendigung = knowledge["tarif"], knowledge["kuendigung"]
    pages = [
        reverse("admin:index"),
        reverse("admin:kb_article_changelist"),
        reverse("admin:kb_article_changelist") + "?state=due",
        reverse("admin:kb_article_change", args=[tarif.pk]),
        reverse("admin:kb_article_change", args=[kuendigung.pk]),
        reverse("admin:kb_article_diff", args=[tarif.pk]) + "?from=1&to=3",
        reverse("admin:kb_article_diff", args=[tarif.pk]) + "?from=1&to=3&view=side",
        reverse("admin:kb_article_version", args=[tarif.pk, 1]),
    ]
    if role == "agent":
        return pages[:2]
    if role in {"author", "knowledge admin"}:
        pages.append(reverse("admin:kb_article_add"))
    pages += [
        reverse("admin:inbox"),
        reverse("admin:governance_review_changelist") + "?awaiting=me",
        reverse("admin:governance_review_change", args=[knowledge["review"].pk]),
        reverse("admin:governance_flag_changelist") + "?state__exact=open&mine=1",
        reverse("admin:governance_flag_changelist"),
        reverse("admin:governance_flag_change", args=[knowledge["agent_report"].pk]),
        reverse("admin:governance_changeevent_changelist"),
        reverse("admin:governance_changeevent_change", args=[knowledge["event"].pk]),
        reverse("admin:governance_settingschange_changelist"),
        reverse("admin:governance_auditevent_changelist"),
        reverse("admin:governance_auditevent_changelist") + f"?article={tarif.pk}",
        reverse("admin:content_health"),
        reverse("admin:kb_space_changelist"),
    ]
    if role in {"approver", "knowledge admin"}:
        pages += [
            reverse("admin:governance_changeevent_add"),
            reverse("admin:insights"),
            reverse("admin:retrieval_answerrecord_changelist"),
            reverse("admin:retrieval_answerrecord_change", args=[AnswerRecord.objects.filter(status="refused").first().pk]),
            reverse("admin:retrieval_guardrailrule_changelist"),
        ]
    if role == "knowledge admin":
        pages += [
            reverse("admin:retrieval_guardrailrule_add"),
            reverse("admin:retrieval_apikey_changelist"),
            reverse("admin:kb_space_add"),
        ]
    return pages


def _desktop_pages(client, knowledge, language: str) -> list[tuple[str, str]]:
    """(what, html) of the desktop pages, an answer draft and a report's confirmation included."""
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    fragment = {"HTTP_X_VERITY_FRAGMENT": "1", **headers}
    tarif = knowledge["tarif"]
    pages = []
    for url in (reverse("desktop:search"), reverse("desktop:search") + "?q=Tarif+wechseln",
                reverse("desktop:article", args=[tarif.slug]), reverse("desktop:article", args=[tarif.slug]) + "?version=1",
                reverse("desktop:article", args=["plan-change"])):
        response = client.get(url, **headers)
        assert response.status_code == 200, url
        pages.append((url, response.content.decode()))
    response = client.get(reverse("desktop:results") + "?q=wechseln", **fragment)
    pages.append(("results", response.content.decode()))
    for question in ("Wie oft kann ich den Tarif wechseln?", "Was kostet ein Flug nach Rom?"):
        response = client.post(reverse("desktop:answer"), {"q": question}, **fragment)
        assert response.status_code == 200
        pages.append((f"answer: {question}", response.content.decode()))
    response = client.post(reverse("desktop:report", args=[tarif.slug]), {"text": "Stimmt nicht mehr.", "version": 2},
                           follow=True, **headers)
    pages.append(("report", response.content.decode()))
    return pages


ROLES = ["author", "approver", "knowledge admin", "agent"]


def _user_for(role, author, approver, admin_user_role, agent):
    return {"author": author, "approver": approver, "knowledge admin": admin_user_role, "agent": agent}[role]


def _page_problems(html: str, language: str, content: list[str]) -> list[tuple[str, str]]:
    """Foreign UI words; and a whole page must say its language (else the lang check above would skip it all)."""
    problems = foreign_words(visible_text(html, language), language, content)
    if "<html" in html and f'<html lang="{language}"' not in html:
        problems.append(("<html lang>", re.search(r"<html[^>]*>", html).group(0)))
    return problems


def _workflow_messages(client, knowledge, role: str, language: str) -> list[tuple[str, str]]:
    """Pages after a workflow button: the success or refusal message is in the page's language."""
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    tarif, review = knowledge["tarif"], knowledge["review"]
    action = "approve" if role in {"approver", "knowledge admin"} else "withdraw"
    if role == "author":  # the author is refused the approval: a sentence, not a permission codename
        refused = client.post(reverse("admin:kb_article_workflow", args=[tarif.pk, "approve"]), {"review": review.pk},
                              follow=True, **headers)
        yield "refused approve", refused.content.decode()
    response = client.post(reverse("admin:kb_article_workflow", args=[tarif.pk, action]), {"review": review.pk},
                           follow=True, **headers)
    yield action, response.content.decode()


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_admin_and_desktop_pages_speak_the_browsers_language(client, knowledge, role, language, author, approver,
                                                           admin_user_role, agent):
    # given a person of this role, signed in, whose browser asks for `language`
    client.force_login(_user_for(role, author, approver, admin_user_role, agent))
    headers = {"HTTP_ACCEPT_LANGUAGE": language}

    # when they use the desktop (so that answers, gaps and reports exist), open the main admin pages and act
    pages = _desktop_pages(client, knowledge, language)
    for url in _admin_pages(role, knowledge):
        response = client.get(url, **headers)
        assert response.status_code == 200, url
        pages.append((url, response.content.decode()))
    if role != "agent":
        pages += list(_workflow_messages(client, knowledge, role, language))
    missing = client.get(reverse("desktop:article", args=["gibt-es-nicht"]), **headers)
    assert missing.status_code == 404
    pages.append(("404", missing.content.decode()))
    if role in {"author", "agent"}:  # the insights are for approvers and knowledge admins
        refused = client.get(reverse("admin:insights"), **headers)
        assert refused.status_code == 403
        pages.append(("403", refused.content.decode()))

    # then no page shows a UI word of the other language (article content aside)
    content = _content(knowledge)
    problems = [f"{what}: {word!r} in {where!r}" for what, html in pages for word, where in _page_problems(html, language, content)]
    assert problems == [], "\n".join(problems)
    assert len(pages) >= (10 if role == "agent" else 25)


def test_the_sign_in_pages_follow_the_browser(client):
    for language, expected, foreign in (("de", "Anmelden", "Sign in"), ("en", "Sign in", "Anmelden")):
        desktop = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        admin = client.get(reverse("admin:login"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert expected in desktop and foreign not in desktop
        assert foreign_words(visible_text(desktop, language), language, []) == []
        assert foreign_words(visible_text(admin, language), language, []) == []


# --- stored text and e-mails ---------------------------------------------------------------------


def test_flag_reasons_are_written_in_each_articles_language(knowledge):
    tarif, translation = knowledge["tarif"], knowledge["translation"]

    change_flags = {flag.article.slug: flag.summary for flag in Flag.objects.filter(change_event=knowledge["event"])}
    drift = Flag.objects.get(article=translation, reason=Flag.Reason.TRANSLATION_DRIFT).summary
    due = Flag.objects.get(article=knowledge["kuendigung"], reason=Flag.Reason.REVIEW_DUE).summary

    assert change_flags == {
        tarif.slug: "nennt dreimal pro Monat; die Änderung legt ab 2027-03-01 zweimal pro Monat fest",
        translation.slug: "Translation of “tarifwechsel” (de), which this change affects: states dreimal pro Monat; "
                          "the change sets zweimal pro Monat from 2027-03-01",
    }
    assert drift == "Its source “tarifwechsel” (de) was updated from v1 to v2: update this translation."
    assert due.startswith("Prüfung fällig seit ") and due.endswith("(Intervall: 90 Tage).")


def test_stored_reasons_do_not_follow_the_language_of_whoever_caused_them(author, approver, make_article):
    # given an English reader's request is active while a German article's flag is raised
    from django.utils import translation

    article = make_article("roaming", title="Roaming", body="Im EU-Ausland gilt der Inlandstarif.")
    services.version_approve(actor=approver, review=services.version_submit(actor=author, version=article.latest_version))
    Article.objects.filter(pk=article.pk).update(review_due_at=timezone.now() - dt.timedelta(days=1))

    with translation.override("en"):
        services.review_cycle_run()

    assert Flag.objects.get(article=article).summary.startswith("Prüfung fällig seit ")


def test_the_owners_digest_is_in_each_recipients_language(knowledge, author, author2, mailoutbox):
    # given anna uses Verity in English (remembered at sign-in), ben never said
    mailoutbox.clear()
    Flag.objects.update(notified_at=None)
    UserPreferences.objects.create(user=author, language="en")
    services.flag_raise(article=knowledge["kuendigung"], reason=Flag.Reason.AGENT_REPORT, summary="Frist?")
    Article.objects.filter(slug="kuendigung").update(owner=author2)
    Flag.objects.filter(article__slug="kuendigung").update(owner=author2)

    services.flags_notify_owners(now=timezone.now())

    by_recipient = {message.to[0]: message for message in mailoutbox}
    annas, bens = by_recipient["anna@example.com"], by_recipient["ben@example.com"]
    assert annas.subject == "[Verity] 2 articles need your attention"  # three flags on two articles
    assert annas.body.startswith("Hello anna,\n\n2 articles you own need your attention:")
    assert "Affected by a change - nennt dreimal pro Monat" in annas.body  # the reason as written, in its article's language
    assert bens.subject == "[Verity] 1 Artikel braucht Ihre Aufmerksamkeit"
    assert bens.body.startswith("Guten Tag ben,\n\n1 Artikel, für den Sie verantwortlich sind, braucht Ihre Aufmerksamkeit:")
    assert "Von einem Agenten gemeldet - Die Frist ist seit Januar anders." in bens.body
    assert foreign_words([annas.subject, annas.body], "en", _content(knowledge) + ["Frist?"]) == []
    assert foreign_words([bens.subject, bens.body], "de", _content(knowledge) + ["Frist?"]) == []


def test_signing_in_and_switching_remember_the_language_for_e_mails(client, author):
    # signing in with an English browser, then switching to German in the header
    client.post(reverse("login"), {"username": "anna", "password": "pw-anna"}, HTTP_ACCEPT_LANGUAGE="en")
    assert selectors.user_language(author) == "en"

    client.post(reverse("set_language"), {"language": "de", "next": "/desktop/"})

    assert selectors.user_language(author) == "de"
    assert UserPreferences.objects.get(user=author).language == "de"


def test_the_admin_sign_in_remembers_the_language_too(client, approver):
    client.post(reverse("admin:login"), {"username": "clara", "password": "pw-clara", "next": "/admin/"},
                HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")

    assert selectors.user_language(approver) == "en"


@pytest.mark.parametrize(("language", "expected"), [
    ("de", "Sie dürfen keine Versionen freigeben."),
    ("en", "You may not approve versions."),
])
def test_a_refusal_is_a_sentence_and_names_no_permission_codename(author, make_article, language, expected):
    from django.utils import translation

    article = make_article()
    review = services.version_submit(actor=author, version=article.latest_version)

    with translation.override(language), pytest.raises(PermissionDeniedError) as refused:
        services.version_approve(actor=author, review=review)

    assert (refused.value.message, refused.value.code, refused.value.details) == (
        expected, "permission_denied", {"permission": "kb.approve_version"})
