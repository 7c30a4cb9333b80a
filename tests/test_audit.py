"""The audit trail: append-only in the application (and in PostgreSQL), hash-chained, and any
tampering with a stored event is found and named by verify_audit."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from declarations.audit_chain import GENESIS, audit_verify_all
from declarations.choices import DeclarationState
from declarations.models import AppendOnlyError, AuditEvent, Declaration
from tests.builders import Org, declaration_in

S = DeclarationState
TABLE = AuditEvent._meta.db_table


@pytest.fixture
def history(org: Org) -> Declaration:
    """A resolved declaration with a chain of three events, plus two other declarations."""
    declaration_in(org, S.SUBMITTED, who="servant2")
    declaration_in(org, S.IN_REVIEW, who="servant2")
    return declaration_in(org, S.RESOLVED)


def _tamper(sql: str, params: list[object]) -> None:
    """Change stored rows behind the application's back, as a database superuser could
    (on PostgreSQL by switching the append-only trigger off for this transaction)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def test_chain_links_and_verifies(history: Declaration) -> None:
    events = list(history.events.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert history.audit_head == events[-1].hash
    checked, broken = audit_verify_all()
    assert checked == 3 and broken == []
    call_command("verify_audit")


def test_application_cannot_change_or_delete_events(history: Declaration) -> None:
    event = history.events.first()
    assert event is not None
    event.action = "declaration.withdrawn"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_admin_shows_events_read_only(rf, admin_user) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.admin.sites import site

    model_admin = site._registry[AuditEvent]
    request = rf.get("/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


@pytest.mark.postgres
def test_postgres_refuses_update_and_delete(history: Declaration) -> None:
    event = history.events.first()
    assert event is not None
    for sql in (
        f"UPDATE {TABLE} SET action = 'x' WHERE id = %s",
        f"DELETE FROM {TABLE} WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(sql, [event.pk])


TAMPERING = {
    "action": (
        "UPDATE {t} SET action = 'declaration.no_conflict' WHERE id = %s",
        "hash does not match",
    ),
    "data": (
        'UPDATE {t} SET data = \'{{"reason": "forged"}}\' WHERE id = %s',
        "hash does not match",
    ),
    "to_state": ("UPDATE {t} SET to_state = 'withdrawn' WHERE id = %s", "hash does not match"),
    "actor": ("UPDATE {t} SET actor_id = NULL WHERE id = %s", "hash does not match"),
    "created_at": (
        "UPDATE {t} SET created_at = created_at - INTERVAL '1 day' WHERE id = %s",
        "hash does not match",
    ),
    "hash": ("UPDATE {t} SET hash = REPEAT('a', 64) WHERE id = %s", "does not match"),
    "prev_hash": ("UPDATE {t} SET prev_hash = REPEAT('b', 64) WHERE id = %s", "prev_hash"),
    "delete": ("DELETE FROM {t} WHERE id = %s", "sequence gap"),
}


@pytest.mark.parametrize("what", list(TAMPERING))
def test_tampering_is_found_and_named(history: Declaration, what: str) -> None:
    sql, reason = TAMPERING[what]
    if connection.vendor == "sqlite":
        sql = sql.replace("created_at - INTERVAL '1 day'", "datetime(created_at, '-1 day')")
        sql = sql.replace("REPEAT('a', 64)", "'" + "a" * 64 + "'").replace(
            "REPEAT('b', 64)", "'" + "b" * 64 + "'"
        )
    middle = history.events.get(seq=2)
    _tamper(sql.format(t=TABLE), [middle.pk])
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit")
    message = str(exc.value)
    assert history.registration_number in message
    assert "seq 2" in message
    assert reason in message or what in ("hash",)


def test_deleting_the_last_event_is_found(history: Declaration) -> None:
    last = history.events.get(seq=3)
    # The record that attests the event goes too (the tamperer covers their tracks).
    _tamper("DELETE FROM declarations_record WHERE event_id = %s", [last.pk])
    _tamper(f"DELETE FROM {TABLE} WHERE id = %s", [last.pk])
    with pytest.raises(CommandError, match="chain head says 3 events, found 2"):
        call_command("verify_audit")


def test_moving_an_event_to_another_case_is_found(org: Org, history: Declaration) -> None:
    other = Declaration.objects.exclude(pk=history.pk).exclude(state=S.DRAFT).first()
    assert other is not None
    event = history.events.get(seq=3)
    _tamper(
        f"UPDATE {TABLE} SET declaration_id = %s, seq = %s WHERE id = %s",
        [other.pk, other.audit_seq + 1, event.pk],
    )
    _checked, broken = audit_verify_all()
    assert {b.declaration_code for b in broken} == {str(history.code), str(other.code)}
