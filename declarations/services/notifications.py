"""The notification outbox (STYLE.md rule 25; issue 16).

``notification_enqueue`` writes rows inside the caller's transaction and schedules a dispatch after
commit; ``notifications_send_pending`` e-mails the due ones (``delivery/emails.py`` writes each
message in its recipient's language). Delivery is meant to be trusted:

- a row is sent by one sender only: each is claimed with a conditional UPDATE (a lease of
  ``COI_MAIL_LEASE_SECONDS``, so the rows of a sender that died are taken up again);
- a failed send is never lost: the row stays pending with its error and is tried again after
  ``COI_MAIL_RETRY_SECONDS``, twice as long each time (at most six hours), and is ``failed`` after
  ``COI_MAIL_MAX_ATTEMPTS`` tries, for operators to see in the admin and send again;
- sending never raises into a transition: it runs after commit or in the scheduler, and a
  failure is the row's, not the caller's.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from declarations.choices import (
    MANDATORY_NOTIFICATIONS,
    AuditAction,
    DeliveryState,
    NotificationKind,
)
from declarations.delivery.emails import RELATED, Bases, legal_bases, notification_email
from declarations.models import Deadline, Declaration, Notification, NotificationPreference
from declarations.selectors.people import person_snapshot
from declarations.services.audit import audit_record
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


def notifications_mark_read(
    *, user: User, ids: Iterable[int] | None = None, up_to: datetime | None = None
) -> int:
    """Mark ``user``'s own notifications read (all unread ones when ``ids`` is None; only those
    that arrived by ``up_to`` when given: what the reader had seen, not one that came since);
    another user's ids are ignored. Returns how many changed."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    if up_to is not None:
        unread = unread.filter(created_at__lte=up_to)
    return unread.update(read_at=timezone.now())


@register_effect(Effect.NOTIFICATIONS_DISPATCH)
def _dispatch() -> None:
    # In the embedded set-up mail is sent right after commit; otherwise the scheduler's
    # `send_notifications` job sends it every tick. Either way, never inside a transition:
    # a failure here is logged by side_effects and the rows wait for the next try.
    if getattr(settings, "COI_SEND_NOTIFICATIONS_INLINE", False):
        notifications_send_pending()


