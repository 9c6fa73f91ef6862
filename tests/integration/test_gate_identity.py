"""The CI case that used to reuse a stale answer: a checkpoint rebuilt in place (same
path, new weights) between two real gate runs sharing one cache. The second run must
answer with the new weights, not hand back the first run's answers and verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bias_gate.gate.command import gate_args
from tests.conftest import SHARED_DATA
from tests.support.gate import run_gate_args, save_tiny_model

pytest_plugins = ["pytester"]

CONFIG = """\
model:
  path: {model}
data:
  source: official
  categories: [Age]
compressions:
  - {{name: shipped, method: checkpoint, path: checkpoint}}
scoring:
  mode: continuation
perplexity:
  corpus: wikitext2:test
  window: 64
  windows: 4
thresholds:
  overrides:
    validity: {{max_disambig_pvalue: 1.0, max_letter_share: 1.0}}
"""


def _run(pytester: pytest.Pytester, out: Path) -> dict:
    result = run_gate_args(
        pytester,
        *gate_args(
            pytester.path / "model.yaml",
            data_dir=SHARED_DATA,
            cache_dir=pytester.path / "cache",
            json_out=out,
            limit=40,
        ),
    )
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), result.stdout.str()
    return json.loads(out.read_text())


def _folders(cache: Path) -> dict[str, dict[str, int]]:
    """Answer store keys -> their files' modification times."""
    return {
        folder.name: {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
        for folder in (cache / "answers").iterdir()
    }


def test_a_checkpoint_rebuilt_in_place_is_answered_again(pytester, tiny_llama, tmp_path):
    import torch
    from transformers import LlamaForCausalLM

    model = save_tiny_model(tiny_llama, tmp_path / "dense")
    checkpoint = save_tiny_model(tiny_llama, pytester.path / "checkpoint")  # = dense
    (pytester.path / "model.yaml").write_text(CONFIG.format(model=model))

    first = _run(pytester, pytester.path / "first.json")
    (item,) = first["configs"][0]["items"]
    assert item["cohens_h"] == 0.0 and item["new_bias_rate"] == 0.0  # the same weights
    before = _folders(pytester.path / "cache")
    assert len(before) == 2  # dense answers, checkpoint answers

    torch.manual_seed(1)  # the same architecture and tokenizer, other weights
    LlamaForCausalLM(tiny_llama.model.config).save_pretrained(checkpoint)

    second = _run(pytester, pytester.path / "second.json")
    after = _folders(pytester.path / "cache")
    assert len(after) == 3, "the rebuilt checkpoint's answers were not recomputed"
    assert {k: after[k] for k in before} == before, "the dense answers were not reused"
    (new_item,) = second["configs"][0]["items"]
    assert new_item["transitions"] != item["transitions"]
    assert second["configs"][0]["perplexity"] != first["configs"][0]["perplexity"]
    assert second["dense"] == first["dense"]
