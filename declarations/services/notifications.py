"""The notification outbox (STYLE.md rule 25).

``notification_enqueue`` writes rows inside the caller's transaction and schedules a dispatch after
commit; ``notifications_send_pending`` claims rows with a conditional update (so two workers never
send one row twice) and e-mails them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from declarations.choices import AuditAction, NotificationKind
from declarations.models import Declaration, Notification
from declarations.services.audit import audit_record
from declarations.services.deadlines import person_snapshot
from declarations.side_effects import Effect, after_commit, register_effect

logger = logging.getLogger(__name__)


def notification_enqueue(
    *,
    recipient_ids: Iterable[int | None],
    kind: NotificationKind,
    declaration: Declaration | None,
    context: dict[str, Any] | None = None,
    exclude_ids: Iterable[int | None] = (),
) -> int:
    """Queue one notification per distinct recipient; returns how many were queued."""
    kind = NotificationKind(kind)  # an unknown kind is a bug, never a silent default
    skip = {i for i in exclude_ids if i is not None}
    ids = sorted({i for i in recipient_ids if i is not None} - skip)
    if not ids:
        return 0
    Notification.objects.bulk_create(
        [
            Notification(recipient_id=i, kind=kind, declaration=declaration, context=context or {})
            for i in ids
        ]
    )
    after_commit(Effect.NOTIFICATIONS_DISPATCH)
    return len(ids)


@register_effect(Effect.NOTIFICATIONS_DISPATCH)
def _dispatch() -> None:
    # In the embedded set-up mail is sent right after commit; in production a worker runs
    # `manage.py send_notifications` and this is switched off.
    if getattr(settings, "COI_SEND_NOTIFICATIONS_INLINE", False):
        notifications_send_pending()


def notifications_send_pending(*, limit: int = 500) -> int:
    """Claim and send up to ``limit`` queued notifications; returns how many were sent."""
    sent = 0
    user_model = get_user_model()
    candidates = list(
        Notification.objects.filter(claimed_at__isnull=True).values_list("id", flat=True)[:limit]
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
            Notification.objects.filter(pk=notification_id).update(error="recipient has no e-mail")
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
        Notification.objects.filter(pk=notification_id).update(sent_at=timezone.now(), error="")
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
