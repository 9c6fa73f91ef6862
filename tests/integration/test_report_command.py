"""``bias-gate report``: real command-line runs on results files."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

from bias_gate.cli import main
from bias_gate.results import GateResults
from tests.support.reports import make_results


def _write_shards(tmp_path):
    results = make_results()
    paths = []
    for index in range(2):
        shard = GateResults.from_json(results.to_json())
        shard.configs = [c for k, c in enumerate(shard.configs) if k % 2 == index]
        shard.run["shard"] = f"{index + 1}/2"
        path = tmp_path / f"results-{index + 1}.json"
        shard.write(path)
        paths.append(path)
    return results, paths


def test_merge_writes_every_report(tmp_path):
    results, paths = _write_shards(tmp_path)
    out = tmp_path / "out"
    code = main(
        [
            "report",
            "--merge",
            *map(str, paths),
            "--json",
            str(out / "merged.json"),
            "--junit",
            str(out / "merged.xml"),
            "--markdown",
            str(out / "summary.md"),
            "--html",
            str(out / "report.html"),
            "--plots",
            str(out / "plots"),
        ]
    )
    assert code == 0
    merged = json.loads((out / "merged.json").read_text())
    assert [c["name"] for c in merged["configs"]] == [c.name for c in results.configs]
    assert merged["run"]["shard"] is None
    cases = list(ET.parse(out / "merged.xml").getroot().iter("testcase"))
    assert len(cases) == len(results.items()) + len(results.configs)
    assert "smart-pruning paradox" in (out / "summary.md").read_text(encoding="utf-8")
    assert (out / "report.html").stat().st_size > 10_000
    assert len(list((out / "plots").glob("*.png"))) == 3


def test_errors_are_one_line_exit_2(tmp_path, capsys):
    _, paths = _write_shards(tmp_path)
    assert main(["report", *map(str, paths)]) == 2
    assert "pass --merge" in capsys.readouterr().err
    assert main(["report", "--merge", str(paths[0]), str(paths[0])]) == 2
    assert "is in both" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 1}')
    assert main(["report", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a bias-gate results file" in err and len(err.strip().splitlines()) == 1
    assert main(["report", str(tmp_path / "missing.json")]) == 2
    assert main(["report", str(paths[0]), "--report", "pdf=out.pdf"]) == 2
    err = capsys.readouterr().err
    assert "--report: unknown report writer 'pdf'; available: html, json, junit" in err


def test_a_registered_writer_is_selected_by_name(tmp_path, capsys):
    from bias_gate.registry import REPORTS

    class Names:
        name = "names"
        description = "config names, one a line"

        def write(self, results, path):
            path.write_text("".join(f"{c.name}\n" for c in results.configs))
            return [path]

    results, paths = _write_shards(tmp_path)
    REPORTS.register("names", Names)
    try:
        out = tmp_path / "names.txt"
        assert main(["report", "--merge", *map(str, paths), "--report", f"names={out}"]) == 0
    finally:
        REPORTS.unregister("names")
    assert out.read_text().split() == [c.name for c in results.configs]
    assert f"wrote names: {out}" in capsys.readouterr().err


def test_markdown_to_stdout_and_github_outputs(tmp_path, monkeypatch, capsys):
    _, paths = _write_shards(tmp_path)
    assert main(["report", str(paths[0])]) == 0
    assert "### Verdict matrix" in capsys.readouterr().out
    summary = tmp_path / "step.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert main(["report", "--merge", *map(str, paths), "--step-summary", "--annotations"]) == 0
    assert "::error file=examples/smollm2.yaml,line=12," in capsys.readouterr().out
    assert "### Verdict matrix" in summary.read_text(encoding="utf-8")


def test_command_module_imports_no_torch():
    code = (
        "import sys, bias_gate.commands.report, bias_gate.report.merge, bias_gate.report.html;"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
