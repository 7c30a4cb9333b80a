"""The only writer of the access log (issue 14): one hash-chained event per read that must leave
a trace — a dossier made or downloaded, a record or a notice's file downloaded, an export started
or downloaded, a confidential source shown. The hashing and the reads are
``declarations.access_log``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from declarations.access_log import access_hash
from declarations.audit_chain import GENESIS, canonical_data
from declarations.choices import AccessAction, RecordKind
from declarations.models import AccessEvent, Attachment, Declaration, Record

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

#: The PostgreSQL advisory lock the writers of the access log take in turn ("coi-acce").
ACCESS_LOG_LOCK = 0x636F692D61636365


def _lock_access_log() -> None:
    """Serialise the writers until the transaction ends, so each reads the committed last event
    and appends the next seq: no gap and no fork.

    PostgreSQL: a transaction-scoped advisory lock — a lock on the last row would not do, since
    a writer waiting on row N is handed row N again after the first one committed N+1. SQLite
    has one writer at a time: the settings begin every transaction ``IMMEDIATE``, so the write
    lock is held before the last event is read. The unique ``seq`` is the backstop of both.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ACCESS_LOG_LOCK])


def access_record(
    *,
    user: User | AnonymousUser | None,
    action: AccessAction,
    declaration: Declaration | None = None,
    object_code: str = "",
    data: dict[str, Any] | None = None,
) -> AccessEvent:
    """Append one event to the access log, in its own transaction (or the caller's).

    1. take the log's lock (``_lock_access_log``);
    2. read the last event: seq + 1 and its hash as ``prev_hash`` (``GENESIS`` for the first);
    3. hash the canonical event with it and insert it.
    The caller writes it before handing anything over, so a read that cannot be logged fails.
    """
    payload = canonical_data(data)
    user_id = user.pk if user is not None and user.is_authenticated else None
    with transaction.atomic():
        _lock_access_log()
        last = AccessEvent.objects.order_by("-seq").values_list("seq", "hash").first()
        seq, prev_hash = (last[0] + 1, last[1]) if last is not None else (1, GENESIS)
        at = timezone.now()
        digest = access_hash(
            seq=seq,
            at=at,
            user_id=user_id,
            action=str(action),
            declaration_code=str(declaration.code) if declaration is not None else None,
            object_code=object_code,
            data=payload,
            prev_hash=prev_hash,
        )
        return AccessEvent.objects.create(
            seq=seq,
            at=at,
            user_id=user_id,
            action=str(action),
            declaration=declaration,
            object_code=object_code,
            data=payload,
            prev_hash=prev_hash,
            hash=digest,
        )


def access_record_download(*, user: User | AnonymousUser, record: Record, via: str) -> AccessEvent:
    """A signed record (or a dossier) handed to ``user`` by the API or a page."""
    dossier = record.kind == RecordKind.DOSSIER
    return access_record(
        user=user,
        action=AccessAction.DOSSIER_DOWNLOADED if dossier else AccessAction.RECORD_DOWNLOADED,
        declaration=record.declaration,
        object_code=str(record.code),
        data={"kind": record.kind, "via": via},
    )


def access_attachment_download(
    *, user: User | AnonymousUser, attachment: Attachment, via: str
) -> AccessEvent:
    """A file of a notice handed to ``user`` by the API or a page."""
    return access_record(
        user=user,
        action=AccessAction.ATTACHMENT_DOWNLOADED,
        declaration=attachment.declaration,
        object_code=str(attachment.code),
        data={"sha256": attachment.sha256, "via": via},
    )
