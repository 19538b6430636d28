"""Content blocks: governed like articles (four-eyes, audit), referenced with {{ block:slug }}, validated
at save, their audience kept, their translations and the articles using them followed."""

from __future__ import annotations

import pytest
from django.utils import translation

from governance import services
from governance.models import AuditEvent, Flag
from kb import blocks
from kb.models import Article, BlockReference
from verity.core.errors import ApplicationError, PermissionDeniedError


@pytest.fixture
def publish_as(author, approver, space):
    def make(slug: str, *, body: str, kind: str = Article.Kind.ARTICLE, audience: str = Article.Audience.PUBLIC,
             locale: str = "de", **kwargs) -> Article:
        article = services.article_create(
            actor=author, slug=slug, title=kwargs.pop("title", slug), body=body, locale=locale, space=space,
            owner=author, audience=audience, kind=kind, **kwargs,
        )
        review = services.version_submit(actor=author, version=article.latest_version)
        services.version_approve(actor=approver, review=review)
        article.refresh_from_db()
        return article

    return make


@pytest.fixture
def fee_block(publish_as):
    return publish_as("sim-ersatz-preis", body="14,95 €", kind=Article.Kind.BLOCK, title="Preis Ersatz-SIM")


def _revise(article: Article, body: str, *, author, approver) -> Article:
    article.refresh_from_db()
    version = services.version_create(actor=author, article=article, title=article.title, body=body,
                                      base_version=article.latest_version.number)
    review = services.version_submit(actor=author, version=version)
    services.version_approve(actor=approver, review=review)
    article.refresh_from_db()
    return article


def test_a_block_is_reviewed_like_an_article_four_eyes_and_audit(approver, space, audit_counts):
    from tests.conftest import _user

    # given a block written by someone who may also approve
    author = _user("gerda", "authors", "approvers")
    before = audit_counts()
    block = services.article_create(actor=author, slug="hotline", title="Sperr-Hotline", body="0800 222 3611",
                                    locale="de", space=space, owner=author, kind=Article.Kind.BLOCK,
                                    audience=Article.Audience.PUBLIC)
    review = services.version_submit(actor=author, version=block.latest_version)

    # when the author tries to approve their own block
    with pytest.raises(PermissionDeniedError) as refused:
        services.version_approve(actor=author, review=review)

    # then four-eyes holds; another approver publishes it, audited
    assert refused.value.code == "four_eyes"
    services.version_approve(actor=approver, review=review)
    block.refresh_from_db()
    assert block.live_version.body == "0800 222 3611\n"
    assert audit_counts() - before == {AuditEvent.Type.ARTICLE_CREATE: 1, AuditEvent.Type.VERSION_SUBMIT: 1,
                                       AuditEvent.Type.VERSION_APPROVE: 1, AuditEvent.Type.VERSION_PUBLISH: 1}


def test_an_article_renders_the_blocks_live_text_and_records_the_reference(fee_block, publish_as, author, approver):
    article = publish_as("sim-karte-ersetzen", body="Eine Ersatz-SIM kostet {{ block:sim-ersatz-preis }}.")

    assert blocks.render_version(article.live_version) == "Eine Ersatz-SIM kostet 14,95 €.\n"
    assert article.live_version.body == "Eine Ersatz-SIM kostet {{ block:sim-ersatz-preis }}.\n"  # the version keeps the reference
    assert list(BlockReference.objects.filter(version=article.live_version).values_list("block__slug", flat=True)) == [
        "sim-ersatz-preis"]
    assert [a.slug for a in blocks.articles_using(fee_block)] == ["sim-karte-ersetzen"]

    # a new block version in review changes nothing; published, every article shows it
    fee_block.refresh_from_db()
    version = services.version_create(actor=author, article=fee_block, title=fee_block.title, body="9,95 €",
                                      base_version=1)
    review = services.version_submit(actor=author, version=version)
    assert blocks.render_version(article.live_version) == "Eine Ersatz-SIM kostet 14,95 €.\n"
    services.version_approve(actor=approver, review=review)
    assert blocks.render_version(article.live_version) == "Eine Ersatz-SIM kostet 9,95 €.\n"


@pytest.mark.parametrize(("body", "message"), [
    ("Kostet {{ block:gibt-es-nicht }}.", "Der Text kann nicht gespeichert werden: Es gibt keinen Baustein „gibt-es-nicht“."),
    ("Kostet {{ block:Gross_Schrift }}.",
     "Der Text kann nicht gespeichert werden: „{{ block:Gross_Schrift }}“ nennt keinen Baustein: Verwenden Sie seinen "
     "Kurznamen, z. B. {{ block:sim-ersatz-preis }}."),
    ("Siehe {{ block:tarifwechsel }}.", "Der Text kann nicht gespeichert werden: „tarifwechsel“ ist ein Artikel, kein Baustein."),
])
def test_an_unknown_block_or_an_article_is_refused_at_save_naming_the_slug(make_article, body, message):
    make_article("tarifwechsel")

    with pytest.raises(ApplicationError) as refused:
        make_article("neu", body=body)

    assert (refused.value.code, refused.value.message) == ("block_reference", message)
    assert not Article.objects.filter(slug="neu").exists()


