"""One service per transition of a declaration (STYLE.md rule 8), each through
``steps.declaration_transition`` (lock, check, act, audit, effects). Deciding the measures is
``decisions.py``."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from declarations import selectors
from declarations.calendar import ALMATY, working_calendar
from declarations.choices import (
    Addressee,
    AuditAction,
    ConflictType,
    DeclarationState,
    NotificationKind,
    Origin,
)
from declarations.dates import past_bounds
from declarations.models import (
    NOTICE_FIELDS,
    Declaration,
    Position,
    RegistrationCounter,
    Servant,
)
from declarations.selectors.people import person_snapshot
from declarations.services.steps import Step, check_transition, declaration_transition

if TYPE_CHECKING:
    from django.contrib.auth.models import User

S = DeclarationState


def _next_registration_number(declaration: Declaration, at: datetime) -> str:
    year = at.astimezone(ALMATY).year
    RegistrationCounter.objects.bulk_create(
        [RegistrationCounter(body_id=declaration.body_id, year=year)], ignore_conflicts=True
    )
    counter = RegistrationCounter.objects.select_for_update().get(
        body_id=declaration.body_id, year=year
    )
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{declaration.body.registration_prefix}-{year}-{counter.last:06d}"


def _reviewer_for(declaration: Declaration) -> int | None:
    """The direct manager's user for a notice to the manager; nobody yet for one to management
    (whichever member starts the review takes it), unless nobody in the management but the
    declarant could: then ``selectors.reviewer_of_last_resort``."""
    if declaration.addressee == Addressee.MANAGEMENT:
        if (
            selectors.management_users(declaration.body_id)
            .exclude(pk=declaration.declarant.user_id)
            .exists()
        ):
            return None
        reviewer = selectors.reviewer_of_last_resort(
            declaration.body, exclude_user=declaration.declarant.user_id
        )
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
    manager = selectors.direct_manager_of(declaration.declarant)
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
    declaration = step.declaration
    declaration.reviewer_id = _reviewer_for(declaration)
    position_id = declaration.declarant.position_id
    position = (
        Position.objects.select_related("unit").filter(pk=position_id).first()
        if position_id is not None
        else None
    )
    if position is not None:
        declaration.position_title = position.title
        declaration.unit_name = position.unit.name
    calendar = working_calendar()
    declaration.start_review_due_at = calendar.add_working_days(
        step.at, declaration.body.start_review_days
    )
    declaration.decision_due_at = calendar.add_working_days(step.at, declaration.body.decision_days)
    reviewers = (
        [declaration.reviewer_id]
        if declaration.reviewer_id
        else list(selectors.management_users(declaration.body_id).values_list("pk", flat=True))
    )
    step.notify(NotificationKind.DECLARATION_ASSIGNED, reviewers)
    # Who knew (003 cl. 9): the person the notice went to, as they were at filing.
    (
        declaration.addressed_to_name,
        declaration.addressed_to_position,
        declaration.addressed_to_unit,
    ) = person_snapshot(declaration.reviewer_id)
    step.legal_topics += ["recusal"]
    if declaration.addressee == Addressee.MANAGEMENT and declaration.reviewer_id is not None:
        step.legal_topics += ["route.head"]  # nobody in management could review it


def notice_validate(declaration: Declaration, at: datetime) -> None:
    """Validate a notice's own fields, and that ``aware_since`` is a day that has happened:
    not in the future (Almaty) and not before ``DATE_FLOOR`` (``dates.past_bounds``).

    Every path a notice's text takes runs this: creating and editing a draft, submitting it
    (a draft saved before the bounds existed is caught here), and opening a declaration from other
    sources.
    """
    declaration.full_clean(
        exclude=["state", "declarant", "body", "opened_by", "reviewer"], validate_unique=False
    )
    error = past_bounds(today=at.astimezone(ALMATY).date()).error(declaration.aware_since)
    if error is not None:
        raise ValidationError({"aware_since": [error]})


def declaration_submit(
    *, declaration: Declaration, actor: User, signature: bytes | None = None
) -> Declaration:
    """The servant files their notice (003 cl. 8 p.1; Law 410-V Art. 15 p.2). Its text is frozen."""
    with declaration_transition(
        declaration=declaration, actor=actor, name="submit", what=_("submit")
    ) as step:
        locked = step.declaration
        notice_validate(locked, step.at)
        locked.submit(at=step.at, registration_number=_next_registration_number(locked, step.at))
        _register(step)
        step.action = AuditAction.DECLARATION_SUBMITTED
        step.legal_topics.insert(0, "submit")
        step.data = {
            "registration_number": locked.registration_number,
            "notice": _notice_snapshot(locked),
            "late_by_days": (step.at.astimezone(ALMATY).date() - locked.aware_since).days,
        }
        step.sign(
            step="submit", actor=actor, content=lambda: notice_content(locked), signature=signature
        )
    return declaration


def _addressed_to(declaration: Declaration) -> dict[str, Any]:
    """The person the notice went to (003 cl. 9: who knew), or the management members told."""
    if declaration.reviewer_id is None:
        members = selectors.management_users(declaration.body_id).values_list("pk", flat=True)
        return {"management": sorted(members)}
    return {
        "user": declaration.reviewer_id,
        "name": declaration.addressed_to_name,
        "position": declaration.addressed_to_position,
        "unit": declaration.addressed_to_unit,
    }


def notice_content(declaration: Declaration) -> dict[str, Any]:
    """What the servant authored in their notice, as they sign it (issue 15): the fields and
    the files (by their SHA-256)."""
    return {
        **{name: getattr(declaration, name) for name in NOTICE_FIELDS},
        "attachments": sorted(
            [name, sha] for name, sha in declaration.attachments.values_list("filename", "sha256")
        ),
    }


def _notice_snapshot(declaration: Declaration) -> dict[str, Any]:
    """The frozen text of the notice, as it goes into the chain."""
    return {
        **{name: getattr(declaration, name) for name in NOTICE_FIELDS},
        "position": declaration.position_title,
        "unit": declaration.unit_name,
        "addressed_to": _addressed_to(declaration),
        "attachments": [
            {"name": name, "content_type": ctype, "size": size, "sha256": sha}
            for name, ctype, size, sha in declaration.attachments.values_list(
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
    """Open a declaration about a servant on information from other sources (003 cl. 8 p.2).

    The declaration is registered at once (it never is a draft anyone could see) and the servant is
    told.
    """
    declaration = Declaration(
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
        check_transition(declaration.open_from_source, actor, what=_("open a case"))
        notice_validate(declaration, timezone.now())
        if not source_description.strip():
            raise ValidationError({"source_description": _("Say what the information is.")})
        declaration.save()
        declaration = Declaration.objects.select_related("body", "declarant__user").get(
            pk=declaration.pk
        )
        with declaration_transition(
            declaration=declaration, actor=actor, name="open_from_source", what=_("open a case")
        ) as step:
            step.declaration.open_from_source(
                at=step.at, registration_number=_next_registration_number(step.declaration, step.at)
            )
            _register(step)
            step.action = AuditAction.DECLARATION_OPENED
            step.legal_topics.insert(0, "open_from_source")
            step.data = {
                "registration_number": step.declaration.registration_number,
                "notice": _notice_snapshot(step.declaration),
                "source_confidential": source_confidential,
            }
            step.notify(NotificationKind.DECLARATION_OPENED_ABOUT_YOU, [declarant.user_id])
    return declaration


def declaration_start_review(*, declaration: Declaration, actor: User) -> Declaration:
    """The reviewer starts the review. For a notice to management, the member who starts it
    becomes its reviewer."""
    with declaration_transition(
        declaration=declaration, actor=actor, name="start_review", what=_("start the review")
    ) as step:
        if step.declaration.reviewer_id is None:
            step.declaration.reviewer_id = actor.pk
        step.declaration.start_review(at=step.at)
        step.action = AuditAction.REVIEW_STARTED
        step.notify(NotificationKind.REVIEW_STARTED, [step.declaration.declarant.user_id])
    return declaration


def declaration_find_no_conflict(
    *, declaration: Declaration, actor: User, reason: str, signature: bytes | None = None
) -> Declaration:
    """The reviewer finds, with reasons, that there is no conflict of interest."""
    with declaration_transition(
        declaration=declaration, actor=actor, name="find_no_conflict", what=_("find no conflict")
    ) as step:
        if not reason.strip():
            raise ValidationError({"reason": [_("Give the reasons why there is no conflict.")]})
        step.declaration.find_no_conflict(at=step.at, reason=reason)
        step.action = AuditAction.NO_CONFLICT
        step.data = {"reason": reason}
        step.sign(
            step="no_conflict", actor=actor, content=lambda: {"reason": reason}, signature=signature
        )
        step.notify(NotificationKind.DECLARATION_CLOSED, [step.declaration.declarant.user_id])
    return declaration


def declaration_withdraw(*, declaration: Declaration, actor: User, reason: str) -> Declaration:
    """The declarant withdraws their notice, with reasons, before any decision."""
    with declaration_transition(
        declaration=declaration, actor=actor, name="withdraw", what=_("withdraw")
    ) as step:
        if not reason.strip():
            raise ValidationError({"reason": [_("Say why you withdraw the notice.")]})
        step.declaration.withdraw(at=step.at, reason=reason)
        step.action = AuditAction.WITHDRAWN
        step.data = {"reason": reason}
        step.notify(NotificationKind.DECLARATION_CLOSED, [step.declaration.reviewer_id])
    return declaration


def _give_the_new_reviewer_time(declaration: Declaration, at: datetime) -> None:
    """A reviewer who takes a declaration over has the clock's whole period from the handover,
    and never less than the previous reviewer had: the clock that was missed stays charged to
    whoever missed it (it ends as superseded), the new one is the new reviewer's (issue 14)."""
    calendar = working_calendar()
    body = declaration.body
    if declaration.state == S.SUBMITTED and declaration.start_review_due_at:
        fresh = calendar.add_working_days(at, body.start_review_days)
        declaration.start_review_due_at = max(declaration.start_review_due_at, fresh)
    if declaration.state in (S.SUBMITTED, S.IN_REVIEW) and declaration.decision_due_at:
        fresh = calendar.add_working_days(at, body.decision_days)
        declaration.decision_due_at = max(declaration.decision_due_at, fresh)


