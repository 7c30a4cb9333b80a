"""Deciding the measures of a declaration (003 cl. 8 p.2; DESIGN.md §3 "Measures"): what a measure
must say, how a client's input becomes one (``measure_spec_from_input``, for the API and the
pages alike), and the decision itself, through ``steps.declaration_transition``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from declarations import selectors
from declarations.calendar import ALMATY, working_calendar
from declarations.choices import (
    AuditAction,
    DeclarationState,
    MeasureKind,
    MeasureState,
    NotificationKind,
)
from declarations.dates import measure_bounds
from declarations.models import (
    Decision,
    Declaration,
    Measure,
    Position,
    Servant,
)
from declarations.services.steps import declaration_transition

if TYPE_CHECKING:
    from django.contrib.auth.models import User

S = DeclarationState


@dataclass(frozen=True)
class MeasureSpec:
    """One measure of a decision, as validated input (DESIGN.md §3 "Measures")."""

    kind: str
    substitute: Servant | None = None
    matter: str = ""
    description: str = ""
    effective_date: date | None = None
    position: Position | None = None
    proposed_date: date | None = None
    needs_order: bool = False


#: What a client may say of a measure (the fields of ``MeasureSpec``).
MEASURE_INPUT = (
    "kind",
    "substitute",
    "matter",
    "description",
    "effective_date",
    "position",
    "proposed_date",
    "needs_order",
)
_REFERENCES: dict[str, type[Servant] | type[Position]] = {
    "substitute": Servant,
    "position": Position,
}


def in_body(model: type[Servant] | type[Position], code: Any, *, body_id: int, key: str) -> Any:
    """The servant or position of the body a client names by its public id, or a 400 on
    ``key`` (``measures.<i>.<field>`` is nested back by the API's error handler)."""
    found = model.objects.filter(code=code, body_id=body_id).first()
    if found is None:
        message = (
            _("No such servant in this body.")
            if model is Servant
            else _("No such position in this body.")
        )
        raise ValidationError({key: [message]})
    return found


def measure_spec_from_input(
    *, declaration: Declaration, index: int, values: dict[str, Any]
) -> MeasureSpec:
    """One measure of a decision as a client sent it, from the API or the decision page alike:
    the substitute and the position are public ids of the declaration's body (else a 400 on
    ``measures.<index>.<field>``); the rest is taken as given and checked by the decision."""
    found = {
        name: in_body(
            model, values[name], body_id=declaration.body_id, key=f"measures.{index}.{name}"
        )
        for name, model in _REFERENCES.items()
        if values.get(name) not in (None, "")
    }
    given = {k: v for k, v in values.items() if k in MEASURE_INPUT and k not in _REFERENCES}
    return MeasureSpec(**{k: v for k, v in given.items() if v is not None}, **found)


def _validate_measures(
    declaration: Declaration, specs: list[MeasureSpec], *, decided_on: date
) -> None:
    """Errors are keyed ``measures.<index>.<field>``: Django's ``ValidationError`` flattens
    nested dicts, and the caller must know which measure of the decision is wrong.

    ``decided_on`` is the decision's day in Almaty: a measure's dates lie between it and two
    years after it (``dates.measure_bounds``), whatever the kind that carries them.
    """
    errors: list[dict[str, list[str]]] = []
    transfers = 0
    bounds = measure_bounds(decided_on=decided_on)
    for spec in specs:
        err: dict[str, list[str]] = {}
        if spec.kind == MeasureKind.REASSIGN:
            sub = spec.substitute
            matter = (spec.matter or declaration.matter).strip()
            if sub is None:
                err["substitute"] = [_("Choose the person who takes over the matter.")]
            elif sub.pk == declaration.declarant_id:
                err["substitute"] = [_("The substitute cannot be the declarant.")]
            elif sub.body_id != declaration.body_id or not sub.is_active:
                err["substitute"] = [_("The substitute must be in service in the same body.")]
            elif selectors.recusals_on_matter(servant=sub, matters=[matter, declaration.matter]):
                # the matter given, and the declaration's own: however either is spelt
                err["substitute"] = [_("The substitute is recused on this matter.")]
        elif spec.kind == MeasureKind.CHANGE_DUTIES:
            if not spec.description.strip():
                err["description"] = [_("Describe the change of duties.")]
            if spec.effective_date is None:
                err["effective_date"] = [_("Give the date the change takes effect.")]
        elif spec.kind == MeasureKind.TRANSFER:
            transfers += 1
            pos = spec.position
            if pos is None:
                err["position"] = [_("Choose the vacant position.")]
            elif pos.body_id != declaration.body_id:
                err["position"] = [_("The position must be in the same body.")]
            elif not selectors.position_is_vacant(pos):
                err["position"] = [_("This position is not vacant.")]
            if spec.proposed_date is None:
                err["proposed_date"] = [_("Give the proposed date of the transfer.")]
        elif spec.kind == MeasureKind.OTHER:
            if not spec.description.strip():
                err["description"] = [_("Describe the measure.")]
        else:
            err["kind"] = [_("Unknown kind of measure.")]
        for name, day in (
            ("effective_date", spec.effective_date),
            ("proposed_date", spec.proposed_date),
        ):
            if day is not None and (error := bounds.error(day)):
                err.setdefault(name, []).append(error)
        errors.append(err)
    if transfers > 1:
        raise ValidationError({"measures": [_("Propose at most one transfer at a time.")]})
    if any(errors):
        raise ValidationError(
            {
                f"measures.{index}.{name}": messages
                for index, err in enumerate(errors)
                for name, messages in err.items()
            }
        )


def _initial_measure_state(spec: MeasureSpec) -> str:
    if spec.kind == MeasureKind.TRANSFER:
        return MeasureState.PENDING_CONSENT
    if spec.kind == MeasureKind.CHANGE_DUTIES or (
        spec.kind == MeasureKind.OTHER and spec.needs_order
    ):
        return MeasureState.PENDING_ORDER
    return MeasureState.DONE


def declaration_decide(
    *,
    declaration: Declaration,
    actor: User,
    measures: list[MeasureSpec],
    reason: str,
    signature: bytes | None = None,
) -> Decision:
    """One decision with one or more measures (003 cl. 8 p.2; Law 410-V Art. 15 p.3)."""
    with declaration_transition(
        declaration=declaration, actor=actor, name="decide", what=_("decide")
    ) as step:
        locked = step.declaration
        if not measures:
            raise ValidationError({"measures": [_("Decide at least one measure.")]})
        if not reason.strip():
            raise ValidationError({"reason": [_("Give the reasons for the decision.")]})
        for spec in measures:
            if spec.position is not None:  # serialise proposals of the same vacancy
                Position.objects.select_for_update().get(pk=spec.position.pk)
        _validate_measures(locked, measures, decided_on=step.at.astimezone(ALMATY).date())
        calendar = working_calendar()
        decision = Decision(declaration=locked, decided_by=actor, decided_at=step.at, reason=reason)
        decision.full_clean(exclude=["declaration", "decided_by"], validate_unique=False)
        decision.save()
        created = []
        for spec in measures:
            state = _initial_measure_state(spec)
            measure = Measure(
                declaration=locked,
                decision=decision,
                kind=spec.kind,
                state=state,
                substitute=spec.substitute,
                matter=(spec.matter or locked.matter) if spec.kind == MeasureKind.REASSIGN else "",
                description=spec.description,
                effective_date=spec.effective_date,
                needs_order=spec.needs_order or spec.kind == MeasureKind.CHANGE_DUTIES,
                position=spec.position,
                proposed_date=spec.proposed_date,
                consent_due_at=calendar.add_working_days(step.at, locked.body.consent_days)
                if state == MeasureState.PENDING_CONSENT
                else None,
                order_due_at=calendar.add_working_days(step.at, locked.body.hr_order_days)
                if state == MeasureState.PENDING_ORDER
                else None,
            )
            # uuid4 codes: the unique constraint guards them, no SELECT per measure
            measure.full_clean(
                exclude=["state", "declaration", "decision", "substitute", "position"],
                validate_unique=False,
            )
            created.append(measure)
        Measure.objects.bulk_create(created)
        states = list(locked.measures.values_list("state", flat=True))
        locked.decide(at=step.at, measure_states=states)
        step.action = AuditAction.DECIDED
        step.legal_topics = ["decide", *(f"measure.{m.kind}" for m in created)]
        step.data = {
            "decision": str(decision.code),
            "reason": reason,
            "measures": [measure_snapshot(m) for m in created],
        }
        step.sign(
            step="decide",
            actor=actor,
            content=lambda: decision_content(measures=measures, reason=reason),
            signature=signature,
        )
        declarant = locked.declarant.user_id
        step.notify(NotificationKind.DECISION_MADE, [declarant])
        if any(m.state == MeasureState.PENDING_CONSENT for m in created):
            step.notify(NotificationKind.CONSENT_REQUESTED, [declarant])
        substitutes = [m.substitute.user_id for m in created if m.substitute is not None]
        step.notify(NotificationKind.SUBSTITUTE_ASSIGNED, list(substitutes))
        if any(m.state == MeasureState.PENDING_ORDER for m in created):
            step.notify(NotificationKind.ORDER_REQUESTED, hr_user_ids(locked))
        if locked.state == S.RESOLVED:
            step.notify(NotificationKind.DECLARATION_CLOSED, [declarant])
    return decision


def hr_user_ids(declaration: Declaration) -> list[int | None]:
    return list(selectors.users_with_role(declaration.body_id, "hr").values_list("pk", flat=True))


def decision_content(*, measures: list[MeasureSpec], reason: str) -> dict[str, Any]:
    """What the reviewer authored in a decision, as they sign it (issue 15): the reasons and
    each measure as they chose it (the people and positions by their public ids)."""
    return {
        "reason": reason,
        "measures": [
            {
                "kind": spec.kind,
                "substitute": str(spec.substitute.code) if spec.substitute else None,
                "matter": spec.matter,
                "description": spec.description,
                "effective_date": spec.effective_date,
                "position": str(spec.position.code) if spec.position else None,
                "proposed_date": spec.proposed_date,
                "needs_order": spec.needs_order,
            }
            for spec in measures
        ],
    }


def measure_snapshot(m: Measure) -> dict[str, Any]:
    return {
        "measure": str(m.code),
        "kind": m.kind,
        "state": m.state,
        "substitute": str(m.substitute.code) if m.substitute else None,
        "matter": m.matter,
        "description": m.description,
        "effective_date": m.effective_date,
        "position": str(m.position.code) if m.position else None,
        "proposed_date": m.proposed_date,
        "needs_order": m.needs_order,
    }
