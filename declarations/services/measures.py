"""Services on measures: the servant's consent to a transfer, and HR's order.

Both run under the declaration's lock (the declaration is the aggregate a measure belongs to), then
lock the measure, fire its transition and, when the measures call for it, the declaration's; one
event goes on the declaration's chain (the shape of ``steps.declaration_transition``).
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
from declarations.services.steps import check_transition, declaration_transition

if TYPE_CHECKING:
    from django.contrib.auth.models import User

S = DeclarationState
ACCEPT = "accept"
DECLINE = "decline"


def _lock_measure(measure: Measure, declaration: Declaration) -> Measure:
    locked = (
        Measure.objects.select_for_update(of=("self",))
        .select_related("position")
        .get(pk=measure.pk)
    )
    if locked.state != measure.state or locked.declaration_id != declaration.pk:
        raise ConcurrentTransition(_("The measure changed while you were working on it."))
    locked.declaration = declaration
    return locked


def measure_consent(
    *,
    measure: Measure,
    actor: User,
    decision: str,
    reason: str = "",
    signature: bytes | None = None,
) -> Measure:
    """The servant accepts or declines a proposed transfer (003 cl. 8 p.2(3): with consent).

    Accepting sends it to HR for the order; declining (with reasons) sends the declaration back to
    the reviewer, who decides another measure on a new decision clock.
    """
    if decision not in (ACCEPT, DECLINE):
        raise ValidationError({"decision": [_("Answer “accept” or “decline”.")]})
    what = _("answer the transfer proposal")
    with declaration_transition(
        declaration=measure.declaration, actor=actor, name=None, what=what
    ) as step:
        declaration = step.declaration
        locked = _lock_measure(measure, declaration)
        check_transition(locked.accept if decision == ACCEPT else locked.decline, actor, what=what)
        check_transition(
            declaration.consent_accept if decision == ACCEPT else declaration.consent_decline,
            actor,
            what=what,
        )
        calendar = working_calendar()
        if decision == ACCEPT:
            locked.accept(
                at=step.at,
                reason=reason,
                order_due_at=calendar.add_working_days(step.at, declaration.body.hr_order_days),
            )
            locked.save()
            declaration.consent_accept(
                at=step.at,
                measure_states=list(declaration.measures.values_list("state", flat=True)),
            )
            step.action = AuditAction.CONSENT_ACCEPTED
            step.notify(NotificationKind.ORDER_REQUESTED, hr_user_ids(declaration))
        else:
            if not reason.strip():
                raise ValidationError({"reason": [_("Say why you decline the transfer.")]})
            locked.decline(at=step.at, reason=reason)
            locked.save()
            declaration.consent_decline(
                at=step.at,
                decision_due_at=calendar.add_working_days(step.at, declaration.body.decision_days),
            )
            step.action = AuditAction.CONSENT_DECLINED
        step.legal_topics = ["measure.transfer"]
        step.data = {"measure": str(locked.code), "decision": decision, "reason": reason}
        step.sign(
            step="consent",
            actor=actor,
            content=lambda: {"measure": str(locked.code), "decision": decision, "reason": reason},
            signature=signature,
        )
        step.notify(NotificationKind.CONSENT_ANSWERED, [declaration.reviewer_id])
    measure.refresh_from_db()
    return measure


def measure_implement(
    *, measure: Measure, actor: User, order_number: str, order_date: date
) -> Measure:
    """HR records the order that carries out a measure; the last one resolves the declaration.

    A measure may be implemented while the declaration waits for something else (a change of duties
    while a transfer awaits consent); the declaration is resolved only when nothing is pending. For
    a transfer, the servant moves to the new position in the structure.

    ``order_date`` lies between the day the measure was decided and today, both in Almaty
    (``dates.order_bounds``): an order cannot carry out a measure before it existed. A refused
    date changes nothing (no state, no event).
    """
    what = _("record the order")
    with declaration_transition(
        declaration=measure.declaration, actor=actor, name=None, what=what, expect_state=False
    ) as step:
        declaration = step.declaration
        locked = _lock_measure(measure, declaration)
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
            servant = Servant.objects.select_for_update().get(pk=declaration.declarant_id)
            data["from_position"] = servant.position_id
            data["to_position"] = locked.position_id
            servant.position = locked.position
            servant.save(update_fields=["position", "updated_at"])
        pending = declaration.measures.filter(
            state__in=[MeasureState.PENDING_CONSENT, MeasureState.PENDING_ORDER]
        ).exists()
        if declaration.state == S.IMPLEMENTING and not pending:
            check_transition(declaration.complete, actor, what=what)
            declaration.complete(at=step.at)
            step.notify(
                NotificationKind.DECLARATION_CLOSED,
                [declaration.declarant.user_id, declaration.reviewer_id],
            )
        step.action = AuditAction.MEASURE_IMPLEMENTED
        step.legal_topics = [f"measure.{locked.kind}"]
        step.data = data
        step.data["measure_snapshot"] = measure_snapshot(locked)
        step.notify(
            NotificationKind.MEASURE_IMPLEMENTED,
            [declaration.declarant.user_id, declaration.reviewer_id],
        )
    measure.refresh_from_db()
    return measure
