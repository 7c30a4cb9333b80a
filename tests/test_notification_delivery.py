"""E-mail you can trust (issue 16): notifications go through a real SMTP server started by the
test (``aiosmtpd`` on loopback), each in its recipient's own language with the case's link and
the deadline; with the server away nothing is lost and, once it is back, every message arrives
exactly once; two senders never send one row; a failing row backs off and is given up visibly.
"""

from __future__ import annotations

import email
import runpy
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.core.exceptions import ImproperlyConfigured
from django.core.mail.backends.smtp import EmailBackend
from django.db import connection
from django.forms.models import model_to_dict
from django.test import Client, override_settings
from django.utils import timezone

from declarations.choices import AuditAction, DeliveryState, NotificationKind
from declarations.delivery.emails import RELATED, legal_bases, notification_email
from declarations.models import Notification, NotificationPreference, UserPreference
from declarations.services.digests import digest_content
from declarations.services.escalation import declarations_process_deadlines
from declarations.services.notifications import (
    OPTED_OUT,
    notification_claim,
    notification_preference_set,
    notifications_send_pending,
)
from declarations.services.reminders import deadline_context
from declarations.services.transitions import declaration_start_review, declaration_submit
from tests.builders import Org, build_org, declaration_in, new_draft

ALMATY = ZoneInfo("Asia/Almaty")
ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 18, 10, 0, tzinfo=ALMATY)  # a Wednesday


class Inbox:
    """The SMTP server's side: every message it accepted, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=default_policy))
        return "250 Message accepted for delivery"

    def to(self, user: Any) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == user.email]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(port: int) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def port() -> Iterator[int]:
    """The project's SMTP settings pointed at a loopback port (nothing listens there yet)."""
    free = free_port()
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=free,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_TIMEOUT=5,
    ):
        yield free


@pytest.fixture
def inbox(port: int) -> Iterator[Inbox]:
    with smtp_server(port) as server:
        yield server


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def subject_of(message: EmailMessage) -> str:
    """The subject as a reader sees it (a long encoded subject is folded onto a new line)."""
    return str(message["Subject"]).strip()


def declaration_link(declaration: Any) -> str:
    return f"https://coi.example.kz/declarations/{declaration.code}/"


def escalated_declaration(org: Org) -> Any:
    """A case whose "start the review" clock (due Thursday 19 November, end of day) the manager
    missed: escalated on Friday morning to the manager, management and the ethics commissioner."""
    with time_machine.travel(T0, tick=False):
        declaration = declaration_in(org, "submitted")
    with time_machine.travel(datetime(2026, 11, 20, 9, 0, tzinfo=ALMATY), tick=False):
        assert declarations_process_deadlines(now=timezone.now()) == 1
    return declaration


# (a) the right subject, language, link and deadline --------------------------------------------


def test_each_recipient_reads_the_escalation_in_their_own_language(org: Org, inbox: Inbox) -> None:
    """A kk reader and a ru reader told about one missed deadline get it in their languages
    (not the site's), each with the case's link, the exact deadline in Almaty, its legal basis,
    who was due to act and the level; one without a choice reads the deployment's default."""
    UserPreference.objects.create(user=org.head, language="kk")
    UserPreference.objects.create(user=org.ethics, language="ru")
    declaration = escalated_declaration(org)

    sent = notifications_send_pending()

    assert sent == Notification.objects.count() == len(inbox.messages)
    expected = {
        org.head: ("kk", "Мерзім өткізіп алынды: Қарауды бастау", "2026 жылғы 19 қараша, 23:59"),
        org.ethics: ("ru", "Срок пропущен: Начать рассмотрение", "19 ноября 2026 г. 23:59"),
        org.manager: ("en", "A deadline was missed: Start the review", "Nov. 19, 2026, 11:59 p.m."),
    }
    for user, (language, subject, due) in expected.items():
        title = f"[{declaration.registration_number}] {subject}"
        (message,) = [m for m in inbox.to(user) if subject_of(m) == title]
        assert message["Content-Language"] == language
        for body in (text_of(message), html_of(message)):
            assert declaration_link(declaration) in body
            assert due in body
            assert org.servants["manager"].full_name in body  # who was due to act
    ru = text_of(inbox.to(org.ethics)[0])
    assert "Правовое основание:" in ru and "п. 9" in ru  # 003 cl. 9, cited in Russian
    assert "9-тармақ" in text_of(inbox.to(org.head)[0])
    (missed,) = [m for m in inbox.to(org.manager) if "missed" in subject_of(m)]
    assert "Escalation level: 1" in text_of(missed)
    assert "Management can take over the case" in text_of(missed)


