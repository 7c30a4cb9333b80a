"""The shape of the code (docs/ARCHITECTURE.md): imports go one way, and no module outgrows a
reader (issue 13).

Layers, lowest first; a module may import its own layer or a lower one, never a higher one:

0. ``choices``, ``rulebook``, ``models``: what is stored and the names of the rules, and
   ``text`` (pure checks of free text, which the models' validators use);
1. infrastructure every layer above may use: ``calendar``, ``side_effects``, ``audit_chain``,
   ``dates``, ``matters``, ``client``, ``http``, ``access_log`` (the access log's hashing and
   reads), ``stores`` (the record store);
2. reads: ``selectors``, then ``permissions`` (which asks the selectors, never the reverse);
3. ``records``: the records pipeline, which services schedule and never the reverse; and
   ``delivery``: the e-mails of notifications, which the services send;
4. ``services``: every write;
5. the doors: ``api``, ``web``, ``management`` commands, ``admin``, ``seeding``, ``apps``,
   ``scheduler`` (the periodic jobs) —
   and ``api`` and ``web`` never import each other.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "declarations"

LAYERS: list[tuple[str, ...]] = [
    ("choices", "rulebook", "models", "text", "identifiers"),
    (
        "calendar",
        "side_effects",
        "audit_chain",
        "dates",
        "matters",
        "client",
        "http",
        "access_log",
        "signatures",
        "stores",
    ),
    ("selectors",),
    ("permissions",),
    ("records", "delivery"),
    ("services",),
    ("api", "web", "management", "admin", "seeding", "apps", "checks", "scheduler"),
]
DOORS_APART = {"api": "web", "web": "api"}
MAX_LINES = 400


def _package(module: str) -> str:
    """``declarations.records.issuing`` -> ``records``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer(module: str) -> int:
    package = _package(module)
    for level, names in enumerate(LAYERS):
        if package in names:
            return level
    raise AssertionError(f"{module} is in no layer: add its package to LAYERS and the docs")


def _module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def app_modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for path in sorted(APP.rglob("*.py"))
        if "migrations" not in path.parts
    }


def imports_of(path: Path, module: str) -> set[str]:
    """The ``declarations`` modules ``path`` imports, at the top or inside a function."""
    found: set[str] = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                parent = package.split(".")
                parent = parent[: len(parent) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            if base == "declarations":  # from declarations import selectors, permissions
                found |= {f"declarations.{alias.name}" for alias in node.names}
            else:
                found.add(base)
    return {name for name in found if name.startswith("declarations.")}


def back_edges(edges: dict[str, set[str]]) -> list[str]:
    """Every import that goes up a layer, or between the API and the pages."""
    wrong = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            if layer(target) > layer(source):
                wrong.append(f"{source} (layer {layer(source)}) imports {target} ({layer(target)})")
            elif DOORS_APART.get(_package(source)) == _package(target):
                wrong.append(f"{source} imports {target}: the API and the pages stay apart")
    return wrong


def test_imports_go_one_way() -> None:
    edges = {name: imports_of(path, name) for name, path in app_modules().items()}
    assert sum(len(t) for t in edges.values()) > 100  # the walk found the imports
    assert back_edges(edges) == []


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("declarations.models.declaration", "declarations.services.transitions"),
        ("declarations.records.issuing", "declarations.services.audit"),
        ("declarations.selectors", "declarations.permissions"),
        ("declarations.services.decisions", "declarations.api.common"),
        ("declarations.api.declarations", "declarations.web.common"),
        ("declarations.calendar", "declarations.selectors"),
    ],
)
def test_a_back_edge_is_caught(source: str, target: str) -> None:
    assert back_edges({source: {target}}) != []


def test_the_walk_reads_every_kind_of_import(tmp_path: Path) -> None:
    source = tmp_path / "mod.py"
    source.write_text(
        "from declarations import selectors, permissions\n"
        "import declarations.services.audit\n"
        "def f():\n"
        "    from declarations.records.issuing import record_issue\n"
        "from .labels import Lang\n",
        encoding="utf-8",
    )
    assert imports_of(source, "declarations.records.content") == {
        "declarations.selectors",
        "declarations.permissions",
        "declarations.services.audit",
        "declarations.records.issuing",
        "declarations.records.labels",
    }


def test_no_module_outgrows_a_reader() -> None:
    """STYLE.md rule 5: past about 400 lines a module becomes a package."""
    long = {
        name: lines
        for name, path in app_modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def other_names_for_the_entity(source: str) -> list[str]:
    """Identifiers that call the entity a "case" (``case``, ``lock_case``, ``CaseFilters``).

    The code has one name for it, the model's: ``Declaration`` (issue 13). The pages' copy says
    "case" (дело, іс), the word a commission uses, and is translated text, not a name; strings
    and comments are not read here.
    """
    found = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.NAME or token.string.startswith("test_"):
            continue
        words = re.split(r"_+|(?<=[a-z0-9])(?=[A-Z])", token.string)
        if {word.lower() for word in words} & {"case", "cases"}:
            found.append(f"{token.start[0]}: {token.string}")
    return found


def test_the_code_has_one_name_for_the_entity() -> None:
    found = {
        name: names
        for name, path in app_modules().items()
        if (names := other_names_for_the_entity(path.read_text(encoding="utf-8")))
    }
    assert found == {}


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("case = lock_case(declaration)\n", ["1: case", "1: lock_case"]),
        ("class CaseFilters: ...\n", ["1: CaseFilters"]),
        ("cases = ''.casefold()  # a case\n", ["1: cases"]),
        ("declaration = 'the case'\n", []),
    ],
)
def test_another_name_is_caught(source: str, found: list[str]) -> None:
    assert other_names_for_the_entity(source) == found
