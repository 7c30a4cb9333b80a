"""The access log (issue 14): every read that must leave a trace writes one event into one
append-only, hash-chained log; management and auditors list it by person or declaration; the
dossier's trail reads it; tampering with it is found."""

from __future__ import annotations

import io
import threading
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.utils import DatabaseError

from declarations.access_log import access_log_verify, access_rows
from declarations.audit_chain import GENESIS
from declarations.choices import AccessAction, DeclarationState
from declarations.models import AccessEvent, AppendOnlyError, ExportJob
from declarations.records.exports import ExportFilters, export_create
from declarations.services.access import access_record
from declarations.services.attachments import attachment_add
from tests.api import BASE, client_for, declaration_url, ok
from tests.builders import Org, build_org, declaration_in, new_draft, opened_declaration
from tests.records import IMMEDIATE, issue_all, records_of
from tests.web import client_as

S = DeclarationState
A = AccessAction
TABLE = AccessEvent._meta.db_table
PDF = b"%PDF-1"


@pytest.fixture(autouse=True)
def _checkpoints_aside(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.COI_CHECKPOINT_DIR = tmp_path / "checkpoints"


def _log() -> list[tuple[str, Any, str]]:
    """(action, user, declaration code or "") of every event, in order."""
    return [
        (e.action, e.user, str(e.declaration.code) if e.declaration else "")
        for e in AccessEvent.objects.select_related("declaration").order_by("seq")
    ]


def _tamper(sql: str, params: list[object]) -> None:
    """Change stored rows as the database's owner could (on PostgreSQL with the append-only
    trigger switched off for this transaction)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


# ---- the chain ----------------------------------------------------------------------------


def test_each_access_appends_one_linked_event(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    first = access_record(user=org.auditor, action=A.DOSSIER_GENERATED, declaration=declaration)
    second = access_record(user=org.head, action=A.EXPORT_STARTED, object_code="x", data={"n": 1})
    assert (first.seq, first.prev_hash) == (1, GENESIS)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert access_log_verify() is None
    call_command("verify_audit")


def test_the_application_cannot_change_or_delete_an_access_event(org: Org) -> None:
    event = access_record(user=org.auditor, action=A.EXPORT_STARTED)
    event.object_code = "forged"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AccessEvent.objects.filter(pk=event.pk).update(object_code="x")


@pytest.mark.postgres
def test_postgres_refuses_update_and_delete_of_access_events(org: Org) -> None:
    event = access_record(user=org.auditor, action=A.EXPORT_STARTED)
    for sql in (f"UPDATE {TABLE} SET object_code = 'x' WHERE id = %s", f"DELETE FROM {TABLE}"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(sql, [event.pk] if "%s" in sql else [])


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("UPDATE {t} SET object_code = 'forged' WHERE seq = 2", "hash does not match"),
        ("UPDATE {t} SET prev_hash = hash WHERE seq = 2", "prev_hash"),
        ("DELETE FROM {t} WHERE seq = 2", "sequence gap"),
    ],
)
def test_tampering_with_the_access_log_is_found_and_named(org: Org, sql: str, reason: str) -> None:
    for _ in range(3):
        access_record(user=org.auditor, action=A.EXPORT_STARTED, object_code="job")
    _tamper(sql.format(t=TABLE), [])
    link = access_log_verify()
    assert link is not None and link.seq == 2 and reason in link.reason
    with pytest.raises(CommandError, match="access log, seq 2"):
        call_command("verify_audit")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writers_at_the_same_moment_make_one_chain_without_gaps() -> None:
    org = build_org()
    barrier = threading.Barrier(6)
    failures: list[Exception] = []

    def write() -> None:
        try:
            barrier.wait()
            access_record(user=org.auditor, action=A.EXPORT_STARTED)
        except Exception as exc:  # noqa: BLE001 - the test reports it
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert failures == []
    assert list(AccessEvent.objects.order_by("seq").values_list("seq", flat=True)) == [*range(1, 7)]
    assert access_log_verify() is None


# ---- which reads leave a trace ------------------------------------------------------------


def test_downloading_a_dossier_as_the_auditor_writes_one_access_event_in_the_trail(
    org: Org,
) -> None:
    declaration = declaration_in(org, S.RESOLVED)
    client = client_for(org.auditor)
    response = client.get(declaration_url(declaration, "dossier"))
    assert response.status_code == 200
    assert _log() == [(A.DOSSIER_GENERATED, org.auditor, str(declaration.code))]
    (row,) = access_rows(declaration)
    assert (row.seq, row.user_id, row.action) == (1, org.auditor.pk, A.DOSSIER_GENERATED)
    assert row.who and row.object_code == response["X-Record-Id"]
    # the same dossier handed out again is a download; a new one is another generation
    client.get(declaration_url(declaration, "dossier"))
    client.post(declaration_url(declaration, "dossier"))
    assert [r.action for r in access_rows(declaration)] == [
        A.DOSSIER_GENERATED,
        A.DOSSIER_DOWNLOADED,
        A.DOSSIER_GENERATED,
    ]
    assert access_rows(declaration_in(org, S.SUBMITTED, who="servant2")) == []


def test_the_dossier_page_and_a_downloaded_record_leave_a_trace(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    (record,) = issue_all(declaration)
    assert client_as(org.servant).get(f"/records/{record.code}/pdf/").status_code == 200
    assert client_for(org.manager).get(f"{BASE}/records/{record.code}/pdf/").status_code == 200
    response = client_as(org.ethics).post(f"/declarations/{declaration.code}/dossier/")
    assert response.status_code == 200
    assert _log() == [
        (A.RECORD_DOWNLOADED, org.servant, str(declaration.code)),
        (A.RECORD_DOWNLOADED, org.manager, str(declaration.code)),
        (A.DOSSIER_GENERATED, org.ethics, str(declaration.code)),
    ]
    # a record that is not issued yet is not handed over, and leaves no trace
    pending = declaration_in(org, S.SUBMITTED, who="servant2")
    (waiting,) = records_of(pending)
    assert client_for(org.servant2).get(f"{BASE}/records/{waiting.code}/pdf/").status_code == 409
    assert AccessEvent.objects.count() == 3


def test_downloading_a_notices_file_leaves_a_trace(org: Org) -> None:
    draft = new_draft(org)
    attachment = attachment_add(
        declaration=draft, actor=org.servant, filename="a.pdf", content=io.BytesIO(PDF), size=6
    )
    page = client_as(org.servant).get(f"/attachments/{attachment.code}/")
    assert page.status_code == 200
    b"".join(page.streaming_content)  # read to the end: the file is closed
    assert client_for(org.servant).get(f"{BASE}/attachments/{attachment.code}/").status_code == 200
    assert [(a, u) for a, u, _ in _log()] == [
        (A.ATTACHMENT_DOWNLOADED, org.servant),
        (A.ATTACHMENT_DOWNLOADED, org.servant),
    ]
    assert AccessEvent.objects.filter(object_code=str(attachment.code)).count() == 2


def test_a_confidential_source_shown_leaves_a_trace_and_one_withheld_does_not(org: Org) -> None:
    secret = opened_declaration(org, source_confidential=True)
    plain = opened_declaration(org, source_description="The press")
    assert client_as(org.ethics).get(f"/declarations/{secret.code}/").status_code == 200
    ok(client_for(org.auditor).get(declaration_url(secret)))
    # management and the declarant see the declaration but not the source: nothing to log
    client_as(org.head).get(f"/declarations/{secret.code}/")
    ok(client_for(org.servant).get(declaration_url(secret)))
    # a source that is not confidential is no secret
    client_as(org.ethics).get(f"/declarations/{plain.code}/")
    assert _log() == [
        (A.SOURCE_VIEWED, org.ethics, str(secret.code)),
        (A.SOURCE_VIEWED, org.auditor, str(secret.code)),
    ]


def test_starting_and_downloading_an_export_leave_a_trace(
    org: Org, django_capture_on_commit_callbacks
) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        body = ok(client_for(org.auditor).post(f"{BASE}/exports/", {}, format="json"), 202)
    job = ExportJob.objects.get(code=body["id"])
    assert job.status == "done"
    response = client_for(org.auditor).get(f"{BASE}/exports/{job.code}/download/")
    assert response.status_code == 200
    b"".join(response.streaming_content)  # read to the end: the file is closed
    web = client_as(org.auditor).get(f"/exports/{job.code}/download/")
    assert web.status_code == 200
    b"".join(web.streaming_content)
    assert [(e.action, e.object_code) for e in AccessEvent.objects.order_by("seq")] == [
        (A.EXPORT_STARTED, str(job.code)),
        (A.EXPORT_DOWNLOADED, str(job.code)),
        (A.EXPORT_DOWNLOADED, str(job.code)),
    ]
    # the declaration's trail shows the exports that carried its dossier
    assert [r.action for r in access_rows(declaration)] == [
        A.EXPORT_STARTED,
        A.EXPORT_DOWNLOADED,
        A.EXPORT_DOWNLOADED,
    ]


def test_an_export_started_on_the_page_leaves_a_trace(org: Org) -> None:
    response = client_as(org.auditor).post("/exports/", {"language": "en"})
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert [(e.action, e.object_code) for e in AccessEvent.objects.all()] == [
        (A.EXPORT_STARTED, str(job.code))
    ]


# ---- listing by person --------------------------------------------------------------------


def _list(reader: Any, **params: str) -> list[dict[str, Any]]:
    return ok(client_for(reader).get(f"{BASE}/access/", params))["results"]


def test_management_and_auditors_list_access_by_person_and_declaration(org: Org) -> None:
    first = declaration_in(org, S.SUBMITTED)
    second = declaration_in(org, S.SUBMITTED, who="servant2")
    access_record(user=org.auditor, action=A.DOSSIER_GENERATED, declaration=first)
    access_record(user=org.ethics, action=A.DOSSIER_GENERATED, declaration=second)
    access_record(user=org.auditor, action=A.RECORD_DOWNLOADED, declaration=second)
    other = build_org()
    access_record(
        user=other.auditor,
        action=A.DOSSIER_GENERATED,
        declaration=declaration_in(other, S.SUBMITTED),
    )
    for reader in (org.head, org.auditor):
        rows = _list(reader)
        assert [r["seq"] for r in rows] == [3, 2, 1]  # newest first, this body only
        assert _list(reader, user=org.auditor.username) == [rows[0], rows[2]]
        ethics = org.servants["ethics"]
        assert [r["seq"] for r in _list(reader, user=str(ethics.code))] == [2]
        assert [r["seq"] for r in _list(reader, declaration=str(second.code))] == [3, 2]
        assert [r["seq"] for r in _list(reader, action=A.RECORD_DOWNLOADED)] == [3]
    row = _list(org.head)[1]
    assert row["user"]["id"] == str(org.servants["ethics"].code)
    assert row["username"] == org.ethics.username and row["user"]["full_name"]
    assert row["declaration"] == {
        "id": str(second.code),
        "registration_number": second.registration_number,
    }
    assert (row["action"], row["object_id"]) == (A.DOSSIER_GENERATED, "")


def test_who_has_no_such_duty_or_asks_outside_their_body_lists_nothing(org: Org) -> None:
    declaration = declaration_in(org, S.SUBMITTED)
    access_record(user=org.auditor, action=A.DOSSIER_GENERATED, declaration=declaration)
    for reader in (org.servant, org.manager, org.ethics, org.hr, org.outsider):
        assert _list(reader) == []
    assert _list(org.outsider, declaration=str(declaration.code)) == []
    assert client_for(None).get(f"{BASE}/access/").status_code == 401


def test_bad_filters_are_refused(org: Org) -> None:
    client = client_for(org.head)
    for params in ({"declaration": "nope"}, {"action": "peeked"}, {"user": ""}):
        response = client.get(f"{BASE}/access/", params)
        assert response.status_code == 400, params
        assert set(response.json()["fields"]) == set(params)


def test_management_sees_the_exports_of_their_body(
    org: Org, django_capture_on_commit_callbacks
) -> None:
    declaration_in(org, S.SUBMITTED)
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        job = export_create(actor=org.auditor, filters=ExportFilters(bodies=[]), language="en")
    access_record(user=org.auditor, action=A.EXPORT_DOWNLOADED, object_code=str(job.code))
    other = build_org()
    access_record(user=other.auditor, action=A.EXPORT_STARTED, object_code="elsewhere")
    rows = _list(org.head)
    assert [(r["action"], r["object_id"], r["declaration"]) for r in rows] == [
        (A.EXPORT_DOWNLOADED, str(job.code), None)
    ]


def test_the_next_dossier_prints_who_read_the_case_and_its_checkpoint_proof(org: Org) -> None:
    """Issue 14: the auditor's download is in the next dossier's "who read this case"; after a
    checkpoint, the dossier prints the inclusion proof of its chain head, which verifies
    against the checkpoint file."""
    from declarations.choices import CheckpointReason
    from declarations.records.checkpoint_verification import verify_inclusion
    from declarations.records.checkpoints import (
        checkpoint_file_bytes,
        checkpoint_make,
        inclusion_proof,
    )
    from tests.records import flat, text_of

    declaration = declaration_in(org, S.RESOLVED)
    client = client_for(org.auditor, HTTP_ACCEPT_LANGUAGE="en")
    first = client.get(declaration_url(declaration, "dossier") + "?language=en")
    assert first.status_code == 200
    assert "No checkpoint includes this case yet." in flat(text_of(first.content))
    checkpoint = checkpoint_make(reason=CheckpointReason.MANUAL)
    second = client.post(declaration_url(declaration, "dossier") + "?language=en")
    text = flat(text_of(second.content))
    auditor = org.auditor.get_full_name() or org.auditor.username
    section = text[text.index("Who read this case") :]
    assert auditor in section and "Dossier made" in section
    proof = inclusion_proof(declaration)
    assert proof is not None and proof["root"] in text.replace(" ", "")
    assert verify_inclusion(proof, checkpoint_file_bytes(checkpoint))
