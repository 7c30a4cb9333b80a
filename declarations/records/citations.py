"""The legal basis a record cites: the references frozen into its events, each once, in the
record's language(s).

An event freezes each reference as it read at the time (``steps.legal_basis_data``: key, act,
article, clause, edition date, in force). The line cites the act by the name the
legal-references table gives it in the record's language (looked up by the key; the frozen
``act`` when the row is gone or has no name in that language), and the article and clause in
that language's form (``models.legal.cite``). One reference is one line however many events
cite it and under whichever key: the same act, article and clause (``citation_identity``) is
listed once, with every edition the events cited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from declarations.models import AuditEvent, LegalReference
from declarations.models.legal import citation_identity, cite
from declarations.records.labels import LABELS, Lang, day


@dataclass
class Cited:
    """One reference as a record cites it: what the events froze, and its row today."""

    frozen: dict[str, Any]
    row: LegalReference | None
    editions: list[str] = field(default_factory=list)
    in_force: bool = True

    def act(self, language: str) -> str:
        """The table's name for the act in ``language``; else the act as the event froze it."""
        named: str = getattr(self.row, f"act_{language}", "") if self.row is not None else ""
        return named or str(self.frozen.get("act", ""))

    def line(self, lang: Lang) -> str:
        article = str(self.frozen.get("article") or "")
        clause = str(self.frozen.get("clause") or "")
        texts: list[str] = []
        for language in lang.languages:
            text = cite(self.act(language), article, clause, language)
            if text not in texts:
                texts.append(text)
        line = " / ".join(texts)
        if self.editions:
            line += f" ({'; '.join(self.editions)})"
        if not self.in_force:
            line += f" — {lang(LABELS['repealed'])}"
        return line


def cited_references(events: Iterable[AuditEvent]) -> list[Cited]:
    """The references the events froze, in the order first cited, each once."""
    frozen = [ref for event in events for ref in event.data.get("legal_basis", [])]
    rows = {r.key: r for r in LegalReference.objects.filter(key__in={f["key"] for f in frozen})}
    cited: dict[tuple[str, str, str], Cited] = {}
    for ref in frozen:
        row = rows.get(ref["key"])
        identity = citation_identity(
            row.act if row is not None else str(ref.get("act", "")),
            str(ref.get("article") or ""),
            str(ref.get("clause") or ""),
        )
        entry = cited.setdefault(identity, Cited(frozen=ref, row=row))
        edition = day(ref["edition_date"]) if ref.get("edition_date") else ""
        if edition and edition not in entry.editions:
            entry.editions.append(edition)
        entry.in_force = bool(ref.get("in_force", True))  # as the latest event read it
    return list(cited.values())


def basis_for(lang: Lang, events: Iterable[AuditEvent]) -> list[str]:
    return [ref.line(lang) for ref in cited_references(events)]
