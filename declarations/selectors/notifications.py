"""A person's own notifications (issue 16): their in-app list, its unread count, and which
kinds reach them by e-mail.

Every read starts from the recipient, so another user's notification is simply not found (a
404 at both doors, STYLE.md rule 16).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone

from declarations.choices import MANDATORY_NOTIFICATIONS, Clock, NotificationKind
from declarations.models import Notification, NotificationPreference

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

UserLike: TypeAlias = "User | AnonymousUser"

#: the columns a row of the list shows: its declaration's public id and number, not its texts
LIST_COLUMNS = (
    *("code", "kind", "declaration", "context", "created_at", "read_at"),
    # the declaration's state too: its model reads it when loaded (the FSM's concurrency check)
    *("declaration__code", "declaration__registration_number", "declaration__state"),
)


def notification_list_of(*, user: UserLike) -> QuerySet[Notification]:
    """``user``'s own notifications, newest first, each with its declaration's id and number:
    one query a page, on the index ``notification_inbox``."""
    if not user.is_authenticated:
        return Notification.objects.none()
    return (
        Notification.objects.filter(recipient_id=user.pk)
        .select_related("declaration")
        .only(*LIST_COLUMNS)
        .order_by("-created_at", "-id")
    )


def notification_unread_count(*, user: UserLike) -> int:
    """How many of ``user``'s notifications are unread: one ``COUNT`` on the partial index
    ``notification_unread``."""
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient_id=user.pk, read_at__isnull=True).count()


def notification_get_own(*, user: UserLike, code: UUID) -> Notification:
    """One of ``user``'s notifications; ``Notification.DoesNotExist`` for anyone else's."""
    return notification_list_of(user=user).get(code=code)


@dataclass(frozen=True)
class NotificationDue:
    """The clock a notification is about and its due time (stored in UTC, shown in Almaty)."""

    clock: Clock
    due_at: datetime


def notification_due(notification: Notification) -> NotificationDue | None:
    """The deadline a notification names, read from what it was queued with (its ``context``:
    ``clock`` and ``due_at`` as ISO text, as ``services/reminders.deadline_context`` writes
    them). ``None`` when it names none (a decision, a digest), or when a row queued under an
    older shape of the context no longer reads as one: the list shows it without a deadline
    rather than failing."""
    context = notification.context if isinstance(notification.context, dict) else {}
    clock, due_at = context.get("clock"), context.get("due_at")
    if clock not in Clock.values or not isinstance(due_at, str):
        return None
    try:
        moment = datetime.fromisoformat(due_at)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return None
    return NotificationDue(clock=Clock(clock), due_at=moment)


@dataclass(frozen=True)
class EmailChoice:
    """Whether one kind of notification reaches a user by e-mail, and whether they may say no."""

    kind: NotificationKind
    email: bool
    mandatory: bool


def notification_email_choices(*, user: UserLike) -> list[EmailChoice]:
    """Every kind, in the order ``NotificationKind`` lists them, with ``user``'s choice (one
    query). No row means e-mail on; a mandatory kind is on whatever a row says, as the sender
    reads it (``services/notifications.notifications_build``)."""
    switched_off = (
        set(
            NotificationPreference.objects.filter(user_id=user.pk, email=False).values_list(
                "kind", flat=True
            )
        )
        if user.is_authenticated
        else set()
    )
    return [
        EmailChoice(
            kind=kind,
            email=kind in MANDATORY_NOTIFICATIONS or kind not in switched_off,
            mandatory=kind in MANDATORY_NOTIFICATIONS,
        )
        for kind in NotificationKind
    ]
