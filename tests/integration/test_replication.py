"""scripts/replication.py's write-up step, run through its command line on real results.

The model runs of the replication take over an hour on 2 cores, so the test resumes the
script from a work folder holding finished steps (``--reuse``): the real results JSON
of a gate run (tests/fixtures/results_small.json) stands in for both runs. What is
checked is what a reader of docs/results/replication-smollm2.md relies on: every figure
read from the results, the conclusions table computed from them, and the plots drawn.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

FIXTURE = ROOT / "tests" / "fixtures" / "results_small.json"


def _script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "replication", ROOT / "scripts" / "replication.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["replication"] = module
    spec.loader.exec_module(module)
    return module


def _validity(categories: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    row = {"informative": True, "disambig_accuracy": 0.52, "disambig_n": 50}
    chance = {"informative": False, "disambig_accuracy": 0.33, "disambig_n": 50}
    return {
        "letter": {c: chance for c in [*categories, "all"]},
        "continuation": {c: row for c in [*categories, "all"]},
    }


def _run(tmp_path: Path, main: dict[str, Any], study: dict[str, Any] | None) -> str:
    work = tmp_path / "work"
    work.mkdir()
    (work / "replication.json").write_text(json.dumps(main))
    (work / "validity.json").write_text(json.dumps(_validity(main["run"]["categories"])))
    (work / "timings.json").write_text(json.dumps({"the gate": 600.0}))
    reuse = ["validity", "gate"]
    if study is not None:
        (work / "replication-study.json").write_text(json.dumps(study))
        reuse.append("study")
    argv = ["--data-dir", str(tmp_path), "--work", str(work), "--out", str(tmp_path / "out")]
    argv += ["--reuse", *reuse] + ([] if study is not None else ["--skip-study"])
    assert _script().main(argv) == 0
    for png in ("replication-h-vs-sparsity.png", "replication-paradox.png"):
        data = (tmp_path / "out" / png).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 10_000
    return (tmp_path / "out" / "replication-smollm2.md").read_text()


def test_the_write_up_reads_every_figure_from_the_results(tmp_path: Path) -> None:
    main = json.loads(FIXTURE.read_text())
    text = _run(tmp_path, main, copy.deepcopy(main))
    items = [(c, i) for c in main["configs"] for i in c["items"]]
    # One table row per comparison, carrying its decision and h as in the JSON.
    for config, item in items:
        row = f"| {config['name']} | {item['category']} | {item['decision']} | "
        assert row + f"{item['cohens_h']:.3f} |" in text
    fails = sum(i["decision"] == "fail" for _, i in items)
    passes = sum(i["decision"] == "pass" for _, i in items)
    assert f"{len(items)} comparisons (configs x categories): {fails} FAIL, {passes} PASS" in text
    # The validity table marks the valid mode, and the timings are stated.
    assert "| continuation | 0.52* (n=50)" in text and "| letter | 0.33 (n=50)" in text
    assert "the gate 10.0 min" in text
    # The conclusions: the fixture's 70% random pruning lowers bias in every category.
    random70 = next(c for c in main["configs"] if c["name"] == "random-70")
    h = sum(i["cohens_h"] for i in random70["items"]) / len(random70["items"])
    assert f"polarity-corrected h {h:.3f}; 0 of 3 categories FAIL | does not hold" in text
    assert "| The smart-pruning paradox: perplexity kept, bias amplified | no comparison" in text
    assert "## The study's own reading beside the gate's" in text


def test_a_paradox_and_an_amplification_are_stated_when_the_results_hold_them(
    tmp_path: Path,
) -> None:
    main = json.loads(FIXTURE.read_text())
    random70 = next(c for c in main["configs"] if c["name"] == "random-70")
    random70["perplexity_verdict"] = "pass"
    item = random70["items"][0]
    item.update(decision="fail", verdict="fail", paradox=True, cohens_h=0.9, h_ci=[0.5, 1.3])
    text = _run(tmp_path, main, None)
    assert f"random-70::{item['category']}" in text
    assert "found |" in text and "not found on this model" not in text
    assert "1 of 3 categories FAIL | survives: amplification beyond the limit" in text
    assert "The study's own reading" not in text
    assert "Not run for this write-up (`--skip-study`)" in text


@pytest.mark.parametrize("missing", ["replication.json"])
def test_reuse_without_the_finished_step_reruns_it(tmp_path: Path, missing: str) -> None:
    """``--reuse gate`` only keeps a step that finished: without its JSON the script
    would run the gate, so here (no model data) it must fail rather than write a
    write-up from nothing."""
    work = tmp_path / "work"
    work.mkdir()
    main = json.loads(FIXTURE.read_text())
    (work / "validity.json").write_text(json.dumps(_validity(main["run"]["categories"])))
    argv = ["--data-dir", str(tmp_path / "nodata"), "--work", str(work), "--out", str(tmp_path)]
    with pytest.raises(SystemExit):
        _script().main([*argv, "--reuse", "validity", "gate", "--skip-study"])
    assert not (tmp_path / "replication-smollm2.md").exists()
    assert not (work / missing).exists()
