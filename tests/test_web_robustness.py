"""Every page robust to declarations in every state (issue 12): each role's lists and each
declaration's page, with declarations in every state, a notice to management nobody has picked up
yet, a declaration from a confidential source and a failed export — never a server error."""

from __future__ import annotations

import pytest
from django.urls import reverse

from declarations.choices import Addressee
from declarations.choices import DeclarationState as S
from declarations.models import Declaration
from declarations.services.transitions import declaration_submit
from tests.builders import Org, declaration_in, new_draft, opened_declaration
from tests.web import client_as, text

pytestmark = pytest.mark.django_db

LISTS = ["mine", "reviews", "overview", "search", "hr", "exports", "declare", "open"]
ROLES = ["servant", "manager", "head", "ethics", "hr", "auditor", "outsider", "admin"]


def _unpicked_notice_to_management(org: Org) -> Declaration:
    declaration = new_draft(org, "servant2", addressee=Addressee.MANAGEMENT, matter="Lease")
    declaration_submit(declaration=declaration, actor=org.servant2)
    return declaration


def test_the_overview_shows_a_notice_to_management_not_yet_picked_up(org: Org) -> None:
    declaration = _unpicked_notice_to_management(org)
    for who in ("head", "ethics"):
        page = client_as(org.users[who]).get(reverse("declarations:overview"))
        assert page.status_code == 200, who
        assert declaration.registration_number in text(page)
    kk = client_as(org.head, "kk").get(reverse("declarations:overview"))
    assert kk.status_code == 200 and "басшылық" in text(kk)


@pytest.mark.parametrize("language", ["kk", "en"])
def test_every_page_of_every_role_renders_with_cases_in_every_state(
    org: Org, language: str
) -> None:
    declarations = [declaration_in(org, state) for state in S.values]
    declarations.append(_unpicked_notice_to_management(org))
    declarations.append(
        opened_declaration(org, source_description="Hotline", source_confidential=True)
    )
    failures = []
    for who in ROLES:
        client = client_as(org.users[who], language)
        for name in LISTS:
            status = client.get(reverse(f"declarations:{name}")).status_code
            if status >= 500 or status not in (200, 403):
                failures.append((who, name, status))
        for declaration in declarations:
            for name in ("declaration", "decide", "reassign", "edit", "preview"):
                status = client.get(
                    reverse(f"declarations:{name}", args=[declaration.code])
                ).status_code
                if status >= 500:
                    failures.append((who, name, declaration.state, status))
    assert failures == []
