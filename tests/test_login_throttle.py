"""Sign-in throttling (#14 item 6): five failed sign-ins for one username from one address within 15 minutes,
and the sixth is refused with a message, on the desktop's and the admin's sign-in pages alike."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client, override_settings

from verity.models import AuthFailure

# The desktop's sign-in page refuses in German, the default language.
DESKTOP_REFUSAL = "Too many failed sign-ins for this username from your address. Try again in 15 minutes."


def _sign_in(client: Client, url: str, username: str, password: str, ip: str = "203.0.113.7", **headers):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip,
                       HTTP_ACCEPT_LANGUAGE="en", **headers)


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_five_failures_lock_the_username_for_that_address_even_with_the_right_password(author, url):
    client = Client()
    for _ in range(5):
        response = _sign_in(client, url, "anna", "wrong")
        assert response.status_code == 200
        assert "Too many failed sign-ins" not in response.content.decode()

    response = _sign_in(client, url, "anna", "pw-anna")

    assert response.status_code == 200
    assert DESKTOP_REFUSAL in response.content.decode()
    assert not _signed_in(client)
    assert AuthFailure.objects.filter(kind="login", username="anna", client_ip="203.0.113.7").count() == 5


def test_the_lock_is_per_username_and_address(author, author2):
    client = Client()
    for _ in range(5):
        _sign_in(client, "/accounts/login/", "ANNA", "wrong")  # usernames are counted case-insensitively

    assert _sign_in(Client(), "/accounts/login/", "anna", "pw-anna", ip="198.51.100.9").status_code == 302  # elsewhere
    assert _sign_in(Client(), "/accounts/login/", "ben", "pw-ben").status_code == 302  # a colleague, same address
    assert DESKTOP_REFUSAL in _sign_in(Client(), "/accounts/login/", "anna", "pw-anna").content.decode()


def test_the_lock_ends_when_the_failures_leave_the_15_minute_window(author):
    client = Client()
    for _ in range(5):
        _sign_in(client, "/accounts/login/", "anna", "wrong")
    AuthFailure.objects.update(failed_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=15, seconds=1))

    response = _sign_in(client, "/accounts/login/", "anna", "pw-anna")

    assert response.status_code == 302
    assert _signed_in(client)
    assert not AuthFailure.objects.filter(username="anna").exists()  # a success clears its failures


def test_four_failures_then_the_right_password_signs_in(author):
    client = Client()
    for _ in range(4):
        _sign_in(client, "/accounts/login/", "anna", "wrong")

    assert _sign_in(client, "/accounts/login/", "anna", "pw-anna").status_code == 302


def test_the_right_password_without_admin_access_is_not_counted_as_a_failure(agent):
    client = Client()
    for _ in range(6):
        response = _sign_in(client, "/admin/login/", "felix", "pw-felix")
        assert "Too many failed sign-ins" not in response.content.decode()

    assert not AuthFailure.objects.exists()


@override_settings(BEHIND_TLS_PROXY=True)
def test_behind_the_proxy_the_address_is_the_one_the_proxy_appended(author):
    for spoofed in ("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"):
        _sign_in(Client(), "/accounts/login/", "anna", "wrong", ip="10.0.0.2",
                 HTTP_X_FORWARDED_FOR=f"{spoofed}, 192.0.2.44")

    response = _sign_in(Client(), "/accounts/login/", "anna", "pw-anna", ip="10.0.0.2",
                        HTTP_X_FORWARDED_FOR="9.9.9.9, 192.0.2.44")

    assert DESKTOP_REFUSAL in response.content.decode()
    assert set(AuthFailure.objects.values_list("client_ip", flat=True)) == {"192.0.2.44"}