# (b) the server away: nothing lost, each message once after it is back -------------------------


def test_nothing_is_lost_while_the_server_is_down_and_each_arrives_once_after(
    org: Org, port: int
) -> None:
    with time_machine.travel(T0, tick=False):
        declaration = declaration_in(org, "in_review")
        queued = Notification.objects.filter(delivery=DeliveryState.PENDING).count()
        assert queued >= 2
        assert notifications_send_pending() == 0  # nobody listens on the port
        assert notifications_send_pending() == 0  # and nothing is due again yet
    rows = list(Notification.objects.all())
    assert {r.delivery for r in rows} == {DeliveryState.PENDING}
    assert {r.attempts for r in rows} == {1}
    assert all("Connection refused" in r.error for r in rows), [r.error for r in rows]
    assert {r.next_attempt_at for r in rows} == {T0 + timedelta(seconds=60)}
    assert not declaration.events.filter(action=AuditAction.NOTIFIED).exists()

    with smtp_server(port) as inbox:
        with time_machine.travel(T0 + timedelta(seconds=59), tick=False):
            assert notifications_send_pending() == 0  # back, but the wait is not over
        with time_machine.travel(T0 + timedelta(seconds=60), tick=False):
            assert notifications_send_pending() == queued
        with time_machine.travel(T0 + timedelta(days=1), tick=False):
            assert notifications_send_pending() == 0
    assert len(inbox.messages) == queued
    ids = {m["Message-ID"] for m in inbox.messages}
    assert ids == {f"<notification-{r.code}@coi.example.kz>" for r in rows}
    assert set(Notification.objects.values_list("delivery", flat=True)) == {DeliveryState.SENT}
    assert declaration.events.filter(action=AuditAction.NOTIFIED).count() == queued


# (c) two senders at once ------------------------------------------------------------------------


def test_a_row_is_claimed_once_and_a_dead_senders_claim_runs_out(org: Org) -> None:
    declaration_in(org, "submitted")
    row = Notification.objects.first()
    assert row is not None
    copy = Notification.objects.get(pk=row.pk)
    now = timezone.now()
    assert notification_claim(notification=row, now=now) is True
    assert notification_claim(notification=copy, now=now) is False  # the other sender
    with time_machine.travel(now + timedelta(seconds=299), tick=False):
        assert notification_claim(notification=copy, now=timezone.now()) is False
    with time_machine.travel(now + timedelta(seconds=301), tick=False):  # COI_MAIL_LEASE_SECONDS
        assert notification_claim(notification=copy, now=timezone.now()) is True


class SecondSenderBackend(EmailBackend):
    """SMTP, with a second sender running to the end while the first is sending its first
    message: the worst moment for two workers to meet."""

    results: list[int] = []

    def send_messages(self, email_messages: Any) -> int:
        if not SecondSenderBackend.results:
            SecondSenderBackend.results.append(-1)  # the second sender does not start a third
            SecondSenderBackend.results.append(notifications_send_pending())
        return super().send_messages(email_messages)


