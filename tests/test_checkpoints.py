"""Checkpoints (issue 14): a signed Merkle commitment to every chain, kept outside the database.

The attack they answer: the database's owner changes an event and recomputes every later hash
and the head, so that ``verify_audit`` still passes; or cuts the tail of a chain; or restores an
older copy of the database. Each is caught against a checkpoint made before, and named.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import stat
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import CommandError, call_command
from django.db import connection, models
from django.utils import timezone
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from declarations.access_log import access_hash, access_log_verify
from declarations.audit_chain import GENESIS, audit_verify_all, canonical_data, event_hash
from declarations.choices import AccessAction, CheckpointReason, DeclarationState
from declarations.models import AccessEvent, AuditEvent, Checkpoint, Declaration
from declarations.records import checkpoints
from declarations.records.checkpoint_verification import checkpoint_verify, verify_inclusion
from declarations.records.checkpoints import (
    checkpoint_due,
    checkpoint_file_bytes,
    checkpoint_make,
    checkpoint_storage,
    inclusion_proof,
)
from declarations.records.exports import ExportFilters, export_create
from declarations.records.signing import current_seal, generate_development_seal, load_seal
from declarations.records.tasks import checkpoint_sweep
from declarations.services.access import access_record
from tests.builders import Org, declaration_in
from tests.records import IMMEDIATE

S = DeclarationState
EVENTS = AuditEvent._meta.db_table
ACCESS = AccessEvent._meta.db_table
TRIGGERS = {
    EVENTS: "declarations_auditevent_append_only",
    ACCESS: "declarations_accessevent_append_only",
}


@pytest.fixture(autouse=True)
def store(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.COI_CHECKPOINT_DIR = tmp_path / "checkpoints"
    return settings.COI_CHECKPOINT_DIR


@pytest.fixture
def chains(org: Org) -> list[Declaration]:
    """Three declarations with chains of 1, 2 and 3 events, and two reads in the access log."""
    declarations = [
        declaration_in(org, S.SUBMITTED, who="servant2"),
        declaration_in(org, S.IN_REVIEW, who="servant2"),
        declaration_in(org, S.RESOLVED),
    ]
    for declaration in declarations[1:]:
        access_record(
            user=org.auditor, action=AccessAction.DOSSIER_GENERATED, declaration=declaration
        )
    return declarations


def _file(checkpoint: Checkpoint) -> bytes:
    with checkpoint_storage().open(checkpoint.file_name, "rb") as f:
        return f.read()


def _problems(data: bytes) -> list[str]:
    return checkpoint_verify(data).problems


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _name(declaration: Declaration) -> str:
    return f"declaration {declaration.registration_number} ({declaration.code})"


# ---- the insider: the database's owner, behind the application's back ----------------------


@contextmanager
def as_owner() -> Iterator[Any]:
    """A cursor that may change the append-only tables, as their owner can: on PostgreSQL the
    owner switches the append-only triggers off (``ALTER TABLE … DISABLE TRIGGER``) and on again;
    SQLite has no trigger to switch off."""
    with connection.cursor() as cursor:
        postgres = connection.vendor == "postgresql"
        if postgres:  # the test's transaction defers its foreign-key checks; ALTER refuses that
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, trigger in TRIGGERS.items() if postgres else ():
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        yield cursor
        for table, trigger in TRIGGERS.items() if postgres else ():
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
        if postgres:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _json() -> str:
    return "%s::jsonb" if connection.vendor == "postgresql" else "%s"


def rewrite_event(declaration: Declaration, seq: int, data: dict[str, Any]) -> None:
    """Change one event's payload and recompute every later hash and the head, consistently."""
    events = list(AuditEvent.objects.filter(declaration=declaration).order_by("seq"))
    prev = events[seq - 2].hash if seq > 1 else GENESIS
    with as_owner() as cursor:
        for event in events[seq - 1 :]:
            payload = canonical_data(data) if event.seq == seq else event.data
            digest = event_hash(
                declaration_code=str(declaration.code),
                seq=event.seq,
                actor_id=event.actor_id,
                action=event.action,
                from_state=event.from_state,
                to_state=event.to_state,
                data=payload,
                created_at=event.created_at,
                prev_hash=prev,
            )
            cursor.execute(
                f"UPDATE {EVENTS} SET data = {_json()}, prev_hash = %s, hash = %s WHERE id = %s",
                [json.dumps(payload), prev, digest, event.pk],
            )
            prev = digest
        cursor.execute(
            "UPDATE declarations_declaration SET audit_head = %s WHERE id = %s",
            [prev, declaration.pk],
        )


