"""Organisation structure: role grants and the CSV import of units, positions and servants.

CSV files are UTF-8 (a BOM is accepted) with a header row:

- units:     ``external_id,name,parent_external_id``
- positions: ``external_id,unit_external_id,title,is_head``
- servants:  ``personnel_number,username,full_name,email,position_external_id,``
  ``manager_personnel_number``, and optionally ``iin`` (checked; a file without the column
  leaves the IINs as they are)

Rows are matched on their external id (personnel number for servants) and created or updated.
An import is all or nothing: any row error rolls the whole file back and every error is
reported with its line number and field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from declarations.choices import GRANTED_ROLES
from declarations.identifiers import validate_iin
from declarations.models import Position, RoleGrant, Servant, StateBody, Unit
from declarations.text import clean_text

if TYPE_CHECKING:
    from django.contrib.auth.models import User

UNITS, POSITIONS, SERVANTS = "units", "positions", "servants"
COLUMNS = {
    UNITS: ["external_id", "name", "parent_external_id"],
    POSITIONS: ["external_id", "unit_external_id", "title", "is_head"],
    SERVANTS: [
        "personnel_number",
        "username",
        "full_name",
        "email",
        "position_external_id",
        "manager_personnel_number",
    ],
}
TRUE = {"1", "true", "yes", "y", "да", "иә", "x"}
FALSE = {"", "0", "false", "no", "n", "нет", "жоқ"}


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rollback(Exception):
    pass


def role_grant(*, user: User, body: StateBody, role: str) -> RoleGrant:
    if role not in GRANTED_ROLES:
        raise ValidationError({"role": [_("This role is not granted per body.")]})
    grant, _created = RoleGrant.objects.get_or_create(user=user, body=body, role=role)
    return grant


def org_import_csv(*, body: StateBody, kind: str, text: str) -> ImportResult:
    """Import one CSV file of ``kind`` into ``body``; all or nothing."""
    if kind not in COLUMNS:
        raise ValidationError({"kind": [_("Unknown kind of file.")]})
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    result = ImportResult()
    missing = [c for c in COLUMNS[kind] if c not in (reader.fieldnames or [])]
    if missing:
        result.errors.append(RowError(1, ", ".join(missing), _("missing column")))
        return result
    rows = list(reader)
    handler: Callable[[int, dict[str, str], ImportResult], None] = {
        UNITS: lambda n, r, res: _unit_row(body, n, r, res),
        POSITIONS: lambda n, r, res: _position_row(body, n, r, res),
        SERVANTS: lambda n, r, res: _servant_row(body, n, r, res),
    }[kind]
    try:
        with transaction.atomic():
            for number, row in enumerate(rows, start=2):
                clean = _clean_row(number, row, result)
                if clean is not None:
                    handler(number, clean, result)
            if kind == UNITS and not result.errors:
                _link_unit_parents(body, rows, result)
            if result.errors:
                raise _Rollback
    except _Rollback:
        result.created = result.updated = 0
    return result


def _clean_row(
    line: int, row: dict[str | None, str | None], result: ImportResult
) -> dict[str, str] | None:
    """The row's values in NFC, or ``None`` when one holds an invisible control character:
    names reach signed records, which must read as their bytes say (issue 14)."""
    clean: dict[str, str] = {}
    for key, value in row.items():
        if key is None:
            continue
        try:
            clean[key] = clean_text((value or "").strip(), multiline=False)
        except ValidationError as error:
            result.errors.append(RowError(line, key, " ".join(error.messages)))
    return clean if len(clean) == len([k for k in row if k is not None]) else None


def _require(row: dict[str, str], line: int, names: list[str], result: ImportResult) -> bool:
    ok = True
    for name in names:
        if not row.get(name):
            result.errors.append(RowError(line, name, _("required")))
            ok = False
    return ok


def _unit_row(body: StateBody, line: int, row: dict[str, str], result: ImportResult) -> None:
    if not _require(row, line, ["external_id", "name"], result):
        return
    _unit, created = Unit.objects.update_or_create(
        body=body, external_id=row["external_id"], defaults={"name": row["name"][:255]}
    )
    result.created += created
    result.updated += not created


def _link_unit_parents(body: StateBody, rows: list[dict[str, str]], result: ImportResult) -> None:
    units = {u.external_id: u for u in Unit.objects.filter(body=body).exclude(external_id="")}
    for line, row in enumerate(rows, start=2):
        parent_id = (row.get("parent_external_id") or "").strip()
        unit = units[(row.get("external_id") or "").strip()]
        if not parent_id:
            parent = None
        elif parent_id not in units:
            result.errors.append(RowError(line, "parent_external_id", _("no such unit")))
            continue
        else:
            parent = units[parent_id]
        unit.parent = parent
        unit.save(update_fields=["parent", "updated_at"])
    # refuse cycles: every unit must reach a root
    for line, row in enumerate(rows, start=2):
        seen: set[int] = set()
        node: Unit | None = units[(row.get("external_id") or "").strip()]
        while node is not None:
            if node.pk in seen:
                result.errors.append(RowError(line, "parent_external_id", _("units form a cycle")))
                break
            seen.add(node.pk)
            node = units.get(node.parent.external_id) if node.parent is not None else None


def _position_row(body: StateBody, line: int, row: dict[str, str], result: ImportResult) -> None:
    if not _require(row, line, ["external_id", "unit_external_id", "title"], result):
        return
    unit = Unit.objects.filter(body=body, external_id=row["unit_external_id"]).first()
    if unit is None:
        result.errors.append(RowError(line, "unit_external_id", _("no such unit")))
        return
    flag = row.get("is_head", "").lower()
    if flag not in TRUE | FALSE:
        result.errors.append(RowError(line, "is_head", _("expected yes or no")))
        return
    is_head = flag in TRUE
    if (
        is_head
        and Position.objects.filter(unit=unit, is_head=True)
        .exclude(external_id=row["external_id"])
        .exists()
    ):
        result.errors.append(RowError(line, "is_head", _("the unit already has a head position")))
        return
    _pos, created = Position.objects.update_or_create(
        body=body,
        external_id=row["external_id"],
        defaults={"unit": unit, "title": row["title"][:255], "is_head": is_head},
    )
    result.created += created
    result.updated += not created


def _servant_row(body: StateBody, line: int, row: dict[str, str], result: ImportResult) -> None:
    if not _require(row, line, ["personnel_number", "username", "full_name"], result):
        return
    user_model = get_user_model()
    position = None
    if row.get("position_external_id"):
        position = Position.objects.filter(
            body=body, external_id=row["position_external_id"]
        ).first()
        if position is None:
            result.errors.append(RowError(line, "position_external_id", _("no such position")))
            return
        holder = Servant.objects.filter(position=position).exclude(
            body=body, personnel_number=row["personnel_number"]
        )
        if holder.exists():
            result.errors.append(
                RowError(line, "position_external_id", _("the position is held by someone else"))
            )
            return
    manager = None
    if row.get("manager_personnel_number"):
        manager = Servant.objects.filter(
            body=body, personnel_number=row["manager_personnel_number"]
        ).first()
        if manager is None:
            result.errors.append(
                RowError(
                    line, "manager_personnel_number", _("no such servant (list managers first)")
                )
            )
            return
    iin = row.get("iin", "")
    if iin:
        try:
            validate_iin(iin)
        except ValidationError as error:
            result.errors.append(RowError(line, "iin", " ".join(error.messages)))
            return
        others = Servant.objects.filter(iin=iin).exclude(
            body=body, personnel_number=row["personnel_number"]
        )
        if others.exists():
            result.errors.append(RowError(line, "iin", _("this IIN is another servant's")))
            return
    user, _user_created = user_model.objects.get_or_create(
        username=row["username"][:150], defaults={"email": row.get("email", "")}
    )
    if row.get("email") and user.email != row["email"]:
        user.email = row["email"]
        user.save(update_fields=["email"])
    existing = Servant.objects.filter(user=user).exclude(body=body).first()
    if existing is not None:
        result.errors.append(RowError(line, "username", _("this account serves in another body")))
        return
    defaults = {
        "user": user,
        "full_name": row["full_name"][:255],
        "position": position,
        "manager_override": manager,
    }
    if "iin" in row:
        defaults["iin"] = iin
    _servant, created = Servant.objects.update_or_create(
        body=body, personnel_number=row["personnel_number"], defaults=defaults
    )
    result.created += created
    result.updated += not created