def test_a_second_sender_in_the_middle_of_a_batch_sends_none_of_its_rows_again(
    org: Org, inbox: Inbox
) -> None:
    declaration_in(org, "in_review")
    declaration_in(org, "in_review", who="servant2")
    queued = Notification.objects.count()
    SecondSenderBackend.results = []
    with override_settings(EMAIL_BACKEND=f"{__name__}.SecondSenderBackend"):
        first = notifications_send_pending()
    second = SecondSenderBackend.results[1]
    assert first >= 1 and second >= 1
    assert first + second == queued == len(inbox.messages)
    assert len({m["Message-ID"] for m in inbox.messages}) == queued


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_started_together_send_each_row_once(port: int) -> None:
    org = build_org()
    for who in ("servant", "servant2"):
        declaration_in(org, "in_review", who=who)
    queued = Notification.objects.count()
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def worker() -> None:
        try:
            barrier.wait()
            counts.append(notifications_send_pending())
        finally:
            connection.close()

    with smtp_server(port) as inbox:
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert sum(counts) == queued == len(inbox.messages)


# (d) back-off, then failed, for operators to see -----------------------------------------------


def test_back_off_doubles_up_to_six_hours_then_the_row_fails_visibly(org: Org, port: int) -> None:
    with time_machine.travel(T0, tick=False):
        declaration = new_draft(org)
        declaration_submit(declaration=declaration, actor=org.servant)
    row = Notification.objects.get()  # the reviewer's
    waits, at = [], T0
    for _attempt in range(12):  # COI_MAIL_MAX_ATTEMPTS; the server never comes
        with time_machine.travel(at, tick=False):
            assert notifications_send_pending() == 0
        row.refresh_from_db()
        if row.next_attempt_at is not None:
            waits.append(int((row.next_attempt_at - at).total_seconds()))
            at = row.next_attempt_at
    assert waits == [60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600, 21600]
    assert row.delivery == DeliveryState.FAILED and row.attempts == 12
    assert "Connection refused" in row.error
    (event,) = declaration.events.filter(action=AuditAction.NOTIFIED)
    assert event.data["delivered"] is False and "Connection refused" in event.data["detail"]

    admin = Client()
    admin.force_login(org.admin)
    page = admin.get("/admin/declarations/notification/", {"delivery__exact": "failed"})
    assert page.status_code == 200
    assert "Connection refused" in page.content.decode()
    assert "Failed, retries exhausted" in page.content.decode()

    with time_machine.travel(at + timedelta(days=1), tick=False):
        answer = admin.post(
            "/admin/declarations/notification/",
            {"action": "send_again", "_selected_action": [row.pk]},
        )
        assert answer.status_code == 302
        row.refresh_from_db()
        assert (row.delivery, row.attempts) == (DeliveryState.PENDING, 12)
        assert row.next_attempt_at == timezone.now()
        with smtp_server(port) as inbox:
            assert notifications_send_pending() == 1
    assert [m["To"] for m in inbox.messages] == [org.manager.email]


# (e) choices: opted-out kinds skipped but listed, the rules' kinds mailed regardless ------------


def test_an_opted_out_kind_is_listed_but_not_mailed_and_a_required_kind_is_mailed(
    org: Org, inbox: Inbox
) -> None:
    notification_preference_set(user=org.servant, kind=NotificationKind.REVIEW_STARTED, email=False)
    # a choice the rules override (made before the kind became one they require)
    NotificationPreference.objects.create(
        user=org.manager, kind=NotificationKind.DECLARATION_ASSIGNED, email=False
    )
    declaration = declaration_in(org, "in_review")
    assert notifications_send_pending() == 1
    (assigned,) = inbox.messages
    assert assigned["To"] == org.manager.email
    listed = Notification.objects.get(recipient=org.servant)  # the servant's in-app list
    assert listed.kind == NotificationKind.REVIEW_STARTED
    assert (listed.delivery, listed.error) == (DeliveryState.SKIPPED, OPTED_OUT)
    assert not inbox.to(org.servant)
    # switched off after the row was queued: not mailed either
    Notification.objects.create(
        recipient=org.manager,
        kind=NotificationKind.CONSENT_ANSWERED,
        declaration=declaration,
        next_attempt_at=timezone.now(),
    )
    notification_preference_set(
        user=org.manager, kind=NotificationKind.CONSENT_ANSWERED, email=False
    )
    assert notifications_send_pending() == 0
    late = Notification.objects.get(kind=NotificationKind.CONSENT_ANSWERED)
    assert (late.delivery, late.error) == (DeliveryState.SKIPPED, OPTED_OUT)
    assert len(inbox.messages) == 1