def cut_chain(declaration: Declaration, keep: int) -> None:
    """Delete the events after ``keep`` (and the records attesting them) and move the head back."""
    events = list(AuditEvent.objects.filter(declaration=declaration, seq__gt=keep))
    head = AuditEvent.objects.get(declaration=declaration, seq=keep).hash if keep else ""
    purge(AuditEvent, [e.pk for e in events])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE declarations_declaration SET audit_seq = %s, audit_head = %s WHERE id = %s",
            [keep, head, declaration.pk],
        )


def purge(model: type[models.Model], pks: list[Any]) -> None:
    """Delete rows and everything that refers to them, with raw SQL (an older copy of the
    database never had them)."""
    if not pks:
        return
    for rel in model._meta.related_objects:
        if rel.many_to_many:
            continue
        related: Any = rel.related_model
        children = list(
            related._base_manager.filter(**{f"{rel.field.name}__in": pks}).values_list(
                "pk", flat=True
            )
        )
        purge(related, children)
    marks = ", ".join(["%s"] * len(pks))
    with as_owner() as cursor:
        cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE id IN ({marks})", pks)


def rewrite_access(seq: int, data: dict[str, Any]) -> None:
    """The same rewrite on the access log: one event changed, every later hash recomputed."""
    events = list(AccessEvent.objects.select_related("declaration").order_by("seq"))
    prev = events[seq - 2].hash if seq > 1 else GENESIS
    with as_owner() as cursor:
        for event in events[seq - 1 :]:
            payload = canonical_data(data) if event.seq == seq else event.data
            digest = access_hash(
                seq=event.seq,
                at=event.at,
                user_id=event.user_id,
                action=event.action,
                declaration_code=str(event.declaration.code) if event.declaration else None,
                object_code=event.object_code,
                data=payload,
                prev_hash=prev,
            )
            cursor.execute(
                f"UPDATE {ACCESS} SET data = {_json()}, prev_hash = %s, hash = %s WHERE id = %s",
                [json.dumps(payload), prev, digest, event.pk],
            )
            prev = digest


# ---- making and checking ----------------------------------------------------------------


def test_a_checkpoint_commits_to_every_chain_and_verifies(
    org: Org, chains: list[Declaration], store: Path, capsys
) -> None:  # type: ignore[no-untyped-def]
    checkpoint = checkpoint_make(reason=CheckpointReason.MANUAL)
    path = store / checkpoint.file_name
    assert path.read_bytes() == checkpoint_file_bytes(checkpoint)
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    statement = json.loads(base64.b64decode(json.loads(path.read_bytes())["statement"]))
    leaves = statement["leaves"]
    assert leaves[0] == {
        "kind": "access_log",
        "seq": 2,
        "head": AccessEvent.objects.get(seq=2).hash,
    }
    assert [leaf["code"] for leaf in leaves[1:]] == sorted(str(d.code) for d in chains)
    for declaration in chains:
        declaration.refresh_from_db()
        leaf = next(x for x in leaves if x.get("code") == str(declaration.code))
        assert (leaf["seq"], leaf["head"]) == (declaration.audit_seq, declaration.audit_head)
    assert checkpoint.tree_size == statement["tree_size"] == 4
    assert statement["root"] == checkpoint.root_hash and statement["reason"] == "manual"
    assert checkpoint.access_seq == 2 and checkpoint.timestamp_token is None
    verdict = checkpoint_verify(path.read_bytes())
    assert verdict.valid, verdict.problems
    assert "development seal" in verdict.signed_by
    call_command("verify_audit", "--checkpoint", str(path))
    out = capsys.readouterr().out
    assert "3 chains verified" in out and "Access log: 2 events verified" in out
    assert "all 4 leaves hold in the database" in out


