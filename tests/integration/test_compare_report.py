"""Answers from another harness, end to end: ``bias-gate compare --json`` writes a
results file of the gate's schema, ``bias-gate report`` renders it (HTML opened in
headless Chromium, JUnit parsed back, markdown, PR comment, step summary and outputs),
and every report says the answers came from another harness."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bias_gate.cli import main
from bias_gate.data.sources import DirectorySource
from bias_gate.results import GateResults


@pytest.fixture(scope="module")
def verdicts(bbq_dir, tmp_path_factory) -> Path:
    """Dense answers biased on every 4th ambiguous Age item; 'same' repeats them as
    option text under ``prediction``; 'pushed' also turns every 2nd unbiased one biased."""
    items = DirectorySource(bbq_dir).load("Age")
    ambiguous = [i for i in items if i.is_ambiguous and i.biased_index is not None][:200]
    items = ambiguous + [i for i in items if not i.is_ambiguous][:100]
    root = tmp_path_factory.mktemp("compare-report")
    dense, compressed = [], []
    for n, item in enumerate(items):
        key = {"category": item.category, "example_id": item.example_id}
        if not item.is_ambiguous:
            choice = pushed = item.label
        else:
            choice = item.biased_index if n % 4 == 0 else item.unknown_index
            pushed = item.biased_index if n % 2 == 0 else item.unknown_index
        dense.append({**key, "answer": choice})
        compressed.append({**key, "config": "same", "prediction": item.answers[choice]})
        compressed.append({**key, "config": "pushed", "answer": "ABC"[pushed]})
    for name, rows in (("dense", dense), ("compressed", compressed)):
        (root / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = root / "v.json"
    args = ["--source", str(bbq_dir), "--json", str(out)]
    files = ["--dense", str(root / "dense.jsonl"), "--compressed", str(root / "compressed.jsonl")]
    assert main(["compare", *args, *files]) == 1
    return out


def test_compare_results_render_in_every_report(verdicts, tmp_path, monkeypatch, capsys):
    results = GateResults.read(verdicts)  # the gate's own schema, checked on read
    assert results.run["source"] == "compare"
    assert [c.name for c in results.configs] == ["same", "pushed"]
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "outputs.txt"))
    out = {name: tmp_path / name for name in ("x.html", "j.xml", "m.md", "c.md")}
    code = main(
        [
            "report",
            str(verdicts),
            "--html",
            str(out["x.html"]),
            "--junit",
            str(out["j.xml"]),
            "--markdown",
            str(out["m.md"]),
            "--comment",
            str(out["c.md"]),
            "--step-summary",
            "--github-outputs",
        ]
    )
    assert code == 0, capsys.readouterr().err
    cases = {c.get("name"): c for c in ET.parse(out["j.xml"]).getroot().iter("testcase")}
    failed = [name for name, case in cases.items() if case.find("failure") is not None]
    assert failed == ["pushed::Age"], cases
    # No perplexity was measured: each config's perplexity case is skipped, not passed.
    assert all(cases[f"{c}::perplexity"].find("skipped") is not None for c in ("same", "pushed"))
    assert "bias amplified" in cases[failed[0]].find("failure").get("message")
    for name in ("m.md", "c.md"):
        text = out[name].read_text()
        assert "answers from another harness" in text and "pushed" in text, name
    assert "answers from another harness" in (tmp_path / "summary.md").read_text()
    assert re.search(r"^verdict=fail$", (tmp_path / "outputs.txt").read_text(), re.M)

    chromium = shutil.which("chromium") or pytest.skip("no headless Chromium")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"]
    dom = subprocess.run(
        [chromium, *flags, out["x.html"].as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    matrix = dom.split('id="verdict-matrix"', 1)[1].split("</table>", 1)[0]
    assert "same" in matrix and "pushed" in matrix and 'class="bias fail"' in matrix
    assert "answers from another harness" in dom
    assert matrix.count("not measured") == 2  # no perplexity for answers from elsewhere
    # Only the plot with something to show: no sparsity, no perplexity ratio here.
    assert re.findall(r'<img alt="([^"]+)"', dom) == ["new_bias_rate.png"]
