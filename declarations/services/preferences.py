"""A user's own choices (not part of any declaration, so not on the audit trail)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from declarations.models import UserPreference

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def user_set_language(*, user: User, language: str) -> UserPreference:
    """Remember the language ``user`` reads the pages in, for every device they sign in on."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": [_("Choose Kazakh, Russian or English.")]})
    preference, _created = UserPreference.objects.update_or_create(
        user=user, defaults={"language": language}
    )
    return preference


def user_language(*, user: User) -> str | None:
    return UserPreference.objects.filter(user=user).values_list("language", flat=True).first()