def test_later_steps_and_reads_still_verify_against_an_earlier_checkpoint(
    org: Org, chains: list[Declaration]
) -> None:
    data = _file(checkpoint_make(reason=CheckpointReason.MANUAL))
    declaration_in(org, S.SUBMITTED)  # a new chain
    access_record(user=org.head, action=AccessAction.SOURCE_VIEWED, declaration=chains[0])
    assert _problems(data) == []


def test_the_insider_rewrite_passes_verify_audit_but_not_the_checkpoint(
    org: Org, chains: list[Declaration], capsys
) -> None:  # type: ignore[no-untyped-def]
    target = chains[2]
    before = checkpoint_make(reason=CheckpointReason.PERIODIC)
    old_file = _file(before)
    proof = inclusion_proof(target)
    assert proof is not None and verify_inclusion(proof, old_file)

    rewrite_event(target, 2, {"reason": "The servant never asked for a review"})

    # the chain is consistent again: the plain check cannot see it (docs/ARCHITECTURE.md)
    assert audit_verify_all() == (3, [])
    call_command("verify_audit")
    assert "3 chains verified, none broken." in capsys.readouterr().out
    # the checkpoint made before can: the event it committed to is not there any more
    target.refresh_from_db()
    assert _problems(old_file) == [
        f"{_name(target)}: event 3 is not the one the checkpoint committed to (rewritten)"
    ]
    with pytest.raises(CommandError, match=target.registration_number):
        call_command(
            "verify_audit", "--checkpoint", str(checkpoint_storage().path(before.file_name))
        )
    # a checkpoint made after the rewrite commits to the rewritten tree: the proof printed in
    # an earlier dossier does not verify against it
    after = checkpoint_make(reason=CheckpointReason.PERIODIC)
    assert after.root_hash != before.root_hash
    assert not verify_inclusion(proof, _file(after))
    assert verify_inclusion(proof, old_file)  # while the earlier file still proves what was


def test_a_rewrite_of_a_middle_event_is_caught_at_the_head(
    org: Org, chains: list[Declaration]
) -> None:
    data = _file(checkpoint_make(reason=CheckpointReason.MANUAL))
    target = chains[1]
    rewrite_event(target, 1, {"forged": True})
    assert audit_verify_all()[1] == []
    target.refresh_from_db()
    assert _problems(data) == [
        f"{_name(target)}: event 2 is not the one the checkpoint committed to (rewritten)"
    ]


def test_a_truncated_tail_is_caught(org: Org, chains: list[Declaration]) -> None:
    data = _file(checkpoint_make(reason=CheckpointReason.MANUAL))
    target = chains[2]
    cut_chain(target, keep=1)
    assert audit_verify_all() == (3, [])  # a shorter chain, consistent with its head
    target.refresh_from_db()
    assert _problems(data) == [
        f"{_name(target)}: the checkpoint has 3 events, the database 1 (truncated, or rolled back)"
    ]


def test_a_rolled_back_database_is_caught(org: Org, chains: list[Declaration]) -> None:
    # the older copy: the review of one declaration not started yet, a declaration not filed
    # yet, one read not logged yet
    reviewed, later = chains[1], declaration_in(org, S.SUBMITTED)
    data = _file(checkpoint_make(reason=CheckpointReason.PERIODIC))
    cut_chain(reviewed, keep=1)
    purge(Declaration, [later.pk])
    purge(AccessEvent, list(AccessEvent.objects.filter(seq=2).values_list("pk", flat=True)))
    assert audit_verify_all()[1] == [] and access_log_verify() is None
    call_command("verify_audit")
    reviewed.refresh_from_db()
    problems = _problems(data)
    assert problems[0] == (
        "access log: the checkpoint has 2 events, the database fewer (truncated, or rolled back)"
    )
    assert sorted(problems[1:]) == sorted(
        [
            f"{_name(reviewed)}: the checkpoint has 2 events, the database 1 "
            "(truncated, or rolled back)",
            f"declaration {later.code}: not in the database (deleted, or the database was "
            "rolled back)",
        ]
    )


