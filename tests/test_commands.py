"""Demo data, the notification outbox, and the commands' smoke tests."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.management import call_command

from declarations.audit_chain import audit_verify_all
from declarations.choices import DeclarationState
from declarations.models import AuditEvent, Declaration, Notification, Position, Servant, Unit
from declarations.seeding.large_org import seed_large
from declarations.selectors import direct_manager_of, vacant_positions
from declarations.services.notifications import notifications_send_pending
from tests.builders import Org, declaration_in

S = DeclarationState


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_made_through_services() -> None:
    call_command("seed_demo", "--password", "pw-12345")
    first = Declaration.objects.count()
    call_command("seed_demo", "--password", "pw-12345")
    assert Declaration.objects.count() == first == 7
    states = set(Declaration.objects.values_list("state", flat=True))
    assert {
        S.DRAFT,
        S.SUBMITTED,
        S.IN_REVIEW,
        S.RESOLVED,
        S.AWAITING_CONSENT,
        S.NO_CONFLICT,
    } <= states
    servant = Servant.objects.get(user__username="servant")
    for name in ("servant", "servant2"):
        assert (
            direct_manager_of(Servant.objects.get(user__username=name)).user.username == "manager"
        )  # type: ignore[union-attr]
    assert servant.user.check_password("pw-12345")
    assert AuditEvent.objects.count() > 10
    assert audit_verify_all()[1] == []
    # a newcomer can try a transfer: two vacancies are left after the demo's own transfer
    assert vacant_positions(body_id=servant.body_id).count() >= 2
    # named as a Kazakh state body would be: the state language and Russian, no English
    names = [servant.body.name]
    names += list(Unit.objects.filter(body=servant.body).values_list("name", flat=True))
    names += list(Position.objects.filter(body=servant.body).values_list("title", flat=True))
    names += list(Servant.objects.filter(body=servant.body).values_list("full_name", flat=True))
    for name in names:
        assert not re.search("[A-Za-z]", name), name
    assert all(" / " in name for name in names[:-6])  # Kazakh / Russian side by side


@pytest.mark.django_db
def test_seed_large_generates_verifiable_history() -> None:
    figures = seed_large(servants=300, declarations=500, password="pw")
    assert Servant.objects.filter(body__slug="bench").count() == 300
    assert Declaration.objects.filter(body__slug="bench").count() == 500
    assert figures["events"] == AuditEvent.objects.count()
    checked, broken = audit_verify_all()
    assert checked == 500 and broken == []


def test_outbox_is_sent_once(org: Org) -> None:
    declaration_in(org, S.SUBMITTED)
    queued = Notification.objects.count()
    assert queued >= 1
    call_command("send_notifications")
    assert len(mail.outbox) == queued
    assert "T-" in mail.outbox[0].subject
    assert notifications_send_pending() == 0
    assert not Notification.objects.filter(sent_at__isnull=True).exists()


def test_notifications_are_dispatched_only_after_commit(
    org: Org,
    django_capture_on_commit_callbacks,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.COI_SEND_NOTIFICATIONS_INLINE = True
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        declaration_in(org, S.SUBMITTED)
        assert len(mail.outbox) == 0
    assert callbacks and len(mail.outbox) == Notification.objects.count()


def test_verify_audit_command_ok(org: Org, capsys) -> None:  # type: ignore[no-untyped-def]
    declaration_in(org, S.RESOLVED)
    call_command("verify_audit")
    assert "1 chains verified" in capsys.readouterr().out


def test_front_door_asks_to_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/"
