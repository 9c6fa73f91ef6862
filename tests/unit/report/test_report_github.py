"""``bias-gate report --github-outputs --comment PATH``: the pull-request surface
(issue 14). Words, counts and limits come from the results."""

from __future__ import annotations

import pytest

from bias_gate.cli import main
from bias_gate.report.github import COMMENT_MARKER, github_outputs, render_comment, run_url
from bias_gate.report.trend import compare
from tests.support.reports import make_results

RUN_ENV = {
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "acme/llm",
    "GITHUB_RUN_ID": "42",
}


def _outputs(path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_outputs_come_from_the_results(tmp_path):
    results = make_results()
    assert github_outputs(results, tmp_path / "r.json") == {
        "verdict": "fail",
        "failed-configs": "wanda-50,magnitude-50,random-50",
        "paradox-count": "1",
        "results-json": str(tmp_path / "r.json"),
    }
    for config in results.configs:  # every failure turned into a warning by policy
        config.perplexity_verdict = "pass"
        for item in config.items:
            if item.verdict == "fail":
                item.verdict, item.paradox = "warn", False
    outputs = github_outputs(results, None)
    assert outputs["verdict"] == "warn" and outputs["failed-configs"] == ""
    assert outputs["paradox-count"] == "0" and outputs["results-json"] == ""
    results.run["missing_shards"] = ["2/2"]
    assert github_outputs(results, None)["verdict"] == "incomplete"


def test_command_writes_github_outputs(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results.json"
    make_results().write(results)
    target = tmp_path / "github_output"
    target.write_text("earlier=1\n")
    monkeypatch.setenv("GITHUB_OUTPUT", str(target))
    assert main(["report", str(results), "--github-outputs"]) == 0
    outputs = _outputs(target)
    assert outputs["earlier"] == "1"  # appended, not replaced
    assert outputs["verdict"] == "fail" and outputs["paradox-count"] == "1"
    assert outputs["results-json"] == str(results)
    merged = tmp_path / "merged.json"
    assert main(["report", "--merge", str(results), "--json", str(merged), "--github-outputs"]) == 0
    assert _outputs(target)["results-json"] == str(merged)
    monkeypatch.delenv("GITHUB_OUTPUT")
    capsys.readouterr()
    assert main(["report", str(results), "--github-outputs"]) == 2
    err = capsys.readouterr().err
    assert "--github-outputs: $GITHUB_OUTPUT is not set" in err and len(err.splitlines()) == 1


def test_comment_one_table_paradox_first_with_a_link():
    text = render_comment(make_results(), RUN_ENV)
    assert text.startswith(COMMENT_MARKER)
    assert "### bias-gate: **FAIL**" in text
    assert (
        "3 failed: wanda-50 (bias amplified), magnitude-50 (perplexity, bias amplified), "
        "random-50 (perplexity); 1 smart-pruning paradox case"
    ) in text
    table = [line for line in text.splitlines() if line.startswith("|")]
    assert table[0] == "| config | perplexity ratio | Age | Gender_identity |"
    rows = table[2:]
    assert [r.split(" | ")[0] for r in rows] == [
        "| **wanda-50** ❗ paradox",
        "| **magnitude-50**",
        "| **random-50**",
        "| **int8**",
    ]
    # The reason first in every cell that is not a pass (issue 25: no "fail 0.000" alone).
    assert "❌ fail: bias amplified, h 0.362" in rows[0] and "✅ pass h 0.022" in rows[0]
    assert "❌ fail: perplexity, 2.400" in rows[1]
    assert "⚠️ warn: too few items, h n/a" in rows[3]
    assert "limit 0.2" in text and "Cohen's h on srs" in text
    assert "[Full report and artifacts](https://github.com/acme/llm/actions/runs/42)" in text
    assert len(text.splitlines()) < 20


def test_comment_reads_limits_and_incomplete_from_the_results():
    results = make_results()
    for item in results.items():
        if item.category == "Age":
            item.limit = 0.3
    results.run["missing_shards"] = ["2/2"]
    text = render_comment(results, {})
    assert "limit Age 0.3, Gender_identity 0.2" in text
    assert "INCOMPLETE: shard 2/2 missing" in text and "FAIL (INCOMPLETE)" in text
    assert "Full report" not in text and run_url({"GITHUB_RUN_ID": "1"}) is None


def test_comment_marks_worse_cells_and_command_writes_it(tmp_path, monkeypatch):
    old = make_results()
    age = old.configs[0].items[0]
    age.verdict = "pass"
    text = render_comment(make_results(), {}, compare(make_results(), old, "v1.json"))
    assert (
        "❌ fail: bias amplified, h 0.362 (was pass)" in text
        and "Against `v1.json`: 1 verdict(s)" in text
    )
    results, previous = tmp_path / "results.json", tmp_path / "v1.json"
    make_results().write(results)
    old.write(previous)
    for name, value in RUN_ENV.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "out" / "comment.md"
    assert main(["report", str(results), "--previous", str(previous), "--comment", str(out)]) == 0
    written = out.read_text(encoding="utf-8")
    assert "(was pass)" in written and "actions/runs/42" in written


@pytest.mark.parametrize("flag", ["--annotations", "--step-summary", "--github-outputs"])
def test_actions_outputs_outside_actions_are_one_usage_line(tmp_path, monkeypatch, capsys, flag):
    """Outside a GitHub Actions step each of the three refuses the same way (exit 2, one
    line naming the flag), none silently does nothing."""

    results = tmp_path / "results.json"
    make_results().write(results)
    for name in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(name, raising=False)
    assert main(["report", str(results), flag]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"bias-gate: error: {flag}: ") and len(err.splitlines()) == 1
    assert "GitHub Actions step" in err
    # Inside a step (the variables GitHub sets), the same command writes.
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out.txt"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "step.md"))
    assert main(["report", str(results), flag]) == 0
