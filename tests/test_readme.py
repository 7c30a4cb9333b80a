"""The README's state diagram is the state machine (STYLE.md rule 11)."""

from __future__ import annotations

import re
from pathlib import Path

from declarations.models import Declaration

README = Path(__file__).resolve().parent.parent / "README.md"


def _fsm_edges() -> set[tuple[str, str]]:
    edges = set()
    field = Declaration._meta.get_field("state")
    for t in field.get_all_transitions(Declaration):  # type: ignore[attr-defined]
        targets = getattr(t.target, "allowed_states", None) or [t.target]
        for target in targets:
            edges.add((str(t.source), str(target if target is not None else t.source)))
    return edges


def test_readme_diagram_matches_the_state_machine() -> None:
    block = README.read_text(encoding="utf-8").split("```mermaid", 1)[1].split("```", 1)[0]
    drawn = set(re.findall(r"^\s*(\w+) --> (\w+):", block, re.M))
    fsm = {(s, t) for s, t in _fsm_edges() if s != t or s == "awaiting_consent"}
    assert drawn == fsm
