"""The only writer of audit events (DESIGN.md §5); the chain's hashing and verification are
``declarations.audit_chain``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils import timezone

from declarations.audit_chain import GENESIS, canonical_data, event_hash
from declarations.models import AuditEvent, Declaration

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def audit_record(
    *,
    actor: User | None,
    declaration: Declaration,
    action: str,
    from_state: str = "",
    to_state: str = "",
    data: dict[str, Any] | None = None,
    save_head: bool = True,
) -> AuditEvent:
    """Append one event to the declaration's chain. The caller holds the declaration's row lock.

    1. take the chain head (``audit_seq``/``audit_head``) from the locked row;
    2. hash the canonical event with the previous hash and insert it;
    3. move the head on the declaration row, so that a deleted last event is detected too. A caller
       that saves the declaration itself right after passes ``save_head=False``: its save writes it.
    """
    payload = canonical_data(data)
    seq = declaration.audit_seq + 1
    prev_hash = declaration.audit_head or GENESIS
    created_at = timezone.now()
    actor_id = actor.pk if actor is not None else None
    digest = event_hash(
        declaration_code=str(declaration.code),
        seq=seq,
        actor_id=actor_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        data=payload,
        created_at=created_at,
        prev_hash=prev_hash,
    )
    event = AuditEvent.objects.create(
        declaration=declaration,
        seq=seq,
        actor_id=actor_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        data=payload,
        created_at=created_at,
        prev_hash=prev_hash,
        hash=digest,
    )
    if save_head:
        Declaration.objects.filter(pk=declaration.pk).update(audit_seq=seq, audit_head=digest)
    declaration.audit_seq = seq
    declaration.audit_head = digest
    return event