def test_an_unpublished_block_is_refused_at_save_and_at_approval(author, approver, space, fee_block, make_article):
    draft_block = services.article_create(actor=author, slug="neuer-preis", title="Neu", body="5 €", locale="de",
                                          space=space, owner=author, kind=Article.Kind.BLOCK)
    with translation.override("en"), pytest.raises(ApplicationError) as refused:
        make_article("neu", body="Kostet {{ block:neuer-preis }}.")
    assert refused.value.message == ("The text cannot be saved: The content block “neuer-preis” is not published: it can "
                                     "be used once it is approved.")

    # a version saved while the block was live, approved after it was withdrawn: refused, nothing published
    article = make_article("sim", body="Kostet {{ block:sim-ersatz-preis }}.")
    review = services.version_submit(actor=author, version=article.latest_version)
    services.article_unpublish(actor=_knowledge_admin(), article=fee_block, reason="falscher Preis")
    with pytest.raises(ApplicationError) as refused:
        services.version_approve(actor=approver, review=review)
    assert "„sim-ersatz-preis“ ist nicht veröffentlicht" in refused.value.message
    article.refresh_from_db()
    assert article.live_version_id is None
    assert draft_block.live_version_id is None


def _knowledge_admin():
    from tests.conftest import _user

    return _user("wissensadmin", "knowledge admins")


def test_an_internal_block_in_a_public_article_is_refused_and_an_internal_article_may_use_it(publish_as, make_article):
    publish_as("kulanz-grenze", body="25 €", kind=Article.Kind.BLOCK, audience=Article.Audience.INTERNAL)

    with pytest.raises(ApplicationError) as refused:
        make_article("kulanz", body="Bis {{ block:kulanz-grenze }} ohne Rücksprache.", audience=Article.Audience.PUBLIC)
    assert refused.value.message == ("Der Text kann nicht gespeichert werden: Der Baustein „kulanz-grenze“ ist intern "
                                     "und kann nicht in einem öffentlichen Artikel verwendet werden.")

    internal = make_article("kulanz", body="Bis {{ block:kulanz-grenze }} ohne Rücksprache.", audience=Article.Audience.INTERNAL)
    assert blocks.render_version(internal.latest_version) == "Bis 25 € ohne Rücksprache.\n"


def test_an_article_using_an_internal_block_cannot_be_made_public(publish_as, approver, author):
    publish_as("kulanz-grenze", body="25 €", kind=Article.Kind.BLOCK, audience=Article.Audience.INTERNAL)
    article = publish_as("kulanz", body="Bis {{ block:kulanz-grenze }}.", audience=Article.Audience.INTERNAL)

    with pytest.raises(ApplicationError) as refused:
        services.settings_change_propose(actor=author, article=article, audience=Article.Audience.PUBLIC)

    assert refused.value.message == (
        "Die Einstellungen können nicht wirksam werden: Der Baustein „kulanz-grenze“ ist intern und kann nicht in "
        "einem öffentlichen Artikel verwendet werden. Es wurde nichts geändert.")
    article.refresh_from_db()
    assert (article.audience, article.settings_changes.count()) == (Article.Audience.INTERNAL, 0)


def test_a_block_made_internal_renders_nothing_in_a_public_article(fee_block, publish_as, author):
    article = publish_as("sim", body="Kostet {{ block:sim-ersatz-preis }}.")

    services.article_update_settings(actor=author, article=fee_block, audience=Article.Audience.INTERNAL)

    assert blocks.render_version(article.live_version) == "Kostet .\n"
    assert blocks.render_blocks(article.live_version.body, audience=Article.Audience.INTERNAL) == "Kostet 14,95 €.\n"


def test_a_block_cannot_use_a_block_nor_have_validity_dates_and_its_kind_is_fixed(fee_block, author, space, make_article):
    with pytest.raises(ApplicationError) as refused:
        services.article_create(actor=author, slug="b2", title="B2", body="{{ block:sim-ersatz-preis }} plus",
                                locale="de", space=space, owner=author, kind=Article.Kind.BLOCK)
    assert "Ein Baustein kann keinen anderen Baustein verwenden („sim-ersatz-preis“)" in refused.value.message

    article = make_article("tarif")
    with pytest.raises(ApplicationError) as refused:
        services.article_update_settings(actor=author, article=article, kind=Article.Kind.BLOCK)
    assert refused.value.code == "block_kind_fixed"
    article.refresh_from_db()
    assert article.kind == Article.Kind.ARTICLE


