"""The notification outbox (STYLE.md rule 25).

``notification_enqueue`` writes rows inside the caller's transaction and schedules a dispatch after
commit; ``notifications_send_pending`` claims rows with a conditional update (so two workers never
send one row twice) and e-mails them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from declarations.choices import (
    MANDATORY_NOTIFICATIONS,
    AuditAction,
    DeliveryState,
    NotificationKind,
)
from declarations.models import Deadline, Declaration, Notification, NotificationPreference
from declarations.services.audit import audit_record
from declarations.services.deadlines import person_snapshot
from declarations.side_effects import Effect, after_commit, register_effect

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


def notification_enqueue(
    *,
    recipient_ids: Iterable[int | None],
    kind: NotificationKind,
    declaration: Declaration | None,
    context: dict[str, Any] | None = None,
    exclude_ids: Iterable[int | None] = (),
    deadline: Deadline | None = None,
    key: str = "",
) -> int:
    """Queue one notification per distinct recipient; returns how many were queued.

    With a ``key`` the rows exist once per recipient whatever runs this again (a reminder, an
    escalation level, a week's digest): the database drops a second one (``notification_once``).
    """
    kind = NotificationKind(kind)  # an unknown kind is a bug, never a silent default
    skip = {i for i in exclude_ids if i is not None}
    ids = sorted({i for i in recipient_ids if i is not None} - skip)
    if key:  # told already: not again (and the constraint stops a concurrent second)
        told = Notification.objects.filter(key=key, recipient_id__in=ids)
        ids = sorted(set(ids) - set(told.values_list("recipient_id", flat=True)))
    if not ids:
        return 0
    rows = notifications_build(
        recipient_ids=ids,
        kind=kind,
        declaration=declaration,
        context=context or {},
        deadline=deadline,
        key=key,
    )
    Notification.objects.bulk_create(rows, ignore_conflicts=bool(key))
    after_commit(Effect.NOTIFICATIONS_DISPATCH)
    return len(ids)


def notifications_build(
    *,
    recipient_ids: list[int],
    kind: NotificationKind,
    declaration: Declaration | None,
    context: dict[str, Any],
    deadline: Deadline | None = None,
    key: str = "",
    opted_out: set[tuple[int, str]] | None = None,
) -> list[Notification]:
    """Unsaved rows, e-mail waiting or skipped by each recipient's choice (one query, unless the
    caller read the choices of a whole batch: ``opted_out``)."""
    if opted_out is None:
        opted_out = email_opt_outs(recipient_ids)
    now = timezone.now()
    rows = []
    for recipient_id in recipient_ids:
        mailed = kind in MANDATORY_NOTIFICATIONS or (recipient_id, kind) not in opted_out
        rows.append(
            Notification(
                recipient_id=recipient_id,
                kind=kind,
                declaration=declaration,
                deadline=deadline,
                key=key,
                context=context,
                delivery=DeliveryState.PENDING if mailed else DeliveryState.SKIPPED,
                next_attempt_at=now if mailed else None,
                error="" if mailed else "the recipient chose not to receive this by e-mail",
            )
        )
    return rows


def email_opt_outs(user_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(user, kind) pairs whose e-mail the user switched off."""
    return set(
        NotificationPreference.objects.filter(user_id__in=list(user_ids), email=False).values_list(
            "user_id", "kind"
        )
    )


def notification_preference_set(*, user: User, kind: str, email: bool) -> NotificationPreference:
    """Switch the e-mail of one kind on or off for ``user``; kinds the rules require stay on."""
    if kind not in NotificationKind.values:
        raise ValidationError({"kind": [_("Choose one of the kinds of notification listed.")]})
    if not email and kind in MANDATORY_NOTIFICATIONS:
        raise ValidationError(
            {
                "email": [
                    _("The rules require this notification; its e-mail cannot be switched off.")
                ]
            }
        )
    preference, _created = NotificationPreference.objects.update_or_create(
        user=user, kind=kind, defaults={"email": email}
    )
    return preference


def notifications_mark_read(*, user: User, ids: Iterable[int] | None = None) -> int:
    """Mark ``user``'s own notifications read (all unread ones when ``ids`` is None); another
    user's ids are ignored. Returns how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())


@register_effect(Effect.NOTIFICATIONS_DISPATCH)
def _dispatch() -> None:
    # In the embedded set-up mail is sent right after commit; in production a worker runs
    # `manage.py send_notifications` and this is switched off.
    if getattr(settings, "COI_SEND_NOTIFICATIONS_INLINE", False):
        notifications_send_pending()


def notifications_send_pending(*, now: datetime | None = None, limit: int = 500) -> int:
    """Claim and send up to ``limit`` queued notifications; returns how many were sent."""
    now = now or timezone.now()
    sent = 0
    user_model = get_user_model()
    candidates = list(
        Notification.objects.filter(
            delivery=DeliveryState.PENDING, next_attempt_at__lte=now
        ).values_list("id", flat=True)[:limit]
    )
    for notification_id in candidates:
        claimed = Notification.objects.filter(pk=notification_id, claimed_at__isnull=True).update(
            claimed_at=timezone.now()
        )
        if not claimed:
            continue  # another worker took it
        notification = Notification.objects.select_related("declaration").get(pk=notification_id)
        recipient = user_model.objects.get(pk=notification.recipient_id)
        email = getattr(recipient, "email", "")
        if not email:
            Notification.objects.filter(pk=notification_id).update(
                error="recipient has no e-mail", delivery=DeliveryState.SKIPPED
            )
            _record_delivery(notification, delivered=False, detail="recipient has no e-mail")
            continue
        context: dict[str, Any] = {
            "notification": notification,
            "declaration": notification.declaration,
        }
        context.update(notification.context)
        with translation.override(settings.LANGUAGE_CODE):
            context["title"] = str(NotificationKind(notification.kind).label)
            subject = render_to_string("emails/notification-subject.txt", context).strip()
            body = render_to_string("emails/notification-body.txt", context)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        except OSError as exc:
            logger.warning("notification %s not sent: %s", notification_id, exc)
            Notification.objects.filter(pk=notification_id).update(claimed_at=None, error=str(exc))
            continue
        Notification.objects.filter(pk=notification_id).update(
            sent_at=timezone.now(), error="", delivery=DeliveryState.SENT
        )
        _record_delivery(notification, delivered=True)
        sent += 1
    return sent


def _record_delivery(notification: Notification, *, delivered: bool, detail: str = "") -> None:
    """Who was told, when (003 cl. 9: a conflict *known to* them): each notification sent, or
    found undeliverable, is an event on its declaration's chain (issue 14).

    Only the event is written, under the declaration's lock, through the one event writer; the
    declaration itself does not change (its ``updated_at``, and so an API client's ``ETag``,
    stay as they were: being told is not a step of the case).
    """
    if notification.declaration_id is None:
        return
    name, position, unit = person_snapshot(notification.recipient_id)
    with transaction.atomic():
        declaration = Declaration.objects.select_for_update(of=("self",)).get(
            pk=notification.declaration_id
        )
        audit_record(
            actor=None,
            declaration=declaration,
            action=AuditAction.NOTIFIED,
            from_state=declaration.state,
            to_state=declaration.state,
            data={
                "recipient": notification.recipient_id,
                "recipient_name": name,
                "recipient_position": position,
                "recipient_unit": unit,
                "kind": notification.kind,
                "channel": "email",
                "delivered": delivered,
                "detail": detail,
                "queued_at": notification.created_at,
            },
        )
