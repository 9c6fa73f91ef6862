"""The package's imports run one way: a module imports only from its own unit or from
units in lower layers (docs/architecture.md, "Layers"; docs/decisions.md #46).

An ``ast`` walk over every module of bias_gate/: every ``import`` and ``from ... import``
counts, at module level or inside a function, except those under ``if TYPE_CHECKING:``
(annotations only: nothing is imported when the code runs). A registry lookup
(``BENCHMARKS.get(...)``) counts as an import of the module its protocol lives in, since
that is what it loads when the code runs.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "bias_gate"

#: The layers, lowest first. A unit is a sub-package or a top-level module; the few
#: modules placed apart from their sub-package are named in full (see PLACED).
LAYERS: list[tuple[str, ...]] = [
    ("bias_gate", "errors", "fingerprint", "cache", "numbers", "registry", "utf8"),
    ("stats",),
    ("config",),
    ("identity",),
    ("data",),
    ("answer",),
    ("models",),
    ("llama",),
    ("models.runtimes",),
    ("compress",),
    ("results_schema", "schema_errors"),
    ("metrics",),
    ("results",),
    ("judge",),
    ("report",),
    ("config.validated",),
    ("gate",),
    ("commands",),
    ("cli", "__main__", "hookspec", "plugin", "api"),
]

#: Modules that sit in a layer of their own, above their sub-package, and why.
PLACED = {
    "models.runtimes": "chooses between the torch model and llama.cpp, so it sits above llama",
    "config.validated": (
        "the gate's validated config carries the typed parts (compression options, "
        "thresholds, runtimes) the lower layers define"
    ),
}

#: Imports against the layers that stay, each with its reason (module -> unit imported).
EXCEPTIONS = {
    ("config.parse", "data"): (
        "validating data.benchmark loads the benchmark (BENCHMARKS.get) to check "
        "data.categories and take its prompt; moving the check out of the schema is "
        "config/'s redesign, not this test's"
    ),
}

#: Registry name -> the unit its protocol lives in (what a lookup loads).
REGISTRY_UNITS = {
    "BENCHMARKS": "data",
    "METRICS": "metrics",
    "SCORING_MODES": "answer",
    "REPORTS": "report",
    "COMPRESSORS": "compress",
}


@dataclass(frozen=True)
class Edge:
    module: str  # importing module, without the bias_gate. prefix
    unit: str  # the unit it imports from
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "bias_gate"


def unit_of(module: str) -> str:
    """The unit a module (``judge.verdict``) belongs to (``judge``)."""
    for placed in PLACED:
        if module == placed or module.startswith(placed + "."):
            return placed
    return module.split(".", 1)[0] if module else "bias_gate"


def layer_of(unit: str) -> int:
    for index, units in enumerate(LAYERS):
        if unit in units:
            return index
    raise AssertionError(f"bias_gate.{unit} is in no layer of tests/unit/test_layout.py")


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return skipped


def imported_units(tree: ast.AST) -> list[tuple[str, int]]:
    """(unit, line) of every bias_gate import and registry lookup in ``tree``."""
    skipped = _type_checking_nodes(tree)
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
            if node.module == "bias_gate":
                names = [f"bias_gate.{alias.name}" for alias in node.names]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in REGISTRY_UNITS
        ):
            found.append((REGISTRY_UNITS[node.func.value.id], node.lineno))
        for name in names:
            if name == "bias_gate" or name.startswith("bias_gate."):
                target = name.removeprefix("bias_gate").removeprefix(".")
                if target == "__version__":
                    target = ""
                found.append((unit_of(target), node.lineno))
    return found


def edges() -> list[Edge]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path)
        for unit, line in imported_units(ast.parse(path.read_text())):
            if unit != unit_of(module):
                out.append(Edge(module, unit, line))
    return out


def test_every_unit_is_in_a_layer():
    units = {unit_of(module_name(path)) for path in PACKAGE.rglob("*.py")}
    for unit in units:
        layer_of(unit)
    listed = {unit for layer in LAYERS for unit in layer}
    assert listed == units, f"layers name units that do not exist: {sorted(listed - units)}"


def test_imports_run_one_way():
    against = sorted(
        f"bias_gate/{edge.module.replace('.', '/')}.py:{edge.line}: "
        f"{unit_of(edge.module)} imports {edge.unit} (a higher layer)"
        for edge in edges()
        if layer_of(edge.unit) > layer_of(unit_of(edge.module))
        and (edge.module, edge.unit) not in EXCEPTIONS
    )
    assert not against, "\n".join(against)


def test_every_exception_is_still_needed():
    found = {(edge.module, edge.unit) for edge in edges()}
    stale = [pair for pair in EXCEPTIONS if pair not in found]
    assert not stale, f"exceptions no import needs any more (remove them): {stale}"


def test_the_walk_sees_function_level_imports_and_registry_lookups():
    """The checker itself: a function-level import and a lookup count, a TYPE_CHECKING
    import does not."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from bias_gate.gate.runner import GateRun\n"
        "def f():\n"
        "    from bias_gate.judge.verdict import judge_bias\n"
        "    return BENCHMARKS.get('bbq')\n"
    )
    found = imported_units(ast.parse(source))
    assert sorted(found) == [("data", 6), ("judge", 5)]


def test_the_architecture_doc_lists_the_same_layers():
    """docs/architecture.md's layer list is this test's, in the same order."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\s*(\d+)\.\s+(.+)$", section, re.M)
    documented = [tuple(re.findall(r"`([\w.]+)`", names)) for _, names in rows]
    assert documented == LAYERS
