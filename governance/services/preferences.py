"""What people choose for themselves: the language Verity writes to them in."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from governance.models import UserPreferences
from verity.core.i18n import supported_language


@transaction.atomic
def user_language_remember(*, user: AbstractBaseUser, language: str) -> None:
    """Remember the language a person uses Verity in (at sign-in, on switching): their e-mails are written in it.

    A preference, not a governed transition: no audit event. Writes only when it changes.
    """
    if not getattr(user, "pk", None):
        return
    language = supported_language(language)
    updated = UserPreferences.objects.filter(user_id=user.pk).exclude(language=language).update(
        language=language, updated_at=timezone.now())
    if not updated:
        UserPreferences.objects.get_or_create(user_id=user.pk, defaults={"language": language})