def declaration_reassign_reviewer(
    *,
    declaration: Declaration,
    actor: User,
    reviewer: User,
    reason: str,
) -> Declaration:
    """Management gives the declaration to another reviewer, or takes it over itself (DESIGN.md
    §1)."""
    with declaration_transition(
        declaration=declaration,
        actor=actor,
        name="reassign_reviewer",
        what=_("reassign the reviewer"),
    ) as step:
        locked = step.declaration
        if not reason.strip():
            raise ValidationError({"reason": [_("Say why the reviewer changes.")]})
        if reviewer.pk == locked.declarant.user_id:
            raise ValidationError({"reviewer": [_("The declarant cannot review their own case.")]})
        if reviewer.pk == locked.reviewer_id:
            raise ValidationError({"reviewer": [_("This person already reviews the case.")]})
        in_body = Servant.objects.filter(user=reviewer, body_id=locked.body_id, is_active=True)
        if not in_body.exists() and not selectors.has_role(reviewer, locked.body_id, "management"):
            raise ValidationError({"reviewer": [_("The reviewer must serve in the same body.")]})
        previous = locked.reviewer_id
        locked.reassign_reviewer(reviewer=reviewer)
        _give_the_new_reviewer_time(locked, step.at)
        step.action = AuditAction.REVIEWER_REASSIGNED
        step.data = {"from_reviewer": previous, "to_reviewer": reviewer.pk, "reason": reason}
        step.notify(NotificationKind.DECLARATION_ASSIGNED, [reviewer.pk])
        step.notify(NotificationKind.REVIEWER_REMOVED, [previous])
    return declaration
