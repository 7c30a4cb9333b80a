"""A servant's IIN and a body's BIN (issue 15): twelve digits with a check digit, in the model
(so the admin), the CSV import and the API; the NCA test contour's numbers only where the test
contour is."""

from __future__ import annotations

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ValidationError
from django.test import override_settings

from declarations.identifiers import NCA_TEST_BIN, check_digit, is_valid, masked, validate_iin
from declarations.models import Servant
from declarations.services.organization import org_import_csv
from tests.api import BASE, client_for, ok
from tests.builders import Org

VALID = "800101123499"  # check digit 9


def with_check_digit(first_eleven: str) -> str:
    digit = check_digit(first_eleven)
    assert digit is not None
    return first_eleven + str(digit)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        (VALID, True),
        (with_check_digit("90051530012"), True),
        ("800101123498", False),  # one digit off
        ("80010112349", False),  # eleven digits
        ("80010112349a", False),
        ("８００１０１１２３４９５", False),  # full-width digits are not ASCII
        ("123456789011", False),  # the NCA test IIN fails the check digit
    ],
)
def test_the_check_digit(value: str, valid: bool) -> None:
    assert is_valid(value) is valid


@override_settings(COI_EDS_ACCEPT_TEST_IDENTIFIERS=False)
def test_the_test_contours_numbers_are_refused_outside_it() -> None:
    with pytest.raises(ValidationError):
        validate_iin("123456789011")
    with override_settings(COI_EDS_ACCEPT_TEST_IDENTIFIERS=True):
        validate_iin("123456789011")  # the demo servant can sign with the test key


def test_a_record_shows_the_iin_masked() -> None:
    assert masked(VALID) == "••••••1234••"


@pytest.mark.django_db
@override_settings(COI_EDS_ACCEPT_TEST_IDENTIFIERS=False)
def test_the_admin_refuses_a_wrong_iin_or_bin(org: Org) -> None:
    servant = org.servants["servant"]
    servant.iin = "800101123498"
    with pytest.raises(ValidationError) as refused:
        servant.full_clean()
    assert "iin" in refused.value.message_dict
    org.body.bin = NCA_TEST_BIN
    with pytest.raises(ValidationError) as refused:
        org.body.full_clean()
    assert "bin" in refused.value.message_dict


@pytest.mark.django_db
def test_the_import_checks_the_iin_and_keeps_it_when_the_column_is_absent(org: Org) -> None:
    body = org.body
    head = "personnel_number,username,full_name,email,position_external_id,manager_personnel_number"
    good = org_import_csv(body=body, kind="servants", text=f"{head},iin\nN1,n1,Нұрлан,,,,{VALID}\n")
    assert good.ok and Servant.objects.get(personnel_number="N1").iin == VALID
    again = org_import_csv(body=body, kind="servants", text=f"{head}\nN1,n1,Нұрлан,,,\n")
    assert again.ok and Servant.objects.get(personnel_number="N1").iin == VALID
    bad = org_import_csv(
        body=body,
        kind="servants",
        text=f"{head},iin\nN2,n2,Айгүл,,,,800101123498\nN3,n3,Ерлан,,,,{VALID}\n",
    )
    assert [(e.line, e.field) for e in bad.errors] == [(2, "iin"), (3, "iin")]
    assert "another servant" in str(bad.errors[1])
    assert not Servant.objects.filter(personnel_number__in=["N2", "N3"]).exists()


@pytest.mark.django_db
def test_me_shows_the_callers_iin_and_the_bodys_bin(org: Org) -> None:
    servant = org.servants["servant"]
    Servant.objects.filter(pk=servant.pk).update(iin=VALID)
    org.body.bin = with_check_digit("12345678902")
    org.body.save()
    me = ok(client_for(org.servant).get(f"{BASE}/me/"))
    assert me["servant"]["iin"] == VALID
    assert me["servant"]["body"]["bin"] == org.body.bin


@override_settings(DEBUG=False, COI_EDS_ACCEPT_TEST_IDENTIFIERS=True)
def test_the_deploy_check_refuses_the_test_contour_in_production() -> None:
    errors = [m for m in run_checks(include_deployment_checks=True) if m.id == "coi.E021"]
    assert len(errors) == 1
