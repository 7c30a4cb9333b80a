"""Writes of a person's inbox that take several kinds at once (issue 16). The one-kind and
mark-read writes are ``services/notifications.py``'s; this module only composes them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from declarations.selectors.notifications import notification_email_choices
from declarations.services.notifications import notification_preference_set

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def notification_preferences_set(*, user: User, emails: Mapping[str, bool]) -> int:
    """Switch the e-mail of several kinds on or off for ``user``, all or none; returns how
    many changed.

    1. read the user's choices as they are (one query);
    2. for each kind whose choice changes, call ``notification_preference_set`` (which refuses
       an unknown kind and switching off a kind the rules require);
    3. if any was refused, raise one ``ValidationError`` keyed by kind, with each kind's
       messages, and write nothing.
    """
    current = {choice.kind.value: choice.email for choice in notification_email_choices(user=user)}
    errors: dict[str, list[str]] = {}
    changed = 0
    with transaction.atomic():
        for kind, email in emails.items():
            if current.get(kind) == email:
                continue
            try:
                notification_preference_set(user=user, kind=kind, email=email)
            except ValidationError as exc:  # refused before it wrote: the transaction is sound
                errors[kind] = exc.messages
                continue
            changed += 1
        if errors:
            raise ValidationError(errors)  # rolls back the kinds already written
    return changed
