"""The audit chain's hashing and verification (DESIGN.md §5): how an event is hashed, and the
first broken link of a chain. Pure reads; the only writer of events is
``services.audit.audit_record``, which hashes with ``event_hash`` here."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import rfc8785
from django.core.serializers.json import DjangoJSONEncoder

from declarations.models import AuditEvent, Declaration

GENESIS = "0" * 64


def canonical_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """The payload exactly as it is stored (dates, UUIDs, decimals become strings)."""
    result: dict[str, Any] = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    return result


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """RFC 8785 (JCS) bytes of a JSON-safe document: what the chain hashes, and what a person's
    signature signs (issue 15)."""
    encoded: bytes = rfc8785.dumps(cast(Any, canonical_data(document)))
    return encoded


def event_hash(
    *,
    declaration_code: str,
    seq: int,
    actor_id: int | None,
    action: str,
    from_state: str,
    to_state: str,
    data: dict[str, Any],
    created_at: datetime,
    prev_hash: str,
) -> str:
    """SHA-256 of the RFC 8785 canonical JSON of an event's fields and the previous hash."""
    document = {
        "case": declaration_code,
        "seq": seq,
        "actor": actor_id,
        "action": action,
        "from": from_state,
        "to": to_state,
        "data": data,
        "at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "prev": prev_hash,
    }
    canonical: bytes = rfc8785.dumps(cast(Any, document))
    return hashlib.sha256(canonical).hexdigest()


def hash_event(*, declaration_code: str, event: AuditEvent) -> str:
    """The hash an event's stored fields and ``prev_hash`` call for."""
    return event_hash(
        declaration_code=declaration_code,
        seq=event.seq,
        actor_id=event.actor_id,
        action=event.action,
        from_state=event.from_state,
        to_state=event.to_state,
        data=event.data,
        created_at=event.created_at,
        prev_hash=event.prev_hash,
    )


@dataclass(frozen=True)
class BrokenLink:
    declaration_code: str
    registration_number: str | None
    seq: int
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = self.registration_number or self.declaration_code
        event = f"event id {self.event_id}" if self.event_id is not None else "missing event"
        link = f"seq {self.seq}, {event}"
        return f"declaration {where} ({self.declaration_code}), {link}: {self.reason}"


def _chains() -> Iterator[tuple[Declaration, list[AuditEvent]]]:
    heads = Declaration.objects.filter(audit_seq__gt=0).only(
        "id", "code", "registration_number", "audit_seq", "audit_head"
    )
    current: Declaration | None = None
    events: list[AuditEvent] = []
    by_id = {d.pk: d for d in heads.iterator(chunk_size=5000)}
    for event in AuditEvent.objects.order_by("declaration_id", "seq").iterator(chunk_size=5000):
        if current is None or event.declaration_id != current.pk:
            if current is not None:
                yield current, events
            current = by_id.pop(event.declaration_id, None) or Declaration.objects.only(
                "id", "code", "registration_number", "audit_seq", "audit_head"
            ).get(pk=event.declaration_id)
            events = []
        events.append(event)
    if current is not None:
        yield current, events
    for declaration in by_id.values():  # a head with no events at all: every event was deleted
        yield declaration, []


def audit_verify_chain(declaration: Declaration, events: list[AuditEvent]) -> BrokenLink | None:
    """The first broken link of one declaration's chain, or None when it verifies."""

    def broken(seq: int, event_id: int | None, reason: str) -> BrokenLink:
        return BrokenLink(
            str(declaration.code), declaration.registration_number, seq, event_id, reason
        )

    prev = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            return broken(expected_seq, event.pk, f"sequence gap: found seq {event.seq}")
        if event.prev_hash != prev:
            return broken(event.seq, event.pk, "prev_hash does not match the previous event")
        recomputed = hash_event(declaration_code=str(declaration.code), event=event)
        if recomputed != event.hash:
            return broken(event.seq, event.pk, "hash does not match the event's content")
        prev = event.hash
    if len(events) != declaration.audit_seq or prev != (declaration.audit_head or GENESIS):
        return broken(
            len(events) + 1,
            None,
            f"chain head says {declaration.audit_seq} events, found {len(events)}",
        )
    return None


def audit_verify_all() -> tuple[int, list[BrokenLink]]:
    """Verify every chain; return the number of chains checked and the first broken link of each."""
    checked = 0
    broken: list[BrokenLink] = []
    for declaration, events in _chains():
        checked += 1
        link = audit_verify_chain(declaration, events)
        if link is not None:
            broken.append(link)
    return checked, broken