#: The longest wait between two tries of one e-mail, however many failed before.
MAX_RETRY_DELAY = timedelta(hours=6)
NO_ADDRESS = "the recipient has no e-mail address"
OPTED_OUT = "the recipient chose not to receive this by e-mail"


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: COI_MAIL_RETRY_SECONDS, doubled each time,
    capped at six hours (60 s, 120 s, 240 s, … with the defaults)."""
    seconds = settings.COI_MAIL_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return min(timedelta(seconds=seconds), MAX_RETRY_DELAY)


def notifications_claimable(now: datetime) -> Q:
    """Due and not held: never claimed, or claimed by a sender that died (its lease ran out)."""
    stale = timezone.now() - timedelta(seconds=settings.COI_MAIL_LEASE_SECONDS)
    return Q(delivery=DeliveryState.PENDING, next_attempt_at__lte=now) & (
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale)
    )


def notification_claim(*, notification: Notification, now: datetime) -> bool:
    """Take ``notification`` for sending with one conditional UPDATE; False when another sender
    holds it, sent it or failed it since it was read (``attempts`` moved): of two senders
    racing for one row, the database lets exactly one UPDATE match."""
    claimed_at = timezone.now()
    taken = (
        Notification.objects.filter(notifications_claimable(now), pk=notification.pk)
        .filter(attempts=notification.attempts)
        .update(claimed_at=claimed_at)
    )
    if taken:
        notification.claimed_at = claimed_at
    return bool(taken)


def notifications_send_again(*, ids: Iterable[int], now: datetime | None = None) -> int:
    """Queue failed or waiting e-mails to be sent at once (an operator's "send again now"):
    pending from ``now``, their attempts kept, so a row that fails again keeps its back-off
    and gives up again at once. Sent and skipped rows are left alone. Returns how many."""
    now = now or timezone.now()
    queued = Notification.objects.filter(
        pk__in=list(ids), delivery__in=[DeliveryState.FAILED, DeliveryState.PENDING]
    ).update(delivery=DeliveryState.PENDING, next_attempt_at=now)
    if queued:
        after_commit(Effect.NOTIFICATIONS_DISPATCH)
    return queued


class _Mailer:
    """One connection for a whole batch, opened when the first message goes. A message that
    fails closes it (the next one opens a new one); when even opening fails, the server is
    away and the rest of the batch fails at once instead of waiting out a timeout each."""

    def __init__(self) -> None:
        self.connection: BaseEmailBackend | None = None
        self.unreachable: OSError | smtplib.SMTPException | None = None

    def send(self, message: EmailMultiAlternatives) -> None:
        if self.unreachable is not None:
            raise self.unreachable
        if self.connection is None:
            connection = get_connection(fail_silently=False)
            try:
                connection.open()
            except (OSError, smtplib.SMTPException) as exc:
                self.unreachable = exc
                raise
            self.connection = connection
        try:
            accepted = self.connection.send_messages([message])
        except (OSError, smtplib.SMTPException):
            self.close()
            raise
        if accepted != 1:
            raise smtplib.SMTPException("the mail backend did not take the message")

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.close()
            self.connection = None


def notifications_send_pending(*, now: datetime | None = None, limit: int = 500) -> int:
    """Send up to ``limit`` due e-mails; returns how many were sent. Never raises for a
    failed send: the row records it and waits for its next try.

    1. Read the due rows with what their messages need (a fixed number of queries).
    2. For each: claim it (``notification_claim``; taken by another sender: skip it), then
       skip it if it has no address or its kind was switched off since it was queued, else
       render it in its recipient's language and send it on the batch's one connection.
    3. Sent: ``sent``, ``sent_at``. Failed: one attempt more, the error, the next try after
       ``retry_delay``; failed ``COI_MAIL_MAX_ATTEMPTS`` times: ``failed``. Sent, undeliverable
       and given-up rows are events on their declaration's chain (``_record_delivery``).
    """
    now = now or timezone.now()
    rows = list(
        Notification.objects.filter(notifications_claimable(now))
        .select_related(*RELATED)
        .order_by("next_attempt_at", "pk")[:limit]
    )
    if not rows:
        return 0
    opted_out = email_opt_outs({row.recipient_id for row in rows})
    bases = legal_bases(rows)
    mailer = _Mailer()
    sent = 0
    try:
        for row in rows:
            if notification_claim(notification=row, now=now):
                sent += _deliver(row, mailer=mailer, bases=bases, opted_out=opted_out)
    finally:
        mailer.close()
    return sent


def _deliver(
    row: Notification, *, mailer: _Mailer, bases: Bases, opted_out: set[tuple[int, str]]
) -> int:
    if not row.recipient.email:
        _settle(row, delivery=DeliveryState.SKIPPED, error=NO_ADDRESS)
        _record_delivery(row, delivered=False, detail=NO_ADDRESS)
        return 0
    if row.kind not in MANDATORY_NOTIFICATIONS and (row.recipient_id, row.kind) in opted_out:
        _settle(row, delivery=DeliveryState.SKIPPED, error=OPTED_OUT)
        return 0
    try:
        message = notification_email(row, bases=bases)
    except Exception as exc:  # a template bug fails this row, not the whole batch
        logger.exception("notification %s could not be rendered", row.pk)
        _failed(row, _describe(exc))
        return 0
    try:
        mailer.send(message)
    except (OSError, smtplib.SMTPException) as exc:
        logger.warning("notification %s not sent: %s", row.pk, exc)
        _failed(row, _describe(exc))
        return 0
    _settle(row, delivery=DeliveryState.SENT, error="", sent_at=timezone.now())
    _record_delivery(row, delivered=True)
    return 1


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _settle(row: Notification, *, delivery: str, error: str, **fields: Any) -> None:
    """The row's outcome, its claim released. Written whatever happened to the claim since:
    a message that went out is sent, even if a slow send outlived its lease."""
    Notification.objects.filter(pk=row.pk).update(
        delivery=delivery, error=error, claimed_at=None, **fields
    )


def _failed(row: Notification, error: str) -> None:
    """One failed try: later again, each wait twice the last, or given up after the last.
    Only under this sender's claim: a row another sender took over (a send that outlived its
    lease) keeps that sender's outcome."""
    attempts = row.attempts + 1
    gave_up = attempts >= settings.COI_MAIL_MAX_ATTEMPTS
    changed = Notification.objects.filter(pk=row.pk, claimed_at=row.claimed_at).update(
        delivery=DeliveryState.FAILED if gave_up else DeliveryState.PENDING,
        attempts=attempts,
        error=error,
        next_attempt_at=None if gave_up else timezone.now() + retry_delay(attempts),
        claimed_at=None,
    )
    if gave_up and changed:
        _record_delivery(row, delivered=False, detail=error)


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
        declaration = Declaration.objects.select_for_update(of=("self",), no_key=True).get(
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
