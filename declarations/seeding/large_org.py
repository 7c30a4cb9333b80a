"""A large generated organisation for the benchmarks (``seed_demo --servants N --declarations M``).

A fixture, not a product path: it bulk-inserts declarations in any state with hand-built audit
chains (through the services it would take hours), hashed exactly as ``services.audit.audit_record``
hashes them, so ``verify_audit`` checks them too. The open ones get their running clocks
(``Deadline``) as submitting and starting the review would have stored them, with the first
reminder and escalation the product schedules (``services.reminders.schedule_new``), so the
deadline sweeps have their real work (``bench/deadlines.py``). Nothing in the product calls it;
only the ``seed_demo`` command's benchmark options and the benchmarks do.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import cast

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from declarations.audit_chain import GENESIS, hash_event
from declarations.choices import (
    AuditAction,
    Category,
    Clock,
    ConflictType,
    DeclarationState,
    Duty,
    MeasureKind,
    MeasureState,
    Role,
)
from declarations.models import (
    AuditEvent,
    Deadline,
    Decision,
    Declaration,
    Measure,
    Position,
    RegistrationCounter,
    RoleGrant,
    Servant,
    StateBody,
    Unit,
)
from declarations.services.deadlines import CLOCK_TOPICS
from declarations.services.reminders import schedule_new

BENCH_SLUG = "bench"
S = DeclarationState


_STATE_MIX = [
    (S.SUBMITTED, 0.10),
    (S.IN_REVIEW, 0.15),
    (S.RESOLVED, 0.50),
    (S.NO_CONFLICT, 0.15),
    (S.WITHDRAWN, 0.10),
]


def seed_large(
    *, servants: int, declarations: int, password: str, seed: int = 2026
) -> dict[str, int]:
    """Bulk-create a body with ``servants`` servants and ``declarations`` declarations with history.

    Units of about 20 positions, one head each, under a tree of departments; declarations spread
    over the last two years in the states of ``_STATE_MIX``, each with its hash-chained events,
    and the open ones with their running clocks.
    """
    rng = random.Random(seed)
    user_model = get_user_model()
    batch = 5000
    with transaction.atomic():
        body, _c = StateBody.objects.get_or_create(
            slug=BENCH_SLUG, defaults={"name": "Benchmark Agency", "registration_prefix": "BEN"}
        )
        if Servant.objects.filter(body=body).exists():
            raise ValueError("the benchmark body already has servants; drop the database first")
        n_units = max(1, servants // 20)
        root = Unit.objects.create(body=body, name="Leadership", external_id="B0")
        departments = [
            Unit(body=body, parent=root, name=f"Department {i}", external_id=f"BD{i}")
            for i in range(max(1, n_units // 10))
        ]
        Unit.objects.bulk_create(departments, batch_size=batch)
        units = [
            Unit(
                body=body,
                parent=rng.choice(departments),
                name=f"Division {i}",
                external_id=f"BU{i}",
            )
            for i in range(n_units)
        ]
        Unit.objects.bulk_create(units, batch_size=batch)
        positions = [
            Position(
                body=body,
                unit=units[i % n_units],
                title="Head of division" if i < n_units else "Expert",
                is_head=i < n_units,
                external_id=f"BP{i}",
            )
            for i in range(servants + servants // 50)  # about 2 % vacancies
        ]
        Position.objects.bulk_create(positions, batch_size=batch)
        hashed = make_password(password)
        users = [
            user_model(username=f"bench{i:06d}", password=hashed, email=f"bench{i:06d}@bench.local")
            for i in range(servants)
        ]
        user_model.objects.bulk_create(users, batch_size=batch)
        users = list(user_model.objects.filter(username__startswith="bench").order_by("username"))
        people = [
            Servant(
                user=users[i],
                body=body,
                position=positions[i],
                full_name=f"Servant {i:06d}",
                personnel_number=f"B{i:06d}",
            )
            for i in range(servants)
        ]
        Servant.objects.bulk_create(people, batch_size=batch)
        people = list(
            Servant.objects.filter(body=body)
            .select_related("position")
            .order_by("personnel_number")
        )
        heads = {p.position.unit_id: p for p in people[:n_units]}  # type: ignore[union-attr]
        # management: the first head
        RoleGrant.objects.get_or_create(user=people[0].user, body=body, role=Role.MANAGEMENT)
        made, clocks = _bulk_declarations(body, people, heads, declarations, rng, batch)
    return {
        "servants": servants,
        "units": n_units,
        "declarations": declarations,
        "events": made,
        "deadlines": clocks,
    }


def _bulk_declarations(
    body: StateBody,
    people: list[Servant],
    heads: dict[int, Servant],
    count: int,
    rng: random.Random,
    batch: int,
) -> tuple[int, int]:
    """Returns how many audit events and running clocks were made."""
    now = timezone.now()
    states = [s for s, _w in _STATE_MIX]
    weights = [w for _s, w in _STATE_MIX]
    categories = [c.value for c in Category]
    by_user = {p.user_id: p for p in people}
    events_made = clocks_made = 0
    counters: dict[int, int] = {}
    for start in range(0, count, batch):
        declarations: list[Declaration] = []
        chains: list[list[AuditEvent]] = []
        for i in range(start, min(count, start + batch)):
            declarant = people[rng.randrange(len(people))]
            unit_id = declarant.position.unit_id  # type: ignore[union-attr]
            head = heads.get(unit_id) or people[0]
            reviewer = head if head.pk != declarant.pk else people[0]
            state = rng.choices(states, weights)[0]
            submitted_at = now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
            year = submitted_at.year
            counters[year] = counters.get(year, 0) + 1
            declaration = Declaration(
                body=body,
                declarant=declarant,
                conflict_type=rng.choice([ConflictType.ACTUAL, ConflictType.POTENTIAL]),
                category=rng.choice(categories),
                matter=f"Matter {i}: contract {rng.randrange(10**6)}",
                personal_interest=f"Interest of case {i}",
                aware_since=(submitted_at - timedelta(days=rng.randrange(5))).date(),
                state=state,
                reviewer_id=reviewer.user_id,
                registration_number=f"BEN-{year}-{counters[year]:07d}",
                submitted_at=submitted_at,
                recusal_started_at=submitted_at,
                start_review_due_at=submitted_at + timedelta(days=1),
                decision_due_at=submitted_at + timedelta(days=3),
            )
            events = [
                _event(
                    1,
                    declarant.user_id,
                    AuditAction.DECLARATION_SUBMITTED,
                    S.DRAFT,
                    S.SUBMITTED,
                    submitted_at,
                )
            ]
            if state != S.SUBMITTED and state != S.WITHDRAWN:
                declaration.review_started_at = submitted_at + timedelta(hours=rng.randrange(1, 30))
                events.append(
                    _event(
                        2,
                        reviewer.user_id,
                        AuditAction.REVIEW_STARTED,
                        S.SUBMITTED,
                        S.IN_REVIEW,
                        declaration.review_started_at,
                    )
                )
            closing = {
                S.RESOLVED: (AuditAction.DECIDED, reviewer.user_id),
                S.NO_CONFLICT: (AuditAction.NO_CONFLICT, reviewer.user_id),
                S.WITHDRAWN: (AuditAction.WITHDRAWN, declarant.user_id),
            }.get(state)
            if closing is not None:
                closed_at = submitted_at + timedelta(hours=rng.randrange(30, 70))
                declaration.closed_at = declaration.recusal_ended_at = closed_at
                if state == S.RESOLVED:
                    declaration.decided_at = closed_at
                events.append(
                    _event(
                        len(events) + 1,
                        closing[1],
                        closing[0],
                        events[-1].to_state,
                        state,
                        closed_at,
                    )
                )
            else:
                declaration.due_at = (
                    declaration.start_review_due_at
                    if state == S.SUBMITTED
                    else declaration.decision_due_at
                )
            _chain(declaration, events)
            declarations.append(declaration)
            chains.append(events)
        Declaration.objects.bulk_create(declarations, batch_size=batch)
        for declaration, events in zip(declarations, chains, strict=True):
            for event in events:
                event.declaration_id = declaration.pk
        AuditEvent.objects.bulk_create([e for ev in chains for e in ev], batch_size=batch)
        events_made += sum(len(ev) for ev in chains)
        _bulk_measures(declarations, rng, batch)
        clocks_made += _bulk_clocks(body, declarations, by_user, batch)
    for year, last in counters.items():
        RegistrationCounter.objects.update_or_create(body=body, year=year, defaults={"last": last})
    return events_made, clocks_made


def _bulk_clocks(
    body: StateBody, declarations: list[Declaration], by_user: dict[int, Servant], batch: int
) -> int:
    """The running clocks of the open declarations, as ``deadlines_record`` stores them.

    A submitted case waits for its reviewer to start the review and to decide; one in review
    only for the decision (its start-review clock ended when the review started and is not
    generated). Both clocks started at the submission. Their first reminder and escalation come
    from ``schedule_new``: the body's rules and the working-day calendar read once per batch,
    the times computed in memory — no query per clock.
    """
    wanted = {S.SUBMITTED: (Clock.START_REVIEW, Clock.DECISION), S.IN_REVIEW: (Clock.DECISION,)}
    clocks = []
    for declaration in declarations:
        reviewer = by_user[cast(int, declaration.reviewer_id)]
        position = reviewer.position
        for clock in wanted.get(DeclarationState(declaration.state), ()):
            clocks.append(
                Deadline(
                    declaration=declaration,
                    clock=clock,
                    duty=Duty.REVIEWER,
                    due_to_act_id=reviewer.user_id,
                    due_to_act_name=reviewer.full_name,
                    due_to_act_position=position.title if position else "",
                    started_at=cast(datetime, declaration.submitted_at),
                    due_at=cast(
                        datetime,
                        declaration.start_review_due_at
                        if clock == Clock.START_REVIEW
                        else declaration.decision_due_at,
                    ),
                    legal_topic=CLOCK_TOPICS[clock],
                )
            )
    schedule_new(clocks, body_id=body.pk)
    Deadline.objects.bulk_create(clocks, batch_size=batch)
    return len(clocks)


def _event(
    seq: int,
    actor_id: int,
    action: str,
    from_state: str,
    to_state: str,
    at: datetime,
) -> AuditEvent:
    return AuditEvent(
        seq=seq,
        actor_id=actor_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        data={},
        created_at=at,
    )


def _chain(declaration: Declaration, events: list[AuditEvent]) -> None:
    prev = GENESIS
    for event in events:
        event.prev_hash = prev
        event.hash = hash_event(declaration_code=str(declaration.code), event=event)
        prev = event.hash
    declaration.audit_seq = len(events)
    declaration.audit_head = prev


def _bulk_measures(declarations: list[Declaration], rng: random.Random, batch: int) -> None:
    resolved = [c for c in declarations if c.state == S.RESOLVED]
    decisions = [
        Decision(
            declaration=c,
            decided_by_id=cast(int, c.reviewer_id),
            decided_at=cast(datetime, c.decided_at),
            reason="Generated",
        )
        for c in resolved
    ]
    Decision.objects.bulk_create(decisions, batch_size=batch)
    Measure.objects.bulk_create(
        [
            Measure(
                declaration=d.declaration,
                decision=d,
                kind=MeasureKind.OTHER,
                state=MeasureState.DONE,
                description="The servant divested the interest.",
            )
            for d in decisions
        ],
        batch_size=batch,
    )
