"""The anchors on the real SmolLM2-135M-Instruct at 50% (few windows to keep CI cheap):
perplexity dense < Wanda < magnitude << random; int8 weight-only within 1% of dense;
the bitmask save of a 50%-sparse fp32 model is about 37% smaller."""

from __future__ import annotations

from pathlib import Path

import pytest

from bias_gate.compress.base import CompressionContext
from bias_gate.compress.measure import MeasureSettings, saved_sizes
from bias_gate.compress.methods import resolve_method
from bias_gate.compress.pipeline import compress_model
from bias_gate.config.schema import CompressionSpec, PerplexitySpec
from bias_gate.models.perplexity import perplexity

pytestmark = pytest.mark.slow

QUICK = MeasureSettings(sizes=False, latency=False)
PPL = PerplexitySpec(window=256, windows=4)


@pytest.fixture(scope="module")
def measured(smollm2, wikitext_dir, tmp_path_factory):
    data_dir = wikitext_dir.parent
    context = CompressionContext(
        tokenizer=smollm2.tokenizer, config_dir=Path.cwd(), data_dir=data_dir
    )
    cache = tmp_path_factory.mktemp("compressed")
    configs = {
        "random": {"sparsity": 0.5},
        "magnitude": {"sparsity": 0.5},
        "wanda": {"sparsity": 0.5, "calibration": {"samples": 8, "seq_len": 128}},
        "torchao": {"scheme": "int8_weight_only"},
    }
    ppl = {"dense": perplexity(smollm2.model, smollm2.tokenizer, PPL, data_dir=data_dir)}
    reports, sizes = {}, None
    for method, options in configs.items():
        spec = resolve_method(CompressionSpec(name=method, method=method, options=options))
        model, reports[method] = compress_model(smollm2, spec, context, cache, QUICK)
        ppl[method] = perplexity(model, smollm2.tokenizer, PPL, data_dir=data_dir)
        if method == "magnitude":
            sizes = saved_sizes(model)
        del model
    return {k: v.perplexity for k, v in ppl.items()}, reports, sizes


def test_perplexity_orders_dense_wanda_magnitude_random(measured):
    ppl, reports, _ = measured
    assert ppl["dense"] < ppl["wanda"] < ppl["magnitude"]
    assert ppl["random"] > 100 * ppl["magnitude"]
    for method in ("random", "magnitude", "wanda"):
        assert reports[method].achieved_sparsity == pytest.approx(0.5, abs=0.001)


def test_int8_weight_only_is_within_one_percent_of_dense(measured):
    ppl, _, _ = measured
    assert abs(ppl["torchao"] / ppl["dense"] - 1) < 0.01


def test_bitmask_save_of_half_sparse_fp32_saves_about_37_percent(measured):
    _, _, sizes = measured
    saving = 1 - sizes.sparse_bytes / sizes.dense_bytes
    assert 0.35 < saving < 0.39