def test_a_recipient_without_an_address_is_skipped_with_the_reason(org: Org) -> None:
    org.manager.email = ""
    org.manager.save()
    declaration = declaration_in(org, "submitted")
    assert notifications_send_pending() == 0
    row = Notification.objects.get(recipient=org.manager)
    assert row.delivery == DeliveryState.SKIPPED and "no e-mail address" in row.error
    (event,) = declaration.events.filter(action=AuditAction.NOTIFIED)
    assert event.data["delivered"] is False and "no e-mail address" in event.data["detail"]


# (f) HTML alongside the text, escaped ------------------------------------------------------------


def test_the_html_alternative_escapes_what_people_typed(org: Org, inbox: Inbox) -> None:
    typed = '<script>alert("x")</script> & <b>Tender</b>'
    declaration = new_draft(org, matter=typed)
    declaration_submit(declaration=declaration, actor=org.servant)
    assert notifications_send_pending() == 1
    (message,) = inbox.messages
    assert message.is_multipart()
    html = html_of(message)
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;Tender" in html
    assert "<script>" not in html and "<b>Tender" not in html
    assert typed in text_of(message)  # plain text is shown as typed
    assert f'href="{declaration_link(declaration)}"' in html


# rendering: every kind in every language, and no query per message -----------------------------


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_every_kind_has_a_message_in_every_language(org: Org, language: str) -> None:
    UserPreference.objects.create(user=org.head, language=language)
    declaration = declaration_in(org, "in_review")
    deadline = declaration.deadlines.get(outcome="running")
    context: dict[str, Any] = {
        NotificationKind.DEADLINE_REMINDER: deadline_context(deadline),
        NotificationKind.DEADLINE_MISSED: deadline_context(deadline) | {"level": 1},
        NotificationKind.DEADLINE_STILL_MISSED: deadline_context(deadline) | {"level": 2},
        NotificationKind.WEEKLY_DIGEST: digest_content(  # a week in which the clock is overdue
            body_id=org.body.pk, now=deadline.due_at + timedelta(days=1)
        ),
    }
    for kind in NotificationKind:
        row = Notification.objects.create(
            recipient=org.head,
            kind=kind,
            declaration=None if kind == NotificationKind.WEEKLY_DIGEST else declaration,
            context=context.get(kind, {}),
        )
        row = Notification.objects.select_related(*RELATED).get(pk=row.pk)
        message = notification_email(row, bases=legal_bases([row]))
        assert message.subject and message.extra_headers["Content-Language"] == language
        html = message.alternatives[0][0]
        link = (
            "https://coi.example.kz/declarations/overview/"
            if kind == NotificationKind.WEEKLY_DIGEST
            else declaration_link(declaration)
        )
        assert link in message.body and link in str(html), kind
        if kind == NotificationKind.WEEKLY_DIGEST:  # overdue, by whom, with its link
            for body in (message.body, str(html)):
                assert declaration.registration_number in body
                assert org.servants["manager"].full_name in body
                assert declaration_link(declaration) in body


def test_a_batch_is_rendered_in_a_fixed_number_of_queries(
    org: Org, django_assert_max_num_queries: Any
) -> None:
    UserPreference.objects.create(user=org.head, language="kk")
    UserPreference.objects.create(user=org.ethics, language="ru")
    escalated_declaration(org)
    declaration_in(org, "in_review", who="servant2")
    rows = list(Notification.objects.select_related(*RELATED))
    assert len(rows) >= 6
    with django_assert_max_num_queries(3):  # the legal bases: one query per language
        bases = legal_bases(rows)
        messages = [notification_email(row, bases=bases) for row in rows]
    assert len({m.extra_headers["Message-ID"] for m in messages}) == len(rows)


