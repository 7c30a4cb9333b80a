"""What a step calls for: the records of DESIGN.md §4, written *pending* in the step's transaction.

``declaration_transition`` (``services/steps.py``) asks ``records_for_step`` which records the
audited step it just wrote calls for (``RECORD_FOR_ACTION``, and the final decision record when an
HR order resolves the declaration), and ``records_schedule`` writes them, with their verification
codes, before the transaction commits; issuing them (``issuing.record_issue``) is handed to the task
queue after commit (the ``Effect.RECORDS_ISSUE`` effect, ``tasks.py``).
"""

from __future__ import annotations

from django.conf import settings

from declarations.choices import AuditAction, DeclarationState, RecordKind
from declarations.models import AuditEvent, Declaration, Record
from declarations.models.records import new_verification_code
from declarations.side_effects import Effect, after_commit

#: The record each audited step calls for (DESIGN.md §4 "produced when").
RECORD_FOR_ACTION: dict[str, str] = {
    AuditAction.DECLARATION_SUBMITTED: RecordKind.NOTICE,
    AuditAction.DECLARATION_OPENED: RecordKind.NOTICE,
    AuditAction.DECIDED: RecordKind.DECISION,
    AuditAction.NO_CONFLICT: RecordKind.DECISION,
    AuditAction.WITHDRAWN: RecordKind.DECISION,
    AuditAction.CONSENT_ACCEPTED: RecordKind.CONSENT,
    AuditAction.CONSENT_DECLINED: RecordKind.CONSENT,
}


def records_for_step(action: str, to_state: str) -> list[str]:
    """The kinds of record a step issues; an HR order that resolves the declaration closes it with a
    final decision record (the measures with their orders)."""
    if action == AuditAction.MEASURE_IMPLEMENTED and to_state == DeclarationState.RESOLVED:
        return [RecordKind.DECISION]
    kind = RECORD_FOR_ACTION.get(action)
    return [kind] if kind else []


def records_schedule(*, declaration: Declaration, event: AuditEvent, kinds: list[str]) -> None:
    """Inside the step's transaction: the pending rows, then issuing after commit."""
    if not kinds:
        return
    records = Record.objects.bulk_create(
        Record(
            declaration=declaration,
            event=event,
            kind=kind,
            language=settings.COI_RECORD_LANGUAGE,
            verification_code=new_verification_code(),
        )
        for kind in kinds
    )
    after_commit(Effect.RECORDS_ISSUE, record_ids=[r.pk for r in records])
