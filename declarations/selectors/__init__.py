"""Reads that span relations or depend on who is asking (STYLE.md rule 4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from declarations.calendar import end_of_day, start_of_day
from declarations.choices import (
    DOSSIER_READERS,
    OPEN_STATES,
    SOURCE_READERS,
    AuditAction,
    DeclarationState,
    MeasureState,
    RecordKind,
    Role,
)
from declarations.matters import matter_key
from declarations.models import (
    NEEDS_HR,
    Attachment,
    AuditEvent,
    Declaration,
    ExportJob,
    LegalBasis,
    LegalReference,
    Measure,
    Position,
    Record,
    RoleGrant,
    Servant,
    StateBody,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

UserLike: TypeAlias = "User | AnonymousUser"


def grants_of(user: UserLike) -> dict[int, set[str]]:
    """The granted roles of ``user`` per state body id: ``{body_id: {"management", ...}}``."""
    if not user.is_authenticated:
        return {}
    result: dict[int, set[str]] = {}
    for body_id, role in RoleGrant.objects.filter(user=user).values_list("body_id", "role"):
        result.setdefault(body_id, set()).add(role)
    return result


def has_role(user: UserLike, body_id: int, *roles: str) -> bool:
    if not user.is_authenticated:
        return False
    return RoleGrant.objects.filter(user=user, body_id=body_id, role__in=roles).exists()


def bodies_with_role(user: UserLike, *roles: str) -> list[int]:
    if not user.is_authenticated:
        return []
    return list(
        RoleGrant.objects.filter(user=user, role__in=roles)
        .values_list("body_id", flat=True)
        .distinct()
    )


def servant_of(user: UserLike) -> Servant | None:
    if not user.is_authenticated:
        return None
    return Servant.objects.filter(user=user).select_related("body", "position__unit").first()


def direct_manager_of(servant: Servant) -> Servant | None:
    """The direct superior (DESIGN.md §1).

    An explicit override wins. Otherwise: the head of the servant's unit; for a unit head, the head
    of the parent unit. Where that head position is vacant we go on up the tree to the nearest held
    head position, since someone above must receive the notice (003 cl. 8); with nobody above, the
    servant addresses the management instead.
    """
    if servant.manager_override_id is not None:
        override = Servant.objects.filter(pk=servant.manager_override_id, is_active=True).first()
        if override is not None and override.pk != servant.pk:
            return override
    if servant.position_id is None:
        return None
    position = Position.objects.select_related("unit").get(pk=servant.position_id)
    unit = position.unit.parent if position.is_head else position.unit
    seen: set[int] = set()
    while unit is not None and unit.pk not in seen:
        seen.add(unit.pk)
        head = (
            Servant.objects.filter(
                position__unit=unit, position__is_head=True, is_active=True, body_id=servant.body_id
            )
            .exclude(pk=servant.pk)
            .first()
        )
        if head is not None:
            return head
        unit = unit.parent
    return None


def users_with_role(body_id: int, role: str) -> QuerySet[Any]:
    return (
        get_user_model()
        .objects.filter(role_grants__body_id=body_id, role_grants__role=role, is_active=True)
        .distinct()
    )


def management_users(body_id: int) -> QuerySet[Any]:
    return users_with_role(body_id, Role.MANAGEMENT)


def reviewer_of_last_resort(body: StateBody, *, exclude_user: int | None) -> int | None:
    """Who reviews a notice that nobody in the body's management but its declarant could (the
    head's own, when the head is the whole of the management; Law 410-V Art. 15 p.2, Code of
    Ethics cl. 10(2)): the official of the superior body the body's settings name, else the
    body's longest-serving ethics commissioner; never the declarant."""
    named = body.head_notice_reviewer_id
    others = get_user_model().objects.filter(is_active=True).exclude(pk=exclude_user or 0)
    if named is not None and others.filter(pk=named).exists():
        return named
    ethics = (
        RoleGrant.objects.filter(body=body, role=Role.ETHICS_COMMISSIONER, user__in=others)
        .order_by("pk")
        .values_list("user_id", flat=True)
        .first()
    )
    return ethics


