"""Who a person is, as a fact recorded now (issue 14): the names clocks, notifications and
events freeze when they are written."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from declarations.models import Servant


def person_snapshot(user_id: int | None) -> tuple[str, str, str]:
    """(name, position, unit) of a person as they are now, for a fact recorded now."""
    if user_id is None:
        return "", "", ""
    servant = (
        Servant.objects.filter(user_id=user_id, is_active=True)
        .select_related("position__unit")
        .order_by("-id")
        .first()
    )
    if servant is not None:
        position = servant.position
        return (
            servant.full_name,
            position.title if position else "",
            position.unit.name if position else "",
        )
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return "", "", ""
    return user.get_full_name() or user.get_username(), "", ""
