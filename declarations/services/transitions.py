"""One service per transition of a case (STYLE.md rule 8), all through ``case_transition``.

The fixed shape, inside one transaction:
1. lock the case row (``select_for_update``) and refuse if it moved since the caller loaded it
   (lost race: ``ConcurrentTransition``, a 409);
2. check the transition is allowed from the current state (``can_proceed``; else 409) and that the
   actor may fire it (``has_transition_perm``; else ``PermissionDenied``, a 403);
3. the service body validates its input (``ValidationError``, a 400) and calls the transition;
4. recompute the deadlines and write exactly one audit event, with the legal basis the step
   rests on;
5. ``save()`` the case with its new chain head (django-fsm-2's optimistic check is a second
   guard);
6. queue notifications in the outbox; sending happens after commit.
Any exception rolls all of it back: nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, TransitionNotAllowed, can_proceed, has_transition_perm

from declarations import rulebook, selectors
from declarations.calendar import ALMATY, working_calendar
from declarations.choices import (
    Addressee,
    AuditAction,
    ConflictType,
    DeclarationState,
    MeasureKind,
    MeasureState,
    Origin,
)
from declarations.dates import measure_bounds, past_bounds
from declarations.models import (
    Decision,
    Declaration,
    Measure,
    Position,
    RegistrationCounter,
    Servant,
)
from declarations.services.audit import audit_record
from declarations.services.deadlines import declaration_refresh_deadlines
from declarations.services.notifications import notification_enqueue
from declarations.services.records import records_for_step, records_schedule

if TYPE_CHECKING:
    from django.contrib.auth.models import User

S = DeclarationState


def legal_basis_data(*topics: str) -> list[dict[str, Any]]:
    """The references a step rests on, frozen into its audit event as they read at the time."""
    return [
        {
            "key": ref.key,
            "act": ref.act,
            "article": ref.article,
            "clause": ref.clause,
            "edition_date": ref.edition_date,
            "in_force": ref.in_force,
        }
        for ref in selectors.legal_basis(*topics)
    ]


@dataclass
class Step:
    """What the body of a ``case_transition`` block fills in."""

    case: Declaration
    at: datetime
    from_state: str
    action: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    legal_topics: list[str] = field(default_factory=list)
    notifications: list[tuple[str, list[int | None], dict[str, Any]]] = field(default_factory=list)

    def notify(self, kind: str, recipient_ids: Sequence[int | None], **context: Any) -> None:
        self.notifications.append((kind, list(recipient_ids), context))


def lock_case(declaration: Declaration, *, expect_state: bool = True) -> Declaration:
    """Lock the case row; with ``expect_state`` refuse if the state moved since the caller read."""
    locked = (
        Declaration.objects.select_for_update(of=("self",))
        .select_related("body", "declarant__user")
        .get(pk=declaration.pk)
    )
    if expect_state and locked.state != declaration.state:
        raise ConcurrentTransition(
            _("The case changed while you were working on it: it is now “%(state)s”.")
            % {"state": locked.get_state_display()}
        )
    return locked


def check_transition(method: Any, actor: User | None, *, what: str) -> None:
    if not can_proceed(method):
        instance = method.__self__
        message = (
            _("“%(what)s” is not possible while the measure is “%(state)s”.")
            if isinstance(instance, Measure)
            else _("“%(what)s” is not possible while the case is “%(state)s”.")
        )
        raise TransitionNotAllowed(
            message % {"what": what, "state": instance.get_state_display()},
            object=instance,
            method=method,
        )
    if actor is None or not has_transition_perm(method, actor):
        raise PermissionDenied(_("You may not “%(what)s” on this case.") % {"what": what})


@contextmanager
def case_transition(
    *,
    declaration: Declaration,
    actor: User | None,
    name: str | None,
    what: str,
    rule: str | None = None,
    expect_state: bool = True,
) -> Iterator[Step]:
    """Steps 1–2 before the block, 4–6 after it (see the module docstring).

    ``name`` is the case's transition. With ``name=None`` the step changes something else under
    the case's lock (a measure, a comment): the body checks the measure's own transition, and
    ``rule`` names the rulebook entry the actor must pass.
    """
    with transaction.atomic():
        case = lock_case(declaration, expect_state=expect_state)
        if name is not None:
            check_transition(getattr(case, name), actor, what=what)
        if rule is not None and not rulebook.allows(rule, actor, case):
            raise PermissionDenied(_("You may not “%(what)s” on this case.") % {"what": what})
        step = Step(case=case, at=timezone.now(), from_state=case.state)
        yield step
        if not step.action:
            raise RuntimeError("a case step must name its audit action")
        declaration_refresh_deadlines(declaration=case)
        data = dict(step.data)
        if step.legal_topics:
            data["legal_basis"] = legal_basis_data(*step.legal_topics)
        event = audit_record(
            actor=actor,
            declaration=case,
            action=step.action,
            from_state=step.from_state,
            to_state=case.state,
            data=data,
            save_head=False,
        )
        records_schedule(
            declaration=case, event=event, kinds=records_for_step(step.action, case.state)
        )
        case.save()  # the transition, the deadlines and the new chain head in one UPDATE
        for kind, recipient_ids, context in step.notifications:
            notification_enqueue(
                recipient_ids=recipient_ids,
                kind=kind,
                declaration=case,
                context=context,
                exclude_ids=[actor.pk] if actor is not None else [],
            )
    if declaration is not case:
        declaration.refresh_from_db()  # the caller's object shows the case as it now is


def _next_registration_number(case: Declaration, at: datetime) -> str:
    year = at.astimezone(ALMATY).year
    RegistrationCounter.objects.bulk_create(
        [RegistrationCounter(body_id=case.body_id, year=year)], ignore_conflicts=True
    )
    counter = RegistrationCounter.objects.select_for_update().get(body_id=case.body_id, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{case.body.registration_prefix}-{year}-{counter.last:06d}"


def _reviewer_for(case: Declaration) -> int | None:
    """The direct manager's user for a notice to the manager; nobody yet for one to management
    (whichever member starts the review takes it), unless nobody in the management but the
    declarant could: then ``selectors.reviewer_of_last_resort``."""
    if case.addressee == Addressee.MANAGEMENT:
        if selectors.management_users(case.body_id).exclude(pk=case.declarant.user_id).exists():
            return None
        reviewer = selectors.reviewer_of_last_resort(case.body, exclude_user=case.declarant.user_id)
        if reviewer is None:
            raise ValidationError(
                {
                    "addressee": _(
                        "Nobody in this state body can review your notice: its management has "
                        "no other member, and neither an ethics commissioner nor a reviewer in "
                        "the superior body is set. Ask the administrator to set one."
                    )
                }
            )
        return reviewer
    manager = selectors.direct_manager_of(case.declarant)
    if manager is None:
        raise ValidationError(
            {
                "addressee": _(
                    "You have no direct manager in the structure: address the notice to the "
                    "management of the state body."
                )
            }
        )
    return manager.user_id


def _register(step: Step) -> None:
    """Assign the number, the reviewer, the snapshot of the post and the first two clocks."""
    case = step.case
    case.reviewer_id = _reviewer_for(case)
    position_id = case.declarant.position_id
    position = (
        Position.objects.select_related("unit").filter(pk=position_id).first()
        if position_id is not None
        else None
    )
    if position is not None:
        case.position_title = position.title
        case.unit_name = position.unit.name
    calendar = working_calendar()
    case.start_review_due_at = calendar.add_working_days(step.at, case.body.start_review_days)
    case.decision_due_at = calendar.add_working_days(step.at, case.body.decision_days)
    reviewers = (
        [case.reviewer_id]
        if case.reviewer_id
        else list(selectors.management_users(case.body_id).values_list("pk", flat=True))
    )
    step.notify("case_assigned", reviewers)
    step.legal_topics += ["recusal"]
    if case.addressee == Addressee.MANAGEMENT and case.reviewer_id is not None:
        step.legal_topics += ["route.head"]  # nobody in management could review it


def notice_validate(case: Declaration, at: datetime) -> None:
    """Validate a notice's own fields, and that ``aware_since`` is a day that has happened:
    not in the future (Almaty) and not before ``DATE_FLOOR`` (``dates.past_bounds``).

    Every path a notice's text takes runs this: creating and editing a draft, submitting it
    (a draft saved before the bounds existed is caught here), and opening a case from other
    sources.
    """
    case.full_clean(
        exclude=["state", "declarant", "body", "opened_by", "reviewer"], validate_unique=False
    )
    error = past_bounds(today=at.astimezone(ALMATY).date()).error(case.aware_since)
    if error is not None:
        raise ValidationError({"aware_since": [error]})


def declaration_submit(*, declaration: Declaration, actor: User) -> Declaration:
    """The servant files their notice (003 cl. 8 p.1; Law 410-V Art. 15 p.2). Its text is frozen."""
    with case_transition(
        declaration=declaration, actor=actor, name="submit", what=_("submit")
    ) as step:
        case = step.case
        notice_validate(case, step.at)
        case.submit(at=step.at, registration_number=_next_registration_number(case, step.at))
        _register(step)
        step.action = AuditAction.DECLARATION_SUBMITTED
        step.legal_topics.insert(0, "submit")
        step.data = {
            "registration_number": case.registration_number,
            "notice": _notice_snapshot(case),
            "late_by_days": (step.at.astimezone(ALMATY).date() - case.aware_since).days,
        }
    return declaration


def _notice_snapshot(case: Declaration) -> dict[str, Any]:
    """The frozen text of the notice, as it goes into the chain."""
    return {
        "conflict_type": case.conflict_type,
        "category": case.category,
        "matter": case.matter,
        "personal_interest": case.personal_interest,
        "related_persons": case.related_persons,
        "aware_since": case.aware_since,
        "addressee": case.addressee,
        "position": case.position_title,
        "unit": case.unit_name,
        "attachments": [
            {"name": name, "content_type": ctype, "size": size, "sha256": sha}
            for name, ctype, size, sha in case.attachments.values_list(
                "filename", "content_type", "size", "sha256"
            )
        ],
    }


def declaration_open_from_source(
    *,
    actor: User,
    declarant: Servant,
    conflict_type: str = ConflictType.POTENTIAL,
    category: str,
    matter: str,
    personal_interest: str,
    related_persons: str = "",
    aware_since: date,
    addressee: str = Addressee.MANAGER,
    source_description: str = "",
    source_confidential: bool = False,
) -> Declaration:
    """Open a case about a servant on information from other sources (003 cl. 8 p.2).

    The case is registered at once (it never is a draft anyone could see) and the servant is told.
    """
    case = Declaration(
        body_id=declarant.body_id,
        declarant=declarant,
        origin=Origin.OTHER_SOURCE,
        opened_by=actor,
        conflict_type=conflict_type,
        category=category,
        matter=matter,
        personal_interest=personal_interest,
        related_persons=related_persons,
        aware_since=aware_since,
        addressee=addressee,
        source_description=source_description,
        source_confidential=source_confidential,
    )
    with transaction.atomic():
        check_transition(case.open_from_source, actor, what=_("open a case"))
        notice_validate(case, timezone.now())
        if not source_description.strip():
            raise ValidationError({"source_description": _("Say what the information is.")})
        case.save()
        case = Declaration.objects.select_related("body", "declarant__user").get(pk=case.pk)
        with case_transition(
            declaration=case, actor=actor, name="open_from_source", what=_("open a case")
        ) as step:
            step.case.open_from_source(
                at=step.at, registration_number=_next_registration_number(step.case, step.at)
            )
            _register(step)
            step.action = AuditAction.DECLARATION_OPENED
            step.legal_topics.insert(0, "open_from_source")
            step.data = {
                "registration_number": step.case.registration_number,
                "notice": _notice_snapshot(step.case),
                "source_confidential": source_confidential,
            }
            step.notify("case_opened_about_you", [declarant.user_id])
    return case


def declaration_start_review(*, declaration: Declaration, actor: User) -> Declaration:
    """The reviewer starts the review. For a notice to management, the member who starts it
    becomes its reviewer."""
    with case_transition(
        declaration=declaration, actor=actor, name="start_review", what=_("start the review")
    ) as step:
        if step.case.reviewer_id is None:
            step.case.reviewer_id = actor.pk
        step.case.start_review(at=step.at)
        step.action = AuditAction.REVIEW_STARTED
        step.notify("review_started", [step.case.declarant.user_id])
    return declaration


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


def _validate_measures(case: Declaration, specs: list[MeasureSpec], *, decided_on: date) -> None:
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
            matter = (spec.matter or case.matter).strip()
            if sub is None:
                err["substitute"] = [_("Choose the person who takes over the matter.")]
            elif sub.pk == case.declarant_id:
                err["substitute"] = [_("The substitute cannot be the declarant.")]
            elif sub.body_id != case.body_id or not sub.is_active:
                err["substitute"] = [_("The substitute must be in service in the same body.")]
            elif selectors.recusals_on_matter(servant=sub, matters=[matter, case.matter]):
                # the matter given, and the case's own: however either is spelt
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
            elif pos.body_id != case.body_id:
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
) -> Decision:
    """One decision with one or more measures (003 cl. 8 p.2; Law 410-V Art. 15 p.3)."""
    with case_transition(
        declaration=declaration, actor=actor, name="decide", what=_("decide")
    ) as step:
        case = step.case
        if not measures:
            raise ValidationError({"measures": [_("Decide at least one measure.")]})
        if not reason.strip():
            raise ValidationError({"reason": [_("Give the reasons for the decision.")]})
        for spec in measures:
            if spec.position is not None:  # serialise proposals of the same vacancy
                Position.objects.select_for_update().get(pk=spec.position.pk)
        _validate_measures(case, measures, decided_on=step.at.astimezone(ALMATY).date())
        calendar = working_calendar()
        decision = Decision(declaration=case, decided_by=actor, decided_at=step.at, reason=reason)
        decision.full_clean(exclude=["declaration", "decided_by"], validate_unique=False)
        decision.save()
        created = []
        for spec in measures:
            state = _initial_measure_state(spec)
            measure = Measure(
                declaration=case,
                decision=decision,
                kind=spec.kind,
                state=state,
                substitute=spec.substitute,
                matter=(spec.matter or case.matter) if spec.kind == MeasureKind.REASSIGN else "",
                description=spec.description,
                effective_date=spec.effective_date,
                needs_order=spec.needs_order or spec.kind == MeasureKind.CHANGE_DUTIES,
                position=spec.position,
                proposed_date=spec.proposed_date,
                consent_due_at=calendar.add_working_days(step.at, case.body.consent_days)
                if state == MeasureState.PENDING_CONSENT
                else None,
                order_due_at=calendar.add_working_days(step.at, case.body.hr_order_days)
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
        states = list(case.measures.values_list("state", flat=True))
        case.decide(at=step.at, measure_states=states)
        step.action = AuditAction.DECIDED
        step.legal_topics = ["decide", *(f"measure.{m.kind}" for m in created)]
        step.data = {
            "decision": str(decision.code),
            "reason": reason,
            "measures": [measure_snapshot(m) for m in created],
        }
        declarant = case.declarant.user_id
        step.notify("decision_made", [declarant])
        if any(m.state == MeasureState.PENDING_CONSENT for m in created):
            step.notify("consent_requested", [declarant])
        substitutes = [m.substitute.user_id for m in created if m.substitute is not None]
        step.notify("substitute_assigned", list(substitutes))
        if any(m.state == MeasureState.PENDING_ORDER for m in created):
            step.notify("order_requested", hr_user_ids(case))
        if case.state == S.RESOLVED:
            step.notify("case_closed", [declarant])
    return decision


def hr_user_ids(case: Declaration) -> list[int | None]:
    return list(selectors.users_with_role(case.body_id, "hr").values_list("pk", flat=True))


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


def declaration_find_no_conflict(
    *, declaration: Declaration, actor: User, reason: str
) -> Declaration:
    """The reviewer finds, with reasons, that there is no conflict of interest."""
    with case_transition(
        declaration=declaration, actor=actor, name="find_no_conflict", what=_("find no conflict")
    ) as step:
        if not reason.strip():
            raise ValidationError({"reason": [_("Give the reasons why there is no conflict.")]})
        step.case.find_no_conflict(at=step.at, reason=reason)
        step.action = AuditAction.NO_CONFLICT
        step.data = {"reason": reason}
        step.notify("case_closed", [step.case.declarant.user_id])
    return declaration


def declaration_withdraw(*, declaration: Declaration, actor: User, reason: str) -> Declaration:
    """The declarant withdraws their notice, with reasons, before any decision."""
    with case_transition(
        declaration=declaration, actor=actor, name="withdraw", what=_("withdraw")
    ) as step:
        if not reason.strip():
            raise ValidationError({"reason": [_("Say why you withdraw the notice.")]})
        step.case.withdraw(at=step.at, reason=reason)
        step.action = AuditAction.WITHDRAWN
        step.data = {"reason": reason}
        step.notify("case_closed", [step.case.reviewer_id])
    return declaration


def declaration_reassign_reviewer(
    *,
    declaration: Declaration,
    actor: User,
    reviewer: User,
    reason: str,
) -> Declaration:
    """Management gives the case to another reviewer, or takes it over itself (DESIGN.md §1)."""
    with case_transition(
        declaration=declaration,
        actor=actor,
        name="reassign_reviewer",
        what=_("reassign the reviewer"),
    ) as step:
        case = step.case
        if not reason.strip():
            raise ValidationError({"reason": [_("Say why the reviewer changes.")]})
        if reviewer.pk == case.declarant.user_id:
            raise ValidationError({"reviewer": [_("The declarant cannot review their own case.")]})
        if reviewer.pk == case.reviewer_id:
            raise ValidationError({"reviewer": [_("This person already reviews the case.")]})
        in_body = Servant.objects.filter(user=reviewer, body_id=case.body_id, is_active=True)
        if not in_body.exists() and not selectors.has_role(reviewer, case.body_id, "management"):
            raise ValidationError({"reviewer": [_("The reviewer must serve in the same body.")]})
        previous = case.reviewer_id
        case.reassign_reviewer(reviewer=reviewer)
        step.action = AuditAction.REVIEWER_REASSIGNED
        step.data = {"from_reviewer": previous, "to_reviewer": reviewer.pk, "reason": reason}
        step.notify("case_assigned", [reviewer.pk])
        step.notify("reviewer_removed", [previous])
    return declaration