def declaration_list_visible_to(*, user: UserLike) -> QuerySet[Declaration]:
    """Every declaration ``user`` may see (the base of every list and detail; others are a 404).

    - the declarant sees their own declarations, drafts included;
    - the current reviewer and the opener of an "other source" declaration see it once registered;
    - management, ethics commissioners and auditors see every registered declaration of their
      bodies;
    - HR sees the registered declarations of its bodies with a measure that needs an order.
    Nobody but the declarant ever sees a draft.

    The shape is for the database's indexes (issue 17). One OR across the join with the
    servants made PostgreSQL read every declaration to find a servant's few. Here each narrow
    reason is its own subquery that an index answers (the declarant through the servant's
    unique ``user``, the reviewer, the opener, HR's measures through their partial index), and
    the scope is ``pk IN (their UNION)``: a servant's, a reviewer's or HR's scope costs what
    its rows cost, whatever the size of the table. A body-wide grant is a plain condition on
    ``body`` ORed with that: it covers most of a body's declarations, and reading them in
    whatever order the list asks beats collecting all their ids first.
    """
    qs = Declaration.objects.all()
    if not user.is_authenticated:
        return qs.none()
    grants = grants_of(user)
    wide = [
        b
        for b, roles in grants.items()
        if roles & {Role.MANAGEMENT, Role.ETHICS_COMMISSIONER, Role.AUDITOR}
    ]
    hr = [b for b, roles in grants.items() if Role.HR in roles and b not in wide]
    # ``order_by()``: no Meta ordering inside a compound statement (SQLite refuses it)
    ids = Declaration.objects.order_by().values("pk")
    registered = ids.exclude(state=DeclarationState.DRAFT)
    reasons = [registered.filter(reviewer=user), registered.filter(opened_by=user)]
    if hr:
        needs_hr = Measure.objects.filter(NEEDS_HR).values("declaration_id")
        reasons.append(registered.filter(body_id__in=hr, pk__in=needs_hr))
    scope = Q(pk__in=ids.filter(declarant__user=user).union(*reasons))
    if wide:
        # first: where it holds, PostgreSQL need not collect the narrow reasons' ids at all
        scope = (Q(body_id__in=wide) & ~Q(state=DeclarationState.DRAFT)) | scope
    return qs.filter(scope)


def declaration_get_visible(*, user: UserLike, code: Any) -> Declaration:
    """The declaration ``code`` if ``user`` may see it; ``Declaration.DoesNotExist`` if not (a
    404)."""
    return declaration_list_visible_to(user=user).get(code=code)


def containing(qs: QuerySet[Any], fields: list[str], text: str) -> QuerySet[Any]:
    """Rows where every word of ``text`` is in one of ``fields``, ignoring declaration in any
    script.

    ``icontains`` would do on PostgreSQL but not on SQLite, whose declaration folding is ASCII-only;
    ``LOWER()`` is Unicode-aware on both (see ``apps.sqlite_unicode_lower``).
    """
    lowered = {f"_lower_{name}": Lower(name) for name in fields}
    qs = qs.alias(**lowered)
    for word in text.lower().split()[:8]:
        match = Q()
        for alias in lowered:
            match |= Q(**{f"{alias}__contains": word})
        qs = qs.filter(match)
    return qs


#: What the declaration lists search in, on the API and the pages alike.
DECLARATION_SEARCH_FIELDS = [
    "registration_number",
    "matter",
    "personal_interest",
    "declarant__full_name",
]


@dataclass(frozen=True)
class DeclarationFilters:
    """The filters of a declaration list, the same for ``GET /api/v1/declarations/`` and the search
    and overview pages (their input is checked by the API's filter set and the pages' form)."""

    search: str = ""
    states: tuple[str, ...] = ()
    overdue: bool | None = None
    body: str = ""  # the state body's slug
    unit: Any = None  # the public id of the unit the declarant serves in now
    submitted_from: date | None = None
    submitted_to: date | None = None


def declaration_filtered(
    qs: QuerySet[Declaration], filters: DeclarationFilters, *, now: datetime
) -> QuerySet[Declaration]:
    """Narrow a scoped list of declarations (never widen it) by ``filters``."""
    if filters.search.strip():
        qs = containing(qs, DECLARATION_SEARCH_FIELDS, filters.search)
    if filters.states:
        qs = qs.filter(state__in=filters.states)
    if filters.overdue is not None:
        late = Q(state__in=list(OPEN_STATES), due_at__lt=now)
        qs = qs.filter(late) if filters.overdue else qs.exclude(late)
    if filters.body:
        qs = qs.filter(body__slug=filters.body)
    if filters.unit is not None:
        qs = qs.filter(declarant__position__unit__code=filters.unit)
    if filters.submitted_from is not None:
        qs = qs.filter(submitted_at__gte=start_of_day(filters.submitted_from))
    if filters.submitted_to is not None:
        qs = qs.filter(submitted_at__lte=end_of_day(filters.submitted_to))
    return qs


def recusals_on_matter(*, servant: Servant, matters: list[str]) -> list[Declaration]:
    """The open declarations of ``servant`` (recused on their matter from filing to closing, 003 cl.
    6) whose matter is one of ``matters`` in any spelling (``matters.same_matter``). A servant has
    a handful of open declarations, so they are compared here rather than in SQL."""
    keys = {matter_key(m) for m in matters} - {""}
    return [
        declaration
        for declaration in Declaration.objects.filter(declarant=servant, state__in=OPEN_STATES)
        if matter_key(declaration.matter) in keys
    ]


def position_is_vacant(position: Position) -> bool:
    """No holder, and not already proposed in a transfer that is still pending."""
    if Servant.objects.filter(position=position).exists():
        return False
    return not Measure.objects.filter(
        position=position, state__in=[MeasureState.PENDING_CONSENT, MeasureState.PENDING_ORDER]
    ).exists()


def vacant_positions(*, body_id: int) -> QuerySet[Position]:
    pending = Measure.objects.filter(
        position=OuterRef("pk"),
        state__in=[MeasureState.PENDING_CONSENT, MeasureState.PENDING_ORDER],
    )
    return Position.objects.filter(body_id=body_id, holder__isnull=True).exclude(Exists(pending))


