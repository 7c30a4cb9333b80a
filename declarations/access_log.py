"""The access log's hashing, verification and reads (issue 14): who read what of a declaration.

One append-only chain for the whole installation (``AccessEvent``, seq 1, 2, …), hashed as the
audit chain is: SHA-256 over the RFC 8785 canonical JSON of the event's fields and the previous
hash (``audit_chain.canonical_data`` for the payload, ``GENESIS`` before the first). The only
writer is ``services.access.access_record``; this module writes nothing, so the records pipeline
(the dossier lists the accesses, the checkpoints commit to the head) may import it.

Verification alone proves the chain is intact, not that it is complete: whoever owns the
database can delete the tail, or rewrite it and every later hash consistently. The checkpoints
(``records/checkpoints.py``) catch both against a signed file kept outside the database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import rfc8785
from django.db.models import Q, QuerySet

from declarations.audit_chain import GENESIS
from declarations.choices import AccessAction
from declarations.models import AccessEvent, Declaration, ExportJob

#: Actions about an export job (``object_code`` is the job's id, no declaration): a declaration's
#: trail shows them when the job's dossiers include it.
EXPORT_ACTIONS = (AccessAction.EXPORT_STARTED, AccessAction.EXPORT_DOWNLOADED)


def access_hash(
    *,
    seq: int,
    at: datetime,
    user_id: int | None,
    action: str,
    declaration_code: str | None,
    object_code: str,
    data: dict[str, Any],
    prev_hash: str,
) -> str:
    """SHA-256 of the RFC 8785 canonical JSON of an access event and the previous hash. The
    declaration is named by its public id, which a restored or moved database keeps."""
    document = {
        "log": "access",
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "user": user_id,
        "action": action,
        "declaration": declaration_code,
        "object": object_code,
        "data": data,
        "prev": prev_hash,
    }
    canonical: bytes = rfc8785.dumps(cast(Any, document))
    return hashlib.sha256(canonical).hexdigest()


def hash_access_event(event: AccessEvent) -> str:
    """The hash an access event's stored fields and ``prev_hash`` call for."""
    declaration = event.declaration
    return access_hash(
        seq=event.seq,
        at=event.at,
        user_id=event.user_id,
        action=event.action,
        declaration_code=str(declaration.code) if declaration is not None else None,
        object_code=event.object_code,
        data=event.data,
        prev_hash=event.prev_hash,
    )


def _events() -> QuerySet[AccessEvent]:
    # The model shares the audit events' append-only queryset class, typed for ``AuditEvent``.
    return cast("QuerySet[AccessEvent]", AccessEvent.objects.all())


def access_log_head() -> tuple[int, str]:
    """The last event's ``(seq, hash)``; ``(0, GENESIS)`` while the log is empty."""
    last = _events().order_by("-seq").values_list("seq", "hash").first()
    return last if last is not None else (0, GENESIS)


@dataclass(frozen=True)
class AccessBrokenLink:
    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        event = f"event id {self.event_id}" if self.event_id is not None else "missing event"
        return f"access log, seq {self.seq}, {event}: {self.reason}"


def access_log_verify() -> AccessBrokenLink | None:
    """The first broken link of the access log (a gap, a wrong ``prev_hash``, a hash that does
    not match the event), or None when every event from seq 1 to the last verifies."""
    prev = GENESIS
    events = (
        _events()
        .select_related("declaration")
        .only(
            *("id", "seq", "at", "user_id", "action", "object_code", "data", "prev_hash", "hash"),
            "declaration__code",
        )
    )
    for expected, event in enumerate(events.order_by("seq").iterator(chunk_size=5000), start=1):
        if event.seq != expected:
            return AccessBrokenLink(expected, event.pk, f"sequence gap: found seq {event.seq}")
        if event.prev_hash != prev:
            return AccessBrokenLink(
                event.seq, event.pk, "prev_hash does not match the previous event"
            )
        if hash_access_event(event) != event.hash:
            return AccessBrokenLink(event.seq, event.pk, "hash does not match the event's content")
        prev = event.hash
    return None


# ---- reads --------------------------------------------------------------------------------


def access_events_of(declarations: QuerySet[Declaration]) -> QuerySet[AccessEvent]:
    """Every access to these declarations, newest first: their own events, and those of the
    exports that carried a dossier of one of them (an export names no declaration). Who may ask
    about which declarations is the caller's business."""
    exports = ExportJob.objects.filter(dossiers__declaration__in=declarations)
    codes = [str(code) for code in exports.values_list("code", flat=True).distinct()]
    return (
        _events()
        .filter(
            Q(declaration__in=declarations)
            | Q(declaration=None, action__in=EXPORT_ACTIONS, object_code__in=codes)
        )
        .select_related("user__servant__position", "declaration")
        .order_by("-seq")
    )


@dataclass(frozen=True)
class AccessRow:
    """One line of a declaration's access trail: who, when, what."""

    seq: int
    at: datetime
    user_id: int | None
    who: str  # the servant's name, else the user's full name or user name; "" for the system
    position: str  # the servant's position title now; "" if none
    action: AccessAction  # ``action.label`` is its name in the active language
    object_code: str  # the public id of what was read (record, file, export); "" for a page


def access_rows(declaration: Declaration) -> list[AccessRow]:
    """The declaration's access trail, oldest first (``access_events_of``), as rows to print."""
    rows = []
    events = access_events_of(Declaration.objects.filter(pk=declaration.pk)).order_by("seq")
    for event in events:
        user: Any = event.user
        servant = getattr(user, "servant", None) if user is not None else None
        if servant is not None:
            who = servant.full_name
        elif user is not None:
            who = user.get_full_name() or user.username
        else:
            who = ""
        position = servant.position.title if servant is not None and servant.position else ""
        rows.append(
            AccessRow(
                seq=event.seq,
                at=event.at,
                user_id=event.user_id,
                who=who,
                position=position,
                action=AccessAction(event.action),
                object_code=event.object_code,
            )
        )
    return rows
