"""The legal basis a record cites: the references frozen into its events, each once, in the
record's language(s)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from declarations.models import AuditEvent
from declarations.records.labels import LABELS, Lang, day


def legal_rows(lang: Lang, basis: list[dict[str, Any]]) -> list[str]:
    rows = []
    for ref in basis:
        where = ", ".join(
            p
            for p in (
                f"art. {ref['article']}" if ref.get("article") else "",
                f"cl. {ref['clause']}" if ref.get("clause") else "",
            )
            if p
        )
        text = f"{ref['act']}" + (f", {where}" if where else "")
        if ref.get("edition_date"):
            text += f" ({day(ref['edition_date'])})"
        if not ref.get("in_force", True):
            text += f" — {lang(LABELS['repealed'])}"
        rows.append(text)
    return rows


def _basis_of(events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for event in events:
        for ref in event.data.get("legal_basis", []):
            seen.setdefault(ref["key"], ref)
    return list(seen.values())


def basis_for(lang: Lang, events: Iterable[AuditEvent]) -> list[str]:
    return legal_rows(lang, _basis_of(events))