def test_a_tampered_access_log_is_caught_the_same_way(org: Org, chains: list[Declaration]) -> None:
    data = _file(checkpoint_make(reason=CheckpointReason.MANUAL))
    rewrite_access(1, {"note": "nobody read anything"})
    assert access_log_verify() is None  # consistent: the plain check passes
    call_command("verify_audit")
    assert _problems(data) == [
        "access log: event 2 is not the one the checkpoint committed to (rewritten)"
    ]


def test_a_broken_chain_is_named_against_the_checkpoint_too(
    org: Org, chains: list[Declaration]
) -> None:
    data = _file(checkpoint_make(reason=CheckpointReason.MANUAL))
    target = chains[2]
    event = target.events.get(seq=2)
    with as_owner() as cursor:
        cursor.execute(
            f"UPDATE {EVENTS} SET action = 'declaration.withdrawn' WHERE id = %s", [event.pk]
        )
    (problem,) = _problems(data)
    assert target.registration_number in problem and "seq 2" in problem


# ---- the file -----------------------------------------------------------------------------


def test_an_altered_or_foreign_checkpoint_file_is_refused(
    org: Org, chains: list[Declaration], tmp_path: Path
) -> None:
    checkpoint = checkpoint_make(reason=CheckpointReason.MANUAL)
    document = json.loads(_file(checkpoint))
    # a leaf changed and the root recomputed: the seal did not sign that
    statement = json.loads(bytes(checkpoint.statement))
    statement["leaves"][1]["head"] = "f" * 64
    statement["root"] = checkpoints.tree_of(statement["leaves"]).get_root().hex()
    forged = {**document, "statement": _b64(json.dumps(statement).encode())}
    assert "the signature does not match the statement: it was altered" in _problems(
        json.dumps(forged).encode()
    )
    # signed by our seal, but the leaves do not hash to the root it names
    statement = json.loads(bytes(checkpoint.statement))
    statement["leaves"][1]["head"] = "f" * 64
    raw = json.dumps(statement).encode()
    signature, _token = checkpoints._sign(raw, current_seal(), None)
    inconsistent = {**document, "statement": _b64(raw), "signature": _b64(signature)}
    assert _problems(json.dumps(inconsistent).encode())[0] == (
        "the leaves do not hash to the signed root"
    )
    # signed, but by a seal that is not ours
    stranger = load_seal(
        generate_development_seal(tmp_path / "other").read_bytes(), None, development=True
    )
    foreign = checkpoint_make(reason=CheckpointReason.MANUAL, seal=stranger)
    assert _problems(_file(foreign)) == ["the statement is not signed by a trusted seal"]
    assert _problems(b"{}")[0].startswith("not a readable checkpoint file")
    assert _problems(b"not json")[0].startswith("not a readable checkpoint file")
    with pytest.raises(CommandError, match="not a readable checkpoint file"):
        path = tmp_path / "bad.json"
        path.write_bytes(b"[]")
        call_command("verify_audit", "--checkpoint", str(path))


