"""The direct manager from the structure, role grants, and the CSV import."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from declarations.models import Position, Servant, Unit
from declarations.selectors import direct_manager_of
from declarations.services.organization import org_import_csv
from tests.builders import Org
from tests.factories import PositionFactory, ServantFactory, StateBodyFactory, UnitFactory


def test_direct_manager_is_the_head_of_the_unit(org: Org) -> None:
    assert direct_manager_of(org.servants["servant"]) == org.servants["manager"]


def test_a_unit_head_answers_to_the_head_of_the_parent_unit(org: Org) -> None:
    assert direct_manager_of(org.servants["manager"]) == org.servants["head"]


def test_the_head_of_the_body_has_no_direct_manager(org: Org) -> None:
    assert direct_manager_of(org.servants["head"]) is None


def test_explicit_override_wins(org: Org) -> None:
    servant = org.servants["servant"]
    servant.manager_override = org.servants["other_manager"]
    servant.save()
    assert direct_manager_of(servant) == org.servants["other_manager"]


def test_vacant_head_goes_up_the_tree(org: Org) -> None:
    manager = org.servants["manager"]
    manager.position = None
    manager.save()
    assert direct_manager_of(org.servants["servant"]) == org.servants["head"]


def test_a_cycle_in_units_does_not_hang(db: None) -> None:
    a = UnitFactory()
    b = UnitFactory(body=a.body, parent=a)
    Unit.objects.filter(pk=a.pk).update(parent=b)
    servant = ServantFactory(position=PositionFactory(unit=b))
    assert direct_manager_of(servant) is None


UNITS = "external_id,name,parent_external_id\nU1,Leadership,\nU2,Procurement,U1\n"
POSITIONS = (
    "external_id,unit_external_id,title,is_head\n"
    "P1,U1,Chairman,yes\nP2,U2,Director,yes\nP3,U2,Expert,no\nP4,U2,Expert,no\n"
)
SERVANTS = (
    "personnel_number,username,full_name,email,position_external_id,manager_personnel_number\n"
    "001,chair,Chair Person,c@x.kz,P1,\n"
    "002,dir,Director Person,d@x.kz,P2,\n"
    "003,exp,Expert Person,e@x.kz,P3,001\n"
)


def test_csv_import_builds_the_structure(db: None) -> None:
    body = StateBodyFactory()
    for kind, text in (("units", UNITS), ("positions", POSITIONS), ("servants", SERVANTS)):
        result = org_import_csv(body=body, kind=kind, text=text)
        assert result.ok, result.errors
    expert = Servant.objects.get(personnel_number="003")
    assert expert.position is not None and expert.position.unit.parent is not None
    assert direct_manager_of(expert) == Servant.objects.get(personnel_number="001")  # override
    expert.manager_override = None
    assert direct_manager_of(expert) == Servant.objects.get(personnel_number="002")
    assert Position.objects.filter(body=body, holder__isnull=True).count() == 1
    again = org_import_csv(body=body, kind="units", text="\ufeff" + UNITS)
    assert again.ok and again.created == 0 and again.updated == 2


def test_csv_import_reports_every_bad_row_and_writes_nothing(db: None) -> None:
    body = StateBodyFactory()
    assert org_import_csv(body=body, kind="units", text=UNITS).ok
    text = (
        "external_id,unit_external_id,title,is_head\n"
        "P1,U1,Chairman,yes\n"
        "P2,U9,Director,yes\n"
        ",U2,Expert,no\n"
        "P4,U2,Expert,maybe\n"
    )
    result = org_import_csv(body=body, kind="positions", text=text)
    assert not result.ok
    assert [(e.line, e.field) for e in result.errors] == [
        (3, "unit_external_id"),
        (4, "external_id"),
        (5, "is_head"),
    ]
    assert "line 3, unit_external_id: no such unit" in [str(e) for e in result.errors]
    assert not Position.objects.filter(body=body).exists()


def test_csv_import_refuses_missing_columns_and_unit_cycles(db: None) -> None:
    body = StateBodyFactory()
    result = org_import_csv(body=body, kind="servants", text="username\nx\n")
    assert result.errors[0].message == "missing column"
    cyclic = "external_id,name,parent_external_id\nA,One,B\nB,Two,A\n"
    result = org_import_csv(body=body, kind="units", text=cyclic)
    assert {e.message for e in result.errors} == {"units form a cycle"}
    assert not Unit.objects.filter(body=body).exists()


def test_import_org_command(db: None, tmp_path: Path) -> None:
    body = StateBodyFactory(slug="agency")
    files = {}
    for kind, text in (("units", UNITS), ("positions", POSITIONS), ("servants", SERVANTS)):
        files[kind] = tmp_path / f"{kind}.csv"
        files[kind].write_text(text, encoding="utf-8")
    call_command("import_org", "agency", *[f"--{k}={v}" for k, v in files.items()])
    assert Servant.objects.filter(body=body).count() == 3
    bad = tmp_path / "bad.csv"
    bad.write_text("external_id,name,parent_external_id\nX,,\n", encoding="utf-8")
    with pytest.raises(CommandError, match="1 errors"):
        call_command("import_org", "agency", f"--units={bad}")


def test_admin_csv_import_view(admin_client, db: None) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = StateBodyFactory()
    url = f"/admin/declarations/statebody/{body.pk}/import-csv/"
    assert admin_client.get(url).status_code == 200
    bad = SimpleUploadedFile("u.csv", b"external_id,name,parent_external_id\nX,,\n")
    response = admin_client.post(url, {"kind": "units", "file": bad})
    assert response.status_code == 200
    assert "Line 2, name: required" in response.content.decode()
    good = SimpleUploadedFile("u.csv", UNITS.encode())
    response = admin_client.post(url, {"kind": "units", "file": good})
    assert response.status_code == 302
    assert Unit.objects.filter(body=body).count() == 2


def test_admin_list_action_opens_the_import(admin_client, db: None) -> None:  # type: ignore[no-untyped-def]
    one, two = StateBodyFactory(), StateBodyFactory()
    url = "/admin/declarations/statebody/"
    response = admin_client.post(url, {"action": "import_csv_action", "_selected_action": [one.pk]})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/statebody/{one.pk}/import-csv/")
    response = admin_client.post(
        url, {"action": "import_csv_action", "_selected_action": [one.pk, two.pk]}, follow=True
    )
    assert "Select exactly one state body." in response.content.decode()


def test_admin_import_for_an_unknown_body_is_404(admin_client, db: None) -> None:  # type: ignore[no-untyped-def]
    assert admin_client.get("/admin/declarations/statebody/999999/import-csv/").status_code == 404


def test_names_with_hidden_characters_are_refused_in_the_import_and_the_admin(db: None) -> None:
    """Names reach signed records (issue 14): a bidi override or a zero-width character in a
    CSV row is refused at its line and column, nothing is written, and the admin's model
    validation refuses it too; a decomposed letter is stored composed (NFC)."""
    from django.core.exceptions import ValidationError

    body = StateBodyFactory()
    text = "external_id,name,parent_external_id\nU1,Lead\u202eership,\nU2,Proc\u200burement,U1\n"
    result = org_import_csv(body=body, kind="units", text=text)
    assert [(e.line, e.field) for e in result.errors] == [(2, "name"), (3, "name")]
    assert "U+202E" in str(result.errors[0]) and "U+200B" in str(result.errors[1])
    assert not Unit.objects.filter(body=body).exists()
    composed = org_import_csv(
        body=body, kind="units", text="external_id,name,parent_external_id\nU1,Се\u0308рик,\n"
    )
    assert composed.ok and Unit.objects.get(body=body).name == "Сёрик"
    unit = Unit.objects.get(body=body)
    unit.name = "Lead\u202eership"
    with pytest.raises(ValidationError) as refused:
        unit.full_clean()
    assert "name" in refused.value.message_dict
