"""Services on measures: the servant's consent to a transfer, and HR's order.

Both run under the case's lock (the case is the aggregate a measure belongs to), then lock the
measure, fire its transition and, when the measures call for it, the case's; one event goes on the
case's chain (the shape of ``steps.case_transition``).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition

from declarations.calendar import ALMATY, working_calendar
from declarations.choices import (
    AuditAction,
    DeclarationState,
    MeasureKind,
    MeasureState,
    NotificationKind,
)
from declarations.dates import order_bounds
from declarations.models import Declaration, Measure, Servant
from declarations.services.decisions import hr_user_ids, measure_snapshot
from declarations.services.steps import case_transition, check_transition

if TYPE_CHECKING:
    from django.contrib.auth.models import User

S = DeclarationState
ACCEPT = "accept"
DECLINE = "decline"


def _lock_measure(measure: Measure, case: Declaration) -> Measure:
    locked = (
        Measure.objects.select_for_update(of=("self",))
        .select_related("position")
        .get(pk=measure.pk)
    )
    if locked.state != measure.state or locked.declaration_id != case.pk:
        raise ConcurrentTransition(_("The measure changed while you were working on it."))
    locked.declaration = case
    return locked


def measure_consent(*, measure: Measure, actor: User, decision: str, reason: str = "") -> Measure:
    """The servant accepts or declines a proposed transfer (003 cl. 8 p.2(3): with consent).

    Accepting sends it to HR for the order; declining (with reasons) sends the case back to the
    reviewer, who decides another measure on a new decision clock.
    """
    if decision not in (ACCEPT, DECLINE):
        raise ValidationError({"decision": [_("Answer “accept” or “decline”.")]})
    what = _("answer the transfer proposal")
    with case_transition(
        declaration=measure.declaration, actor=actor, name=None, what=what
    ) as step:
        case = step.case
        locked = _lock_measure(measure, case)
        check_transition(locked.accept if decision == ACCEPT else locked.decline, actor, what=what)
        check_transition(
            case.consent_accept if decision == ACCEPT else case.consent_decline, actor, what=what
        )
        calendar = working_calendar()
        if decision == ACCEPT:
            locked.accept(
                at=step.at,
                reason=reason,
                order_due_at=calendar.add_working_days(step.at, case.body.hr_order_days),
            )
            locked.save()
            case.consent_accept(
                at=step.at, measure_states=list(case.measures.values_list("state", flat=True))
            )
            step.action = AuditAction.CONSENT_ACCEPTED
            step.notify(NotificationKind.ORDER_REQUESTED, hr_user_ids(case))
        else:
            if not reason.strip():
                raise ValidationError({"reason": [_("Say why you decline the transfer.")]})
            locked.decline(at=step.at, reason=reason)
            locked.save()
            case.consent_decline(
                at=step.at,
                decision_due_at=calendar.add_working_days(step.at, case.body.decision_days),
            )
            step.action = AuditAction.CONSENT_DECLINED
        step.legal_topics = ["measure.transfer"]
        step.data = {"measure": str(locked.code), "decision": decision, "reason": reason}
        step.notify(NotificationKind.CONSENT_ANSWERED, [case.reviewer_id])
    measure.refresh_from_db()
    return measure


def measure_implement(
    *, measure: Measure, actor: User, order_number: str, order_date: date
) -> Measure:
    """HR records the order that carries out a measure; the last one resolves the case.

    A measure may be implemented while the case waits for something else (a change of duties
    while a transfer awaits consent); the case is resolved only when nothing is pending. For a
    transfer, the servant moves to the new position in the structure.

    ``order_date`` lies between the day the measure was decided and today, both in Almaty
    (``dates.order_bounds``): an order cannot carry out a measure before it existed. A refused
    date changes nothing (no state, no event).
    """
    what = _("record the order")
    with case_transition(
        declaration=measure.declaration, actor=actor, name=None, what=what, expect_state=False
    ) as step:
        case = step.case
        locked = _lock_measure(measure, case)
        check_transition(locked.implement, actor, what=what)
        errors: dict[str, list[str]] = {}
        if not order_number.strip():
            errors["order_number"] = [_("Give the number of the order.")]
        bounds = order_bounds(
            decided_on=locked.decision.decided_at.astimezone(ALMATY).date(),
            today=step.at.astimezone(ALMATY).date(),
        )
        if (error := bounds.error(order_date)) is not None:
            errors["order_date"] = [error]
        if errors:
            raise ValidationError(errors)
        locked.implement(at=step.at, by=actor, order_number=order_number, order_date=order_date)
        locked.full_clean(exclude=["state", "declaration", "decision", "substitute", "position"])
        locked.save()
        data = {"measure": str(locked.code), "order_number": order_number, "order_date": order_date}
        if locked.kind == MeasureKind.TRANSFER and locked.position is not None:
            servant = Servant.objects.select_for_update().get(pk=case.declarant_id)
            data["from_position"] = servant.position_id
            data["to_position"] = locked.position_id
            servant.position = locked.position
            servant.save(update_fields=["position", "updated_at"])
        pending = case.measures.filter(
            state__in=[MeasureState.PENDING_CONSENT, MeasureState.PENDING_ORDER]
        ).exists()
        if case.state == S.IMPLEMENTING and not pending:
            check_transition(case.complete, actor, what=what)
            case.complete(at=step.at)
            step.notify(NotificationKind.CASE_CLOSED, [case.declarant.user_id, case.reviewer_id])
        step.action = AuditAction.MEASURE_IMPLEMENTED
        step.legal_topics = [f"measure.{locked.kind}"]
        step.data = data
        step.data["measure_snapshot"] = measure_snapshot(locked)
        step.notify(
            NotificationKind.MEASURE_IMPLEMENTED, [case.declarant.user_id, case.reviewer_id]
        )
    measure.refresh_from_db()
    return measure
