"""llama.cpp (the ``pytest-bias-gate[llama]`` extra): its quantizer writes K-quants for the
``gguf`` method, and its runtime answers like the torch engine on the same weights.

The dense model as an F32 GGUF holds exactly the weights the torch engine loads (the
embedded Q4_1 file dequantized), so on it the two runtimes differ only in arithmetic
order: identical choices, log-probabilities within 0.02, the same perplexity to 0.1%.
Skipped, with the reason, where llama-cpp-python is not installed (it builds llama.cpp
from source; docs/decisions.md #41). A whole gate run in llama.cpp: test_llama_gate.py."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bias_gate.answer.engine import answer_items
from bias_gate.answer.reference import reference_score
from bias_gate.answer.variants import Variant
from bias_gate.compress import gguf_quant
from bias_gate.compress.base import CompressionContext
from bias_gate.compress.measure import MeasureSettings
from bias_gate.compress.methods import resolve_method
from bias_gate.compress.pipeline import compress_model
from bias_gate.config.schema import (
    CompressionSpec,
    DataSpec,
    PerplexitySpec,
    ScoringSpec,
    default_model,
)
from bias_gate.data.loader import load_items
from bias_gate.llama.agreement import agreement
from bias_gate.llama.gguf_file import tensor_types
from bias_gate.llama.runtime import LlamaModel, llama_perplexity
from bias_gate.models.loading import gguf_file
from bias_gate.models.perplexity import perplexity

pytest.importorskip(
    "llama_cpp", reason="llama-cpp-python is not installed: pip install 'pytest-bias-gate[llama]'"
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def context(smollm2, tmp_path_factory):
    root = tmp_path_factory.mktemp("llama")
    return CompressionContext(
        tokenizer=smollm2.tokenizer,
        config_dir=root,
        dense_gguf=gguf_file(default_model()),
        artifact_dir=root / "artifacts",
    )


@pytest.fixture(scope="module")
def dense_llama(smollm2, context):
    path = gguf_quant.write_dense_gguf(context)
    return LlamaModel(path, generation_config=smollm2.model.generation_config)


@pytest.fixture(scope="module")
def items(bbq_dir):
    spec = DataSpec(categories=["Age"], items_per_category=8)
    return load_items(spec, data_dir=bbq_dir.parent).items


def test_the_dense_f32_file_scores_like_the_torch_engine(smollm2, dense_llama):
    ids = smollm2.tokenizer("Paris is the capital of France", add_special_tokens=False).input_ids
    variant = Variant(tuple(ids), n_scored=3)
    read = (ids[1], ids[2])
    torch_score = reference_score(smollm2.model, variant, read)
    [[llama_score]] = dense_llama.prefix_scorer().score([[variant]], read)
    assert float((torch_score.token_logprobs - llama_score.token_logprobs).abs().max()) < 0.02
    assert float((torch_score.next_logprobs - llama_score.next_logprobs).abs().max()) < 0.02


@pytest.mark.parametrize("mode", ["letter", "permuted", "continuation", "generate"])
def test_every_mode_answers_alike_in_both_runtimes(smollm2, dense_llama, items, mode):
    scoring = ScoringSpec(mode=mode)
    torch_answers = answer_items(smollm2.model, smollm2.tokenizer, items, scoring)
    llama_answers = answer_items(dense_llama, smollm2.tokenizer, items, scoring)
    found = agreement(torch_answers, llama_answers)
    assert found.items == len(items) and found.same_choice == 1.0
    if mode != "generate":
        assert found.max_logprob_diff is not None and found.max_logprob_diff < 0.02


def test_the_kv_cache_evaluates_only_what_follows_the_shared_prefix(dense_llama):
    dense_llama.logits([1, 2, 3, 4, 5])
    before = dense_llama.evaluated_tokens
    dense_llama.logits([1, 2, 3, 9, 9, 9])
    assert dense_llama.evaluated_tokens - before == 3
    dense_llama.logits([1, 2, 3, 9])
    assert dense_llama.evaluated_tokens - before == 3


def test_perplexity_matches_the_torch_engine(smollm2, dense_llama, wikitext_dir):
    spec = PerplexitySpec(window=256, windows=2)
    data_dir = wikitext_dir.parent
    torch_ppl = perplexity(smollm2.model, smollm2.tokenizer, spec, data_dir=data_dir)
    llama_ppl = llama_perplexity(dense_llama, smollm2.tokenizer, spec, data_dir=data_dir)
    assert llama_ppl.n_tokens == torch_ppl.n_tokens
    assert llama_ppl.perplexity == pytest.approx(torch_ppl.perplexity, rel=1e-3)


def test_q4_k_m_by_llama_cpp_is_a_k_quant_mix_loaded_back_for_the_gate(smollm2, context):
    spec = CompressionSpec(
        name="q4km", method="gguf", options={"type": "Q4_K_M", "quantizer": "llama_cpp"}
    )
    quick = MeasureSettings(sizes=False, latency=False)
    method = resolve_method(spec)
    model, report = compress_model(smollm2, method, context, context.config_dir / "c", quick)
    artifact = Path(report.artifact_path or "")
    types = Counter(tensor_types(artifact).values())
    assert types["Q4_K"] > 0 and types["F32"] == 61
    assert report.artifact_bytes == artifact.stat().st_size
    assert report.artifact_bytes < gguf_file(default_model()).stat().st_size * 1.2
    assert model is not smollm2.model
