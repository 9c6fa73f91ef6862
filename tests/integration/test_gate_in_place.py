"""The real gate compressing in place (decision #109) gives the results of the gate that
compresses copies: several configs, each answered look by look beside the dense model,
so the one model goes back and forth between the dense and each compressed state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bias_gate.gate.command import gate_args
from tests.conftest import SHARED_DATA
from tests.support.gate import run_gate_args, save_tiny_model, without_timing

pytest_plugins = ["pytester"]

CONFIG = """\
model:
  path: {model}
data:
  source: official
  categories: [Age]
compressions:
  - {{name: magnitude-50, method: magnitude, sparsity: 0.5}}
  - {{name: int4, method: rtn, bits: 4, group_size: 32}}
  - {{name: random-30, method: random, sparsity: 0.3}}
scoring:
  mode: continuation
perplexity:
  corpus: wikitext2:test
  window: 64
  windows: 2
sequential:
  looks: 3
thresholds:
  overrides:
    validity: {{max_disambig_pvalue: 1.0, max_letter_share: 1.0}}
"""


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, tiny_llama) -> Path:
    return save_tiny_model(tiny_llama, tmp_path_factory.mktemp("in-place") / "tiny-llama")


def _run(pytester: pytest.Pytester, name: str) -> dict:
    out = pytester.path / f"{name}.json"
    result = run_gate_args(
        pytester,
        *gate_args(
            pytester.path / "model.yaml",
            data_dir=SHARED_DATA,
            cache_dir=pytester.path / f"cache-{name}",
            json_out=out,
            limit=220,
        ),
    )
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), result.stdout.str()
    return json.loads(out.read_text())


def test_in_place_and_copies_give_the_same_results(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, model_dir: Path
):
    (pytester.path / "model.yaml").write_text(CONFIG.format(model=model_dir))
    in_place = _run(pytester, "in-place")
    assert in_place["run"]["compressed_in_place"] is True
    looks = {item["look"] for config in in_place["configs"] for item in config["items"]}
    assert max(looks) > 1  # dense and compressed answers alternated look by look
    monkeypatch.setenv("BIAS_GATE_IN_PLACE", "0")
    copies = _run(pytester, "copies")
    assert copies["run"]["compressed_in_place"] is False
    assert copies["run"]["in_place_reason"] == "BIAS_GATE_IN_PLACE=0"
    assert without_timing(in_place) == without_timing(copies)