# settings: SMTP from the environment, the console in development --------------------------------


@pytest.mark.parametrize(
    ("environment", "backend"),
    [
        ({}, "django.core.mail.backends.console.EmailBackend"),
        ({"DJANGO_EMAIL_HOST": "smtp.gov.kz"}, "django.core.mail.backends.smtp.EmailBackend"),
        (
            {"DJANGO_EMAIL_HOST": "smtp.gov.kz", "DJANGO_EMAIL_BACKEND": "x.Backend"},
            "x.Backend",
        ),
    ],
)
def test_smtp_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, environment: dict[str, str], backend: str
) -> None:
    monkeypatch.setenv("COI_VAR_DIR", str(tmp_path))
    for name in ("DJANGO_EMAIL_HOST", "DJANGO_EMAIL_BACKEND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DJANGO_EMAIL_PORT", "587")
    monkeypatch.setenv("DJANGO_EMAIL_USE_TLS", "true")
    values = runpy.run_path(str(ROOT / "coi" / "settings.py"))
    assert values["EMAIL_BACKEND"] == backend
    assert (values["EMAIL_PORT"], values["EMAIL_USE_TLS"], values["EMAIL_USE_SSL"]) == (
        587,
        True,
        False,
    )
    monkeypatch.setenv("DJANGO_EMAIL_USE_SSL", "true")
    with pytest.raises(ImproperlyConfigured):
        runpy.run_path(str(ROOT / "coi" / "settings.py"))


def test_the_review_started_mail_needs_no_action(org: Org, inbox: Inbox) -> None:
    declaration = declaration_in(org, "submitted")
    notifications_send_pending()
    declaration_start_review(declaration=declaration, actor=org.manager)
    assert notifications_send_pending() == 1
    (message,) = inbox.to(org.servant)
    assert "Nothing is needed from you now." in text_of(message)


# the admin: reminder rules per body, the scheduler's jobs, the users' choices -------------------


def test_reminder_rules_saved_in_the_admin_reschedule_the_bodys_running_clocks(org: Org) -> None:
    declaration = declaration_in(org, "submitted")
    clock = declaration.deadlines.get(clock="start_review")
    data = {k: ("" if v is None else v) for k, v in model_to_dict(org.body).items()}
    data |= {
        "reminder_rules-TOTAL_FORMS": "1",
        "reminder_rules-INITIAL_FORMS": "0",
        "reminder_rules-MIN_NUM_FORMS": "0",
        "reminder_rules-MAX_NUM_FORMS": "1000",
        "reminder_rules-0-clock": "start_review",
        "reminder_rules-0-unit": "hours",
        "reminder_rules-0-amount": "4",
        "reminder_rules-0-at_time": "",
    }
    admin = Client()
    admin.force_login(org.admin)
    answer = admin.post(f"/admin/declarations/statebody/{org.body.pk}/change/", data)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert org.body.reminder_rules.get().amount == 4
    clock.refresh_from_db()
    assert clock.remind_at == clock.due_at - timedelta(hours=4)
    for page in ("scheduledjob", "notificationpreference", "notification"):
        assert admin.get(f"/admin/declarations/{page}/").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_sending_never_breaks_the_transition_that_queued_it(port: int) -> None:
    """Sent right after commit (COI_SEND_NOTIFICATIONS_INLINE) to a server that is down: the
    step is done and on the chain; its notification waits, with the error, for the next try."""
    org = build_org()
    declaration = new_draft(org)
    with override_settings(COI_SEND_NOTIFICATIONS_INLINE=True):
        declaration_submit(declaration=declaration, actor=org.servant)
    declaration.refresh_from_db()
    assert declaration.state == "submitted" and declaration.audit_seq == 1
    told = Notification.objects.get(declaration=declaration, recipient=org.manager)
    assert told.delivery == DeliveryState.PENDING and told.attempts == 1 and told.error