def test_blocks_are_never_served_on_their_own(fee_block):
    from django.utils import timezone

    assert not Article.objects.servable(["public", "internal"], on=timezone.localdate()).filter(pk=fee_block.pk).exists()


def test_a_translated_block_is_flagged_out_of_sync_and_names_the_articles_using_it(publish_as, author, approver):
    block = publish_as("sim-ersatz-preis", body="14,95 €", kind=Article.Kind.BLOCK)
    english = publish_as("sim-replacement-fee", body="€14.95", kind=Article.Kind.BLOCK, locale="en", translation_of=block)
    publish_as("sim-replacement", body="A new SIM costs {{ block:sim-replacement-fee }}.", locale="en")

    _revise(block, "9,95 €", author=author, approver=approver)

    flag = Flag.objects.get(article=english, reason=Flag.Reason.TRANSLATION_DRIFT)
    assert flag.summary == ("Its source “sim-ersatz-preis” (de) was updated from v1 to v2: update this translation. "
                            "Articles using this block: sim-replacement.")


def test_a_translation_not_using_the_block_is_flagged_out_of_sync_when_the_block_changes(publish_as, author, approver):
    block = publish_as("sim-ersatz-preis", body="14,95 €", kind=Article.Kind.BLOCK)
    source = publish_as("sim-karte-ersetzen", body="Kostet {{ block:sim-ersatz-preis }}.")
    hard_coded = publish_as("sim-replacement", body="Costs €14.95.", locale="en", translation_of=source)
    publish_as("hotline", body="Hotline {{ block:sim-ersatz-preis }}.")
    same_block = publish_as("hotline-en", body="Hotline {{ block:sim-ersatz-preis }}.", locale="en",
                            translation_of=Article.objects.get(slug="hotline"))

    _revise(block, "9,95 €", author=author, approver=approver)

    flag = Flag.objects.get(article=hard_coded, reason=Flag.Reason.TRANSLATION_DRIFT)
    assert flag.summary == ("Its source “sim-karte-ersetzen” (de) uses the content block “sim-ersatz-preis”, which was "
                            "updated from v1 to v2: update this translation.")
    assert "-14,95 €\n+9,95 €" in flag.evidence
    assert not Flag.objects.filter(article=same_block).exists()  # it shows the block's new text itself


def test_a_change_that_makes_a_block_wrong_flags_the_block_naming_its_articles_and_they_follow_it(
        fee_block, publish_as, author, approver):
    from governance.models import ChangeEvent

    # given two articles showing the block, and a change the assessment found in one of them
    first = publish_as("sim-karte-ersetzen", body="Eine Ersatz-SIM kostet {{ block:sim-ersatz-preis }}.")
    publish_as("esim-aktivieren", body="Ein neues Profil kostet {{ block:sim-ersatz-preis }}.")
    event = services.change_event_create(kind="policy", title="Neuer Preis", description="Ab 1. Februar 2027 9,95 €.",
                                         effective_date=__import__("datetime").date(2027, 2, 1), assess=False)
    cause = services.ImpactReason(stated="14,95 €", new="9,95 €", date=event.effective_date)
    finding = services.ImpactFinding(article=first, score=0.9, evidence="Eine Ersatz-SIM kostet 14,95 €.", cause=cause)

    # when the assessment is recorded
    services.change_event_record(event=event, findings=[finding], elapsed_ms=5)

    # then the block is flagged, naming the articles using it, and the article's flag follows the block's
    block_flag = Flag.objects.get(article=fee_block, change_event=event)
    assert block_flag.summary == ("Baustein, verwendet in esim-aktivieren, sim-karte-ersetzen: nennt 14,95 €; die "
                                  "Änderung legt ab 2027-02-01 9,95 € fest")
    article_flag = Flag.objects.get(article=first, change_event=event)
    assert article_flag.summary == (
        "Über den Baustein „sim-ersatz-preis“: nennt 14,95 €; die Änderung legt ab 2027-02-01 9,95 € fest")
    assert article_flag.follows_id == block_flag.pk

    # when the block's new version is published, both flags are resolved
    _revise(fee_block, "9,95 €", author=author, approver=approver)
    block_flag.refresh_from_db()
    article_flag.refresh_from_db()
    assert (block_flag.state, article_flag.state) == (Flag.State.RESOLVED, Flag.State.RESOLVED)
    assert article_flag.resolution_note.startswith(
        "Folgt der Entscheidung über die Meldung des Bausteins „sim-ersatz-preis“, den er verwendet")
    assert ChangeEvent.objects.get(pk=event.pk).status == ChangeEvent.Status.DONE
