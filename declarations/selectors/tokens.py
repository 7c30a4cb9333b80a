"""A user's own API tokens (issue 18): every read starts from the user, so another user's token
is simply not found."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

from django.db.models import QuerySet

from declarations.models import ApiToken

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

UserLike: TypeAlias = "User | AnonymousUser"


def token_list_of(*, user: UserLike, now: datetime) -> QuerySet[ApiToken]:
    """``user``'s live tokens, newest first (at most ``COI_TOKEN_MAX_PER_USER``)."""
    if not user.is_authenticated:
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user_id=user.pk, expires_at__gt=now).order_by(
        "-created_at", "-id"
    )
