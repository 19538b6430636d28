"""The sign-in forms of the desktop and the admin, throttled (verity/throttle.py)."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from verity import throttle


class ThrottledLoginMixin:
    """Refuses a sign-in, with a message saying when to try again, after too many failures for the same
    username from the same address; counts a failure when the username and password did not match."""

    throttled_message = _("Too many failed sign-ins for this username from your address. "
                          "Try again in %(minutes)d minutes.")
    throttled = ""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if self.request is None or not username:
            return super().clean()
        retry_after = throttle.login_retry_after(self.request, username)
        if retry_after:
            self.throttled = self.throttled_message % {"minutes": throttle.minutes(retry_after)}
            raise forms.ValidationError(self.throttled, code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if self.user_cache is None:  # wrong password or unknown user (not: right password, no access)
                throttle.login_failed(self.request, username)
            raise
        throttle.login_succeeded(self.request, username)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
