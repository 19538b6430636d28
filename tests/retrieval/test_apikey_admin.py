"""API keys in the admin: a knowledge admin creates (shown once), rotates and revokes keys; all audited."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from governance.models import AuditEvent
from retrieval.apikeys import apikey_create, apikey_lookup
from retrieval.models import ApiKey

CREATE = reverse("admin:retrieval_apikey_create")


def raw_key(response) -> str:
    match = re.search(r'id="api-key"[^>]*>(vk_[\w-]+)<', response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1)


@pytest.fixture
def admin_client(client, admin_user_role):
    client.force_login(admin_user_role)
    return client


def test_a_knowledge_admin_creates_a_key_that_is_shown_once_and_works(admin_client):
    response = admin_client.post(CREATE, {"name": "Hilfe-Center", "audience": "public", "scopes": ["changes"],
                                          "rate_limit_per_minute": 60})

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    raw = raw_key(response)
    key = apikey_lookup(raw)
    assert (key.name, key.audience, key.scopes, key.rate_limit_per_minute) == ("Hilfe-Center", "public", ["changes"], 60)
    assert key.created_by.username == "erika"
    assert raw not in admin_client.get(reverse("admin:retrieval_apikey_change", args=[key.pk])).content.decode()
    assert AuditEvent.objects.filter(event_type=AuditEvent.Type.APIKEY_CREATE, actor__username="erika").count() == 1
    assert admin_client.get("/api/v1/search", {"q": "Rückgabe"}, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_a_taken_name_is_named_and_nothing_is_created(admin_client):
    apikey_create(name="Chatbot", audience="public")
    response = admin_client.post(CREATE, {"name": "Chatbot", "audience": "internal", "rate_limit_per_minute": 120})

    assert response.status_code == 200 and "Chatbot" in response.content.decode() and 'id="api-key"' not in response.content.decode()
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().audience == "public"
    assert not AuditEvent.objects.filter(event_type=AuditEvent.Type.APIKEY_CREATE).exists()


def test_rotating_replaces_the_secret_at_once(admin_client):
    key, old = apikey_create(name="Chatbot", audience="public")
    page = admin_client.get(reverse("admin:retrieval_apikey_rotate", args=[key.pk]))
    assert page.status_code == 200 and key.prefix in page.content.decode()

    new = raw_key(admin_client.post(reverse("admin:retrieval_apikey_rotate", args=[key.pk])))

    assert new != old and apikey_lookup(old) is None and apikey_lookup(new).pk == key.pk
    assert admin_client.get("/api/v1/search", {"q": "x"}, HTTP_AUTHORIZATION=f"Bearer {old}").status_code == 401
    assert AuditEvent.objects.filter(event_type=AuditEvent.Type.APIKEY_ROTATE, target_label="api key: Chatbot").count() == 1


def test_a_revoked_key_is_not_rotated(admin_client):
    key, _ = apikey_create(name="Alt", audience="public")
    admin_client.post(reverse("admin:retrieval_apikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]})
    key.refresh_from_db()
    assert key.revoked_at is not None

    response = admin_client.post(reverse("admin:retrieval_apikey_rotate", args=[key.pk]), follow=True)

    assert "revoked" in response.content.decode() and ApiKey.objects.get(pk=key.pk).key_hash == key.key_hash


def test_who_may_not_manage_keys_gets_403_and_sees_no_link(client, author):
    client.force_login(author)
    assert client.get(CREATE).status_code in {302, 403}
    assert client.post(CREATE, {"name": "x", "audience": "internal", "rate_limit_per_minute": 1}).status_code in {302, 403}
    assert not ApiKey.objects.exists()
    assert CREATE not in client.get(reverse("admin:index")).content.decode()


def test_the_key_list_offers_creation_to_knowledge_admins(admin_client):
    assert CREATE in admin_client.get(reverse("admin:retrieval_apikey_changelist")).content.decode()
