"""Writing an article in the admin (#16 item 2): proposals the server makes when the browser's editor
script is off (slug from the title, owner, language, audience from the space), the preview endpoint the
editor calls, and the list search over the live text."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance import services
from kb.models import Article, Space
from kb.rendering import MAX_BODY_CHARS
from kb.slugs import slug_from_title

ADD = "admin:kb_article_add"
PREVIEW = "admin:kb_article_preview"


def _add_data(space: Space, **overrides) -> dict:
    data = {
        "content_title": "Rücksendung: Größe passt nicht", "slug": "", "content_body": "Text", "change_note": "",
        "owner": "", "space": space.pk, "locale": "de", "kind": "article", "audience": "",
        "review_interval_days": "", "valid_from": "", "valid_until": "", "tags": "", "translation_of": "",
    }
    return data | overrides


@pytest.mark.parametrize(("title", "slug"), [
    ("Rücksendung: Größe passt nicht", "ruecksendung-groesse-passt-nicht"),
    ("Straße & Öffnungszeiten 2025", "strasse-oeffnungszeiten-2025"),
    ("Café crème – ÄÖÜ ẞ", "cafe-creme-aeoeue-ss"),
    ("???", ""),
])
def test_slug_from_title_spells_german_letters_out(title, slug):
    assert slug_from_title(title) == slug


def test_slug_from_a_long_title_is_cut_at_a_word():
    slug = slug_from_title("Tarifwechsel " * 20)

    assert len(slug) <= 120 and slug.endswith("tarifwechsel") and not slug.endswith("-")


def test_add_form_orders_fields_as_people_fill_them_and_proposes_owner_and_language(client, author, space):
    client.force_login(author)

    response = client.get(reverse(ADD), {"content_title": "Gerät zurückgeben"}, HTTP_ACCEPT_LANGUAGE="de")

    html = response.content.decode()
    positions = [html.index(f'name="{name}"') for name in ("content_title", "slug", "content_body", "space", "audience", "locale", "owner")]
    assert positions == sorted(positions)
    form = response.context["adminform"].form
    assert form["owner"].value() == author.pk
    assert form["locale"].value() == "de"
    assert form["slug"].value() == "geraet-zurueckgeben"  # proposed from a title passed in the link
    assert form["space"].value() == space.pk  # the only space
    assert [code for code, _ in form.fields["locale"].choices] == ["de", "en"]
    assert 'data-slug-from="id_content_title"' in html
    assert 'data-preview-url="/admin/kb/article/preview/"' in html
    assert "/static/vendor/easymde/easymde.min.js" in html and "/static/verity/editor.js" in html


def test_without_javascript_the_slug_is_proposed_from_the_title(client, author, space):
    client.force_login(author)

    response = client.post(reverse(ADD), _add_data(space, owner=author.pk))

    assert response.status_code == 302, response.content.decode()[:3000]
    article = Article.objects.get()
    assert (article.slug, article.latest_version.title) == ("ruecksendung-groesse-passt-nicht", "Rücksendung: Größe passt nicht")


def test_a_proposed_slug_already_taken_gets_a_number(client, author, space, make_article):
    make_article("ruecksendung-groesse-passt-nicht", title="Alt")
    client.force_login(author)

    client.post(reverse(ADD), _add_data(space, owner=author.pk))

    assert Article.objects.filter(slug="ruecksendung-groesse-passt-nicht-2").exists()


def test_a_slug_typed_by_hand_is_kept_and_still_validated(client, author, space, make_article):
    client.force_login(author)

    kept = client.post(reverse(ADD), _add_data(space, owner=author.pk, slug="retoure"))
    refused = client.post(reverse(ADD), _add_data(space, owner=author.pk, slug="Retoure Groß", content_title="Zwei"))

    assert kept.status_code == 302 and Article.objects.filter(slug="retoure").exists()
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["slug"]
    assert not Article.objects.filter(latest_version__title="Zwei").exists()


def test_a_title_without_letters_asks_for_a_slug(client, author, space):
    client.force_login(author)

    response = client.post(reverse(ADD), _add_data(space, owner=author.pk, content_title="???"))

    assert response.context["adminform"].form.errors["slug"] == [
        "Geben Sie ein Kürzel an: Der Titel enthält keine Buchstaben oder Ziffern, aus denen sich eines bilden ließe."]
    assert Article.objects.count() == 0


def test_audience_left_empty_is_the_spaces_default(client, author, space):
    public_space = Space.objects.create(slug="hilfe", name="Hilfe", default_audience="public")
    client.force_login(author)

    client.post(reverse(ADD), _add_data(public_space, owner=author.pk, slug="a"))
    client.post(reverse(ADD), _add_data(space, owner=author.pk, slug="b"))
    client.post(reverse(ADD), _add_data(public_space, owner=author.pk, slug="c", audience="internal"))

    audiences = dict(Article.objects.values_list("slug", "audience"))
    assert audiences == {"a": "public", "b": "internal", "c": "internal"}


def test_add_form_proposes_the_audience_of_the_space_in_the_link(client, author, space):
    public_space = Space.objects.create(slug="hilfe", name="Hilfe", default_audience="public")
    client.force_login(author)

    chosen = client.get(reverse(ADD), {"space": public_space.pk}).context["adminform"].form
    none = client.get(reverse(ADD)).context["adminform"].form  # two spaces: none chosen yet

    assert (chosen["audience"].value(), none["audience"].value(), none["space"].value()) == ("public", "", None)
    html = client.get(reverse(ADD)).content.decode()
    assert f'"{public_space.pk}": "public"' in html.replace("&quot;", '"')


def test_change_form_keeps_an_imported_language_and_offers_the_configured_ones(client, author, make_article):
    article = make_article(locale="fr")
    client.force_login(author)

    form = client.get(reverse("admin:kb_article_change", args=[article.pk])).context["adminform"].form

    assert [code for code, _ in form.fields["locale"].choices] == ["de", "en", "fr"]
    assert form["locale"].value() == "fr"


def test_changing_the_body_still_refuses_a_concurrent_edit(client, author, author2, published_article):
    services.version_create(actor=author2, article=published_article, title="Tarif wechseln", body="Neu von Ben.",
                            base_version=1)
    client.force_login(author)
    data = {
        "content_title": "Tarif wechseln", "content_body": "Meine Änderung", "change_note": "", "base_version": 1,
        "owner": author.pk, "space": published_article.space_id, "locale": "de", "kind": "article",
        "audience": "public", "review_interval_days": "", "valid_from": "", "valid_until": "", "tags": "",
        "translation_of": "",
    }

    response = client.post(reverse("admin:kb_article_change", args=[published_article.pk]), data)

    assert response.status_code == 200
    assert "wurde NICHT gespeichert" in response.content.decode()
    assert published_article.versions.count() == 2


# --- the preview endpoint -----------------------------------------------------------------------


def test_preview_renders_tables_and_links_as_published(client, author):
    client.force_login(author)
    body = "| Tarif | Preis |\n| --- | --- |\n| S | 9,99 € |\n\n[Preisliste](https://example.com/preise)"

    response = client.post(reverse(PREVIEW), {"body": body})

    assert response.status_code == 200
    html = response.json()["html"]
    assert "<table>" in html and "<td>9,99 €</td>" in html
    assert '<a href="https://example.com/preise" rel="noopener noreferrer nofollow">Preisliste</a>' in html


def test_preview_never_carries_a_script(client, author):
    client.force_login(author)
    body = ('<script>alert("x")</script>\n\n<img src="x" onerror="alert(1)">\n\n[klick](javascript:alert(1))\n\n'
            "<b>fett</b>")

    html = client.post(reverse(PREVIEW), {"body": body}).json()["html"]

    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert "<b>fett</b>" in html


def test_preview_refuses_a_body_the_save_would_refuse(client, author):
    client.force_login(author)

    response = client.post(reverse(PREVIEW), {"body": "x" * (MAX_BODY_CHARS + 1)})

    assert response.status_code == 400
    assert response.json() == {
        "error": "Der Text kann nicht gespeichert werden: der Text hat 100002 Zeichen; erlaubt sind höchstens 100000."}


def test_preview_is_for_those_who_may_write(client, approver, agent, author):
    # approvers and agents may read articles in the admin but not write them; a visitor is asked to sign in
    client.force_login(approver)
    as_approver = client.post(reverse(PREVIEW), {"body": "Text"})
    client.force_login(agent)
    as_agent = client.post(reverse(PREVIEW), {"body": "Text"})
    client.logout()
    anonymous = client.post(reverse(PREVIEW), {"body": "Text"})
    client.force_login(author)
    by_get = client.get(reverse(PREVIEW), {"body": "Text"})

    assert (as_approver.status_code, as_approver.json()) == (403, {"error": "Sie dürfen keine Artikel schreiben."})
    assert as_agent.status_code == 403 and anonymous.status_code == 302
    assert by_get.status_code == 405


def test_preview_needs_the_csrf_token(author):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(author)

    response = client.post(reverse(PREVIEW), {"body": "Text"})

    assert response.status_code == 403


def test_preview_shows_a_blocks_live_text_and_names_references_the_save_would_refuse(client, author, approver, space):
    block = services.article_create(actor=author, slug="kulanz-grenze", title="Kulanzgrenze", body="25 €", locale="de",
                                    space=space, owner=author, audience=Article.Audience.INTERNAL, kind=Article.Kind.BLOCK)
    services.version_approve(actor=approver, review=services.version_submit(actor=author, version=block.latest_version))
    client.force_login(author)
    body = "Gutschriften bis {{ block:kulanz-grenze }} ohne Rücksprache. {{ block:gibt-es-nicht }}"

    internal = client.post(reverse(PREVIEW), {"body": body, "audience": "internal", "kind": "article"}).json()
    public = client.post(reverse(PREVIEW), {"body": body, "audience": "public", "kind": "article"}).json()

    assert internal == {"html": "<p>Gutschriften bis 25 € ohne Rücksprache. </p>",
                        "problems": ["Es gibt keinen Baustein „gibt-es-nicht“."]}
    assert public["html"] == "<p>Gutschriften bis  ohne Rücksprache. </p>"  # an internal block never shows in public text
    assert len(public["problems"]) == 2 and "kulanz-grenze" in public["problems"][0]


# --- the list search ------------------------------------------------------------------------------


def test_list_search_finds_words_of_the_live_text(client, author, published_article, make_article):
    make_article("kuendigung", title="Vertrag kündigen", body="Die Kündigungsfrist beträgt einen Monat.")
    client.force_login(author)

    by_text = client.get(reverse("admin:kb_article_changelist"), {"q": "einmal pro Monat"})
    draft_only = client.get(reverse("admin:kb_article_changelist"), {"q": "Kündigungsfrist"})

    assert [a.slug for a in by_text.context["cl"].result_list] == ["tarifwechsel"]
    assert list(draft_only.context["cl"].result_list) == []  # a draft's text is not served, so not searched
