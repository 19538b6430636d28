"""Failed API keys are throttled per client address (#14 item 6): after VERITY_API_AUTH_MAX_FAILURES unknown keys
within the window, that address gets 429 for any key until the window has passed."""

from __future__ import annotations

import datetime as dt

from django.test import override_settings
from rest_framework.test import APIClient

from verity.models import AuthFailure


def _search(header: str, ip: str = "203.0.113.7"):
    return APIClient().get("/api/v1/search", {"q": "Rechnung"}, HTTP_AUTHORIZATION=header, REMOTE_ADDR=ip)


@override_settings(VERITY_API_AUTH_MAX_FAILURES=3)
def test_unknown_keys_from_one_address_lock_it_out_with_a_clear_error(public_key):
    for _ in range(3):
        assert _search("Bearer vk_guessed").status_code == 401

    response = _search(public_key.header)  # even a valid key: a guess must not be tried

    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert retry_after in {899, 900}
    assert response.json() == {"error": {"code": "too_many_failed_attempts", "message": (
        f"Too many unknown API keys from your address. Expected available in {retry_after} seconds.")}}
    assert _search(public_key.header, ip="198.51.100.9").status_code == 200  # other addresses are not affected


@override_settings(VERITY_API_AUTH_MAX_FAILURES=3)
def test_the_lock_ends_with_the_window(public_key):
    for _ in range(3):
        _search("Bearer vk_guessed")
    AuthFailure.objects.update(failed_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=15, seconds=1))

    assert _search(public_key.header).status_code == 200


def test_valid_keys_and_requests_without_a_key_are_not_counted(public_key):
    for _ in range(5):
        assert _search(public_key.header).status_code == 200
        assert APIClient().get("/api/v1/search", {"q": "x"}).status_code == 401

    assert not AuthFailure.objects.exists()