def legal_basis(*topics: str) -> list[LegalReference]:
    """The references a transition or measure kind rests on, as administrators set them.

    Repealed references are kept (with ``in_force`` False): the 2013 akimat rules (seeds/003)
    are the most detailed statement of the procedure and are shown as its source, next to the
    act in force.
    """
    rank = {topic: i for i, topic in enumerate(topics)}
    bases = LegalBasis.objects.filter(topic__in=topics).select_related("reference")
    ordered = sorted(bases, key=lambda b: (rank[b.topic], b.order))
    seen: dict[tuple[str, str, str], LegalReference] = {}
    for basis in ordered:  # one act, article and clause is one reference, whatever its key
        seen.setdefault(basis.reference.identity, basis.reference)
    return list(seen.values())


def bodies_of(user: UserLike) -> list[int]:
    """The bodies ``user`` works in or holds a role in: the scope of the pickers."""
    if not user.is_authenticated:
        return []
    bodies = set(grants_of(user))
    servant = Servant.objects.filter(user=user).values_list("body_id", flat=True).first()
    if servant is not None:
        bodies.add(servant)
    return sorted(bodies)


def servant_search(*, user: UserLike, query: str = "") -> QuerySet[Servant]:
    """Servants in service in the caller's bodies, by name or personnel number (a picker)."""
    qs = Servant.objects.filter(body_id__in=bodies_of(user), is_active=True)
    query = query.strip()
    if query:
        qs = containing(qs, ["full_name"], query) | qs.filter(personnel_number=query)
    return qs.select_related("body", "position__unit")


def position_search(
    *, user: UserLike, vacant: bool | None = None, query: str = ""
) -> QuerySet[Any]:
    """Positions of the caller's bodies; ``vacant=True`` gives what a transfer may target."""
    pending = Measure.objects.filter(
        position=OuterRef("pk"),
        state__in=[MeasureState.PENDING_CONSENT, MeasureState.PENDING_ORDER],
    )
    qs = Position.objects.filter(body_id__in=bodies_of(user)).annotate(
        vacant=ExpressionWrapper(Q(holder__isnull=True) & ~Exists(pending), BooleanField())
    )
    if vacant is not None:
        qs = qs.filter(vacant=vacant)
    if query.strip():
        qs = containing(qs, ["title"], query) | containing(qs, ["unit__name"], query)
    return qs.select_related("unit", "body")


def measure_list_visible_to(*, user: UserLike) -> QuerySet[Measure]:
    """Measures of the declarations ``user`` may see."""
    visible = declaration_list_visible_to(user=user).values("pk")
    return Measure.objects.filter(declaration__in=visible).select_related(
        "declaration", "decision", "substitute", "position__unit"
    )


def event_list_visible_to(*, user: UserLike, declaration: Declaration) -> QuerySet[AuditEvent]:
    """The trail of a declaration the caller can see. Comments are the internal notes of reviewers,
    management and ethics commissioners: the declarant does not see them."""
    qs = AuditEvent.objects.filter(declaration=declaration).select_related("actor__servant")
    if user.is_authenticated and declaration.declarant.user_id == user.pk:
        qs = qs.exclude(action=AuditAction.COMMENTED)
    return qs.order_by("seq")


def attachment_list_visible_to(*, user: UserLike) -> QuerySet[Attachment]:
    """Files of the notices ``user`` may see (drafts' files only to their declarant)."""
    visible = declaration_list_visible_to(user=user).values("pk")
    return Attachment.objects.filter(declaration__in=visible).select_related("declaration")


def record_list_visible_to(*, user: UserLike) -> QuerySet[Record]:
    """Records of the declarations ``user`` sees; dossiers only where ``user`` may have a dossier
    (auditor, ethics commissioner, management of the body); and no record that says what
    ``permissions.disclosure`` withholds from ``user`` (``permissions.can_read_record`` is the
    same rule for one record): a confidential source only for ethics commissioners and
    auditors of the body, internal comments never for the declarant.
    """
    if not user.is_authenticated:
        return Record.objects.none()
    declarations = declaration_list_visible_to(user=user).values("pk")
    dossier_bodies = bodies_with_role(user, *DOSSIER_READERS)
    source_bodies = bodies_with_role(user, *SOURCE_READERS)
    own = Q(declaration__declarant__user=user)
    return Record.objects.filter(declaration__in=declarations).filter(
        ~Q(kind=RecordKind.DOSSIER) | Q(declaration__body_id__in=dossier_bodies),
        ~Q(confidential_source=True) | (Q(declaration__body_id__in=source_bodies) & ~own),
        ~Q(internal_comments=True) | ~own,
    )


def export_list_visible_to(*, user: UserLike) -> QuerySet[ExportJob]:
    """An auditor's own exports (they hold the dossiers of whole bodies)."""
    if not user.is_authenticated:
        return ExportJob.objects.none()
    return ExportJob.objects.filter(requested_by=user)