def _tsa() -> tuple[DummyTimeStamper, asn1_x509.Certificate]:
    """A test TSA acting as its own authority (pyHanko's dummy client: RSA only)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "COI test TSA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    tsa_cert = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    tsa_key = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return DummyTimeStamper(tsa_cert=tsa_cert, tsa_key=tsa_key), tsa_cert


def test_a_timestamp_is_added_when_a_tsa_is_configured(org: Org, chains: list[Declaration]) -> None:
    timestamper, tsa_cert = _tsa()
    checkpoint = checkpoint_make(reason=CheckpointReason.MANUAL, timestamper=timestamper)
    assert checkpoint.timestamp_token
    data = _file(checkpoint)
    assert base64.b64decode(json.loads(data)["timestamp_token"]) == bytes(
        checkpoint.timestamp_token
    )
    verdict = checkpoint_verify(data, extra_roots=[tsa_cert])
    assert verdict.valid, verdict.problems
    assert verdict.timestamped_at is not None
    # a timestamp whose TSA nobody trusts is reported
    assert checkpoint_verify(data).problems == [
        "the timestamp does not verify or its TSA is not trusted"
    ]


# ---- when one is made ---------------------------------------------------------------------


def test_a_periodic_checkpoint_is_due_only_after_the_interval_and_a_change(
    org: Org, chains: list[Declaration], settings, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    settings.COI_CHECKPOINT_MINUTES = 10
    now = timezone.now()
    assert checkpoint_due(now=now)
    with IMMEDIATE:
        assert checkpoint_sweep(now=now)
    (made,) = Checkpoint.objects.all()
    assert made.reason == CheckpointReason.PERIODIC
    assert not checkpoint_due(now=made.created_at + dt.timedelta(minutes=5))
    assert not checkpoint_due(now=made.created_at + dt.timedelta(minutes=11))  # nothing changed
    access_record(user=org.auditor, action=AccessAction.EXPORT_STARTED)
    assert not checkpoint_due(now=made.created_at + dt.timedelta(minutes=5))
    assert checkpoint_due(now=made.created_at + dt.timedelta(minutes=11))
    out = io.StringIO()
    with IMMEDIATE:
        call_command("issue_records", stdout=out)
    assert Checkpoint.objects.count() == 1  # ten minutes have not passed
    assert "a checkpoint queued" not in out.getvalue()


def test_the_issue_records_sweep_queues_a_due_checkpoint(
    org: Org, chains: list[Declaration]
) -> None:
    out = io.StringIO()
    with IMMEDIATE:
        call_command("issue_records", stdout=out)
    assert "a checkpoint queued" in out.getvalue()
    assert Checkpoint.objects.get().reason == CheckpointReason.PERIODIC


def test_make_checkpoint_command(org: Org, chains: list[Declaration], store: Path) -> None:
    out = io.StringIO()
    call_command("make_checkpoint", stdout=out)
    checkpoint = Checkpoint.objects.get()
    assert checkpoint.reason == CheckpointReason.MANUAL
    assert checkpoint.file_name in out.getvalue() and (store / checkpoint.file_name).exists()


def test_every_export_carries_a_checkpoint(
    org: Org, chains: list[Declaration], django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with IMMEDIATE, django_capture_on_commit_callbacks(execute=True):
        job = export_create(actor=org.auditor, filters=ExportFilters(bodies=[]), language="en")
    job.refresh_from_db()
    with job.file.open("rb") as f:
        archive = zipfile.ZipFile(io.BytesIO(f.read()))
    data = archive.read("checkpoint.json")
    checkpoint = Checkpoint.objects.get(reason=CheckpointReason.EXPORT)
    assert data == checkpoint_file_bytes(checkpoint) == _file(checkpoint)
    assert checkpoint_verify(data).valid
    assert "checkpoint.json" not in archive.read("SHA256SUMS").decode()


# ---- inclusion proofs ---------------------------------------------------------------------


def test_an_inclusion_proof_proves_one_declarations_head(
    org: Org, chains: list[Declaration]
) -> None:
    assert inclusion_proof(chains[0]) is None  # no checkpoint yet
    checkpoint = checkpoint_make(reason=CheckpointReason.MANUAL)
    data = _file(checkpoint)
    target = chains[1]
    target.refresh_from_db()
    proof = inclusion_proof(target)
    assert proof is not None
    assert proof["leaf"] == {
        "kind": "declaration",
        "code": str(target.code),
        "seq": target.audit_seq,
        "head": target.audit_head,
    }
    assert (proof["root"], proof["tree_size"]) == (checkpoint.root_hash, 4)
    assert proof["checkpoint_file"] == checkpoint.file_name and proof["checkpoint_time"]
    assert len(proof["audit_path"]) == 2 and 0 <= proof["index"] < 4
    assert verify_inclusion(proof, data)
    for forged in (
        {**proof, "leaf": {**proof["leaf"], "seq": 99}},
        {**proof, "index": (proof["index"] + 1) % 4},
        {**proof, "root": "0" * 64},
        {**proof, "proof": {}},
    ):
        assert not verify_inclusion(forged, data)
    assert not verify_inclusion(proof, b"garbage")
    # a declaration filed after the latest checkpoint is in none yet
    assert inclusion_proof(declaration_in(org, S.SUBMITTED)) is None
