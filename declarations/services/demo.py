"""The demo organisation of DESIGN.md §6, and a large generated one for benchmarks.

The demo's cases are made through the same services users call, so their audit trails are real.
The large org is bulk-inserted (it would take hours through the services) but its audit chains
are hashed exactly as ``audit_record`` hashes them, so ``verify_audit`` checks them too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from declarations.audit_chain import GENESIS, hash_event
from declarations.choices import (
    Addressee,
    AuditAction,
    Category,
    ConflictType,
    DeclarationState,
    MeasureKind,
    MeasureState,
    Role,
)
from declarations.models import (
    AuditEvent,
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
from declarations.services.decisions import MeasureSpec, declaration_decide
from declarations.services.declarations import declaration_create
from declarations.services.transitions import (
    declaration_find_no_conflict,
    declaration_open_from_source,
    declaration_start_review,
    declaration_submit,
)

DEMO_SLUG = "demo"
#: Named as a Kazakh state body names itself: in the state language and in Russian.
BODY_NAME = (
    "Мемлекеттік қызмет істері агенттігі (демо) / Агентство по делам государственной службы (демо)"
)
BENCH_SLUG = "bench"
S = DeclarationState


@dataclass
class DemoOrg:
    body: StateBody
    users: dict[str, Any]
    vacant: Position
    created_cases: int


def _user(username: str, password: str, *, full_name: str = "", superuser: bool = False) -> Any:
    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(
        username=username, defaults={"email": f"{username}@demo.coi.local"}
    )
    user.set_password(password)
    first, _sep, last = full_name.partition(" ")
    user.first_name, user.last_name = first, last
    user.is_staff = user.is_superuser = superuser
    user.save()
    return user


def seed_demo(*, password: str) -> DemoOrg:
    """Create or refresh the demo organisation; cases are created only the first time."""
    with transaction.atomic():
        body, _c = StateBody.objects.get_or_create(
            slug=DEMO_SLUG,
            defaults={
                "name": BODY_NAME,
                "registration_prefix": "DEMO",
            },
        )
        if body.name != BODY_NAME:  # an earlier demo named it in English
            body.name = BODY_NAME
            body.save(update_fields=["name", "updated_at"])

        def unit(ext: str, name: str, parent: Unit | None) -> Unit:
            u, _ = Unit.objects.update_or_create(
                body=body, external_id=ext, defaults={"name": name, "parent": parent}
            )
            return u

        leadership = unit("U1", "Басшылық / Руководство", None)
        procurement = unit(
            "U2",
            "Мемлекеттік сатып алу департаменті / Департамент государственных закупок",
            leadership,
        )
        contracts = unit("U3", "Шарттар бөлімі / Отдел договоров", procurement)
        personnel = unit(
            "U4", "Персоналды басқару қызметі / Служба управления персоналом", leadership
        )

        def position(ext: str, title: str, u: Unit, head: bool = False) -> Position:
            p, _ = Position.objects.update_or_create(
                body=body, external_id=ext, defaults={"title": title, "unit": u, "is_head": head}
            )
            return p

        people = {
            "head": (
                "Сейтқали Әйгерім Нұрланқызы",
                position("P1", "Төраға / Председатель", leadership, True),
            ),
            "ethics": (
                "Әбенов Дәурен Серікұлы",
                position("P2", "Әдеп жөніндегі уәкіл / Уполномоченный по этике", leadership),
            ),
            "manager": (
                "Жақсылықов Марат Болатұлы",
                position(
                    "P3",
                    "Департамент директоры / Директор департамента",
                    procurement,
                    True,
                ),
            ),
            "servant": (
                "Ермекова Әсел Қайратқызы",
                position("P4", "Бас сарапшы / Главный эксперт", procurement),
            ),
            "servant2": (
                "Тоқаев Нұрлан Асқарұлы",
                position("P5", "Жетекші сарапшы / Ведущий эксперт", procurement),
            ),
            "hr": (
                "Оспанова Гүлнара Маратқызы",
                position("P6", "Қызмет басшысы / Руководитель службы", personnel, True),
            ),
        }
        # three vacancies: the demo's own transfer takes the first, two are left for a newcomer
        vacant = position(
            "P7", "Шарттар бөлімінің бас сарапшысы / Главный эксперт отдела договоров", contracts
        )
        position(
            "P8",
            "Шарттар бөлімінің жетекші сарапшысы / Ведущий эксперт отдела договоров",
            contracts,
        )
        position("P9", "Департамент сарапшысы / Эксперт департамента", procurement)
        users: dict[str, Any] = {}
        for number, (username, (full_name, post)) in enumerate(people.items(), start=1):
            user = _user(username, password, full_name=full_name)
            users[username] = user
            Servant.objects.update_or_create(
                user=user,
                defaults={
                    "body": body,
                    "position": post,
                    "full_name": full_name,
                    "personnel_number": f"D{number:04d}",
                },
            )
        users["auditor"] = _user("auditor", password, full_name="Жақыпов Ерлан Бекұлы")
        users["admin"] = _user("admin", password, full_name="Жүйе әкімшісі", superuser=True)
        for username, role in (
            ("head", Role.MANAGEMENT),
            ("ethics", Role.ETHICS_COMMISSIONER),
            ("hr", Role.HR),
            ("auditor", Role.AUDITOR),
        ):
            RoleGrant.objects.get_or_create(user=users[username], body=body, role=role)
        created = 0
        if not Declaration.objects.filter(body=body).exists():
            created = _demo_cases(users, vacant)
    return DemoOrg(body=body, users=users, vacant=vacant, created_cases=created)


def _demo_cases(u: dict[str, Any], vacant: Position) -> int:
    today = timezone.localdate()
    servant2 = Servant.objects.get(user=u["servant2"])

    def draft(who: str, matter: str, interest: str, category: str, **kw: Any) -> Declaration:
        return declaration_create(
            actor=u[who],
            conflict_type=kw.pop("conflict_type", ConflictType.ACTUAL),
            category=category,
            matter=matter,
            personal_interest=interest,
            aware_since=today - timedelta(days=kw.pop("days_ago", 1)),
            **kw,
        )

    draft(
        "servant",
        "Тендер № 2026-114 (кеңсе жиһазы) / Тендер № 2026-114 (офисная мебель)",
        "Участник тендера — ТОО, принадлежащее моему двоюродному брату.",
        Category.KINSHIP,
    )

    submitted = draft(
        "servant",
        "Проверка ТОО «Қазақ жолдары»",
        "До 2025 года я владела долей в этом товариществе.",
        Category.PROPERTY,
        related_persons="ТОО «Қазақ жолдары»",
    )
    declaration_submit(declaration=submitted, actor=u["servant"])

    in_review = draft(
        "servant2",
        "Жалоба № 77 ТОО «Жәнібек»",
        "До прошлого года я работал в ТОО «Жәнібек».",
        Category.PRIOR_EMPLOYMENT,
        conflict_type=ConflictType.POTENTIAL,
    )
    declaration_submit(declaration=in_review, actor=u["servant2"])
    declaration_start_review(declaration=in_review, actor=u["manager"])

    resolved = draft(
        "servant",
        "Разрешение для ТОО «Нұр Құрылыс»",
        "Директор товарищества — муж моей сестры.",
        Category.KINSHIP,
        related_persons="Ахметов Серік (зять)",
        days_ago=3,
    )
    declaration_submit(declaration=resolved, actor=u["servant"])
    declaration_start_review(declaration=resolved, actor=u["manager"])
    declaration_decide(
        declaration=resolved,
        actor=u["manager"],
        reason="Материалы по разрешению переданы коллеге, не связанному с заявителем.",
        measures=[MeasureSpec(kind=MeasureKind.REASSIGN, substitute=servant2)],
    )

    consent = draft(
        "servant2",
        "Договоры с АО «Алматы Снабжение»",
        "Моя жена — главный бухгалтер общества.",
        Category.KINSHIP,
        related_persons="Тоқаева Дана (жена)",
    )
    declaration_submit(declaration=consent, actor=u["servant2"])
    declaration_start_review(declaration=consent, actor=u["manager"])
    declaration_decide(
        declaration=consent,
        actor=u["manager"],
        reason="Конфликт носит длящийся характер: предлагается перевод в отдел договоров.",
        measures=[
            MeasureSpec(
                kind=MeasureKind.TRANSFER, position=vacant, proposed_date=today + timedelta(days=14)
            )
        ],
    )

    no_conflict = draft(
        "servant",
        "Договор на обучение с центром «Қазақ тілі»",
        "Там преподаёт моя бывшая одноклассница.",
        Category.PERSONAL_TIES,
        conflict_type=ConflictType.POTENTIAL,
        addressee=Addressee.MANAGEMENT,
    )
    declaration_submit(declaration=no_conflict, actor=u["servant"])
    declaration_start_review(declaration=no_conflict, actor=u["head"])
    declaration_find_no_conflict(
        declaration=no_conflict,
        actor=u["head"],
        reason="Одно лишь школьное знакомство не создаёт личной заинтересованности в договоре.",
    )

    declaration_open_from_source(
        actor=u["ethics"],
        declarant=servant2,
        category=Category.PROPERTY,
        matter="Аренда помещений у ТОО «Арман Трейд»",
        personal_interest="По сообщению, служащий — совладелец арендодателя.",
        aware_since=today - timedelta(days=2),
        source_description="Анонимное сообщение на телефон доверия уполномоченного по этике.",
        source_confidential=True,
    )
    return 7


# ---- the large generated organisation -----------------------------------------------------

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
    """Bulk-create a body with ``servants`` servants and ``declarations`` cases with history.

    Units of about 20 positions, one head each, under a tree of departments; cases spread over
    the last two years in the states of ``_STATE_MIX``, each with its hash-chained events.
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
        made = _bulk_cases(body, people, heads, declarations, rng, batch)
    return {"servants": servants, "units": n_units, "declarations": declarations, "events": made}


