"""The demo organisation of DESIGN.md §6 (``manage.py seed_demo``).

Its declarations are made through the same services users call, so their audit trails are real.
Not a product path: only the ``seed_demo`` command and the tests call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from declarations.choices import (
    Addressee,
    Category,
    ConflictType,
    DeclarationState,
    MeasureKind,
    Role,
)
from declarations.identifiers import NCA_TEST_BIN
from declarations.models import (
    Declaration,
    Position,
    RoleGrant,
    Servant,
    StateBody,
    Unit,
)
from declarations.services.decisions import MeasureSpec, declaration_decide
from declarations.services.declarations import declaration_create
from declarations.services.reminders import deadlines_remind_now
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

S = DeclarationState


@dataclass
class DemoOrg:
    body: StateBody
    users: dict[str, Any]
    vacant: Position
    created_declarations: int


#: the NCA test contour's people (``declarations/identifiers.py``): the servant signs with the
#: natural person's test key, their manager with the test organisation's employee key
DEMO_IINS = {"servant": "123456789011", "manager": "123456789012"}


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
    """Create or refresh the demo organisation; declarations are created only the first time."""
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
        if body.bin != NCA_TEST_BIN:  # the NCA test contour's organisation (issue 15)
            body.bin = NCA_TEST_BIN
            body.save(update_fields=["bin", "updated_at"])

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
                    # the demo servant is the NCA test certificate's person, so the demo can
                    # sign a notice with the shared test key (issue 15)
                    "iin": DEMO_IINS.get(username, ""),
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
            created = _demo_declarations(users, vacant)
    return DemoOrg(body=body, users=users, vacant=vacant, created_declarations=created)


def _demo_declarations(u: dict[str, Any], vacant: Position) -> int:
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
    # A case near its deadline, as the demo's visitor would want to see one: its reminder is
    # brought forward so that the scheduler (``run_worker``, started by .ci/demo) sends it to
    # the manager within its first tick (issue 16).
    deadlines_remind_now(declaration_id=submitted.pk, now=timezone.now())

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