def _bulk_cases(
    body: StateBody,
    people: list[Servant],
    heads: dict[int, Servant],
    count: int,
    rng: random.Random,
    batch: int,
) -> int:
    now = timezone.now()
    states = [s for s, _w in _STATE_MIX]
    weights = [w for _s, w in _STATE_MIX]
    categories = [c.value for c in Category]
    events_made = 0
    counters: dict[int, int] = {}
    for start in range(0, count, batch):
        cases: list[Declaration] = []
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
            case = Declaration(
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
                case.review_started_at = submitted_at + timedelta(hours=rng.randrange(1, 30))
                events.append(
                    _event(
                        2,
                        reviewer.user_id,
                        AuditAction.REVIEW_STARTED,
                        S.SUBMITTED,
                        S.IN_REVIEW,
                        case.review_started_at,
                    )
                )
            closing = {
                S.RESOLVED: (AuditAction.DECIDED, reviewer.user_id),
                S.NO_CONFLICT: (AuditAction.NO_CONFLICT, reviewer.user_id),
                S.WITHDRAWN: (AuditAction.WITHDRAWN, declarant.user_id),
            }.get(state)
            if closing is not None:
                closed_at = submitted_at + timedelta(hours=rng.randrange(30, 70))
                case.closed_at = case.recusal_ended_at = closed_at
                if state == S.RESOLVED:
                    case.decided_at = closed_at
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
                case.due_at = case.escalation_at = (
                    case.start_review_due_at if state == S.SUBMITTED else case.decision_due_at
                )
            _chain(case, events)
            cases.append(case)
            chains.append(events)
        Declaration.objects.bulk_create(cases, batch_size=batch)
        for case, events in zip(cases, chains, strict=True):
            for event in events:
                event.declaration_id = case.pk
        AuditEvent.objects.bulk_create([e for ev in chains for e in ev], batch_size=batch)
        events_made += sum(len(ev) for ev in chains)
        _bulk_measures(cases, rng, batch)
    for year, last in counters.items():
        RegistrationCounter.objects.update_or_create(body=body, year=year, defaults={"last": last})
    return events_made


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


def _chain(case: Declaration, events: list[AuditEvent]) -> None:
    prev = GENESIS
    for event in events:
        event.prev_hash = prev
        event.hash = hash_event(case_code=str(case.code), event=event)
        prev = event.hash
    case.audit_seq = len(events)
    case.audit_head = prev


def _bulk_measures(cases: list[Declaration], rng: random.Random, batch: int) -> None:
    resolved = [c for c in cases if c.state == S.RESOLVED]
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
