"""compress_model: copy, cache, shortfall check, report; checkpoint and quantization methods."""

from __future__ import annotations

import copy
from typing import ClassVar

import pytest
import torch

from bias_gate.compress import methods
from bias_gate.compress.base import CompressionContext, CompressionResult
from bias_gate.compress.magnitude import MagnitudeOptions
from bias_gate.compress.masks import smallest_mask
from bias_gate.compress.measure import MeasureSettings
from bias_gate.compress.pipeline import compress_model
from bias_gate.compress.pruning import prune_each, pruning_result
from bias_gate.compress.rtn import fake_quantize
from bias_gate.compress.sparsity import SparsityShortfallError, weight_values
from bias_gate.compress.targets import projection_linears
from bias_gate.compress.wanda import WandaCompressor
from bias_gate.compress.weight_store import same_bits, stored_forms
from bias_gate.errors import ConfigError
from tests.support.compress import CALIBRATION, QUICK, spec


def test_dense_model_is_left_untouched_and_the_report_is_complete(tiny_llama, context, tmp_path):
    before = {k: v.clone() for k, v in tiny_llama.model.state_dict().items()}
    settings = MeasureSettings(latency_tokens=16, latency_repeats=3)
    model, report = compress_model(
        tiny_llama, spec("magnitude", sparsity=0.5), context, tmp_path, settings
    )
    assert all(torch.equal(v, before[k]) for k, v in tiny_llama.model.state_dict().items())
    assert model is not tiny_llama.model
    assert report.achieved_sparsity == report.targeted_sparsity == 0.5
    assert report.dense_bytes and report.sparse_bytes and report.sparse_bytes < report.dense_bytes
    assert report.latency_dense_ms > 0 and report.latency_compressed_ms > 0
    assert set(report.to_dict()) >= {"latency_ratio", "sparse_saving", "per_layer"}


def test_second_call_loads_wanda_from_the_cache_without_recomputing(
    tiny_llama, context, tmp_path, monkeypatch
):
    config = spec("wanda", sparsity=0.5, calibration=CALIBRATION)
    first, report = compress_model(tiny_llama, config, context, tmp_path, QUICK)
    assert not report.from_cache
    (weights,) = tmp_path.glob("*.safetensors")
    # A bitmask over the dense weights: one bit per projection weight, plus the header.
    assert set(stored_forms(weights).values()) == {"masked"}
    bits = sum(m.weight.numel() for m in projection_linears(first).values()) / 8
    assert bits <= weights.stat().st_size <= bits + 8192

    def must_not_run(*_args, **_kwargs):
        raise AssertionError("wanda ran again instead of loading the cache")

    monkeypatch.setattr(WandaCompressor, "compress", must_not_run)
    second, cached = compress_model(tiny_llama, config, context, tmp_path, QUICK)
    assert cached.from_cache and cached.cache_key == report.cache_key
    assert cached.compress_seconds == report.compress_seconds
    assert cached.achieved_sparsity == report.achieved_sparsity
    assert cached.notes == report.notes
    for key, value in first.state_dict().items():
        assert same_bits(value, second.state_dict()[key]), key


def test_cache_key_changes_with_options_and_model(tiny_llama, context, tmp_path):
    _, a = compress_model(tiny_llama, spec("rtn", bits=8), context, tmp_path, QUICK)
    _, b = compress_model(tiny_llama, spec("rtn", bits=8, group_size=64), context, tmp_path, QUICK)
    other = copy.copy(tiny_llama)
    other.fingerprint = "another-model"
    _, c = compress_model(other, spec("rtn", bits=8), context, tmp_path, QUICK)
    assert len({a.cache_key, b.cache_key, c.cache_key}) == 3
    assert not c.from_cache


class _LazyMagnitude:
    """Claims a target but silently prunes only q_proj, like the study's Wanda did."""

    Options: ClassVar = MagnitudeOptions

    def compress(self, model, options, context) -> CompressionResult:
        prune_each(model, ("q_proj",), lambda _n, m: smallest_mask(m.weight.abs(), options.target))
        return pruning_result(model, options)


def test_a_silent_shortfall_is_an_error(tiny_llama, context, tmp_path):
    methods.register("lazy", _LazyMagnitude)
    try:
        lazy = spec("lazy", sparsity=0.5)
        with pytest.raises(SparsityShortfallError, match=r"lazy-test \(lazy\): target"):
            compress_model(tiny_llama, lazy, context, tmp_path, QUICK)
    finally:
        methods.unregister("lazy")


def test_an_explicit_subset_reports_its_real_sparsity(tiny_llama, context, tmp_path):
    config = spec("magnitude", sparsity=0.5, targets=["q_proj", "k_proj"])
    _, report = compress_model(tiny_llama, config, context, tmp_path, QUICK)
    assert report.targeted_sparsity == 0.5
    q_k = 2 * (64 * 64 + 64 * 32)  # per tiny layer: q is 64x64, k is 32x64
    total = 2 * (64 * 64 * 2 + 64 * 32 * 2 + 64 * 128 * 3)
    assert report.achieved_sparsity == pytest.approx(0.5 * q_k / total)


def test_unknown_method_and_bad_options_are_config_errors():
    with pytest.raises(
        ConfigError,
        match=r"prune_all-test\.method: unknown compression method 'prune_all'; "
        r"available: .*wanda",
    ):
        spec("prune_all")
    with pytest.raises(ConfigError, match=r"random-test\.sparsity: .*sparsity must be a fraction"):
        spec("random", sparsity=1.0)


def test_checkpoint_method_loads_a_pruned_directory_and_measures_it(tiny_llama, context, tmp_path):
    pruned, _ = compress_model(
        tiny_llama, spec("magnitude", sparsity=0.5), context, tmp_path, QUICK
    )
    out = tmp_path / "shipped"
    pruned.save_pretrained(out)
    tiny_llama.tokenizer.save_pretrained(out)
    relative = CompressionContext(tokenizer=tiny_llama.tokenizer, config_dir=tmp_path)
    config = spec("checkpoint", path="shipped", sparsity=0.5)
    model, report = compress_model(tiny_llama, config, relative, tmp_path, QUICK)
    assert report.achieved_sparsity == 0.5
    ids = torch.tensor([[1, 2, 3, 4]])
    assert torch.allclose(model(input_ids=ids).logits, pruned(input_ids=ids).logits, atol=1e-5)
    with pytest.raises(SparsityShortfallError):
        compress_model(tiny_llama, spec("checkpoint", path="shipped", sparsity=0.7), relative)


@pytest.mark.parametrize(("bits", "group"), [(8, None), (8, 32), (4, 32)])
@pytest.mark.parametrize("symmetric", [True, False])
def test_rtn_error_is_at_most_half_a_step_and_uses_at_most_2_to_the_bits_levels(
    bits, group, symmetric
):
    weight = torch.randn(16, 64, generator=torch.Generator().manual_seed(0))
    out = fake_quantize(weight, bits, group, symmetric)
    size = group or 64
    groups_in, groups_out = weight.reshape(16, -1, size), out.reshape(16, -1, size)
    span = groups_in.abs().amax(2) if symmetric else groups_in.amax(2) - groups_in.amin(2)
    step = span / (2 ** (bits - 1) - 1 if symmetric else 2**bits - 1)
    assert ((groups_in - groups_out).abs().amax(2) <= step / 2 + 1e-6).all()
    for row in groups_out.reshape(-1, size):
        assert len(row.unique()) <= 2**bits


def test_rtn_and_torchao_int8_agree(tiny_llama, context, tmp_path):
    pytest.importorskip("torchao")
    rtn, _ = compress_model(
        tiny_llama, spec("rtn", bits=8, group_size=None), context, tmp_path, QUICK
    )
    ao, report = compress_model(tiny_llama, spec("torchao"), context, tmp_path, QUICK)
    assert report.target_sparsity is None
    assert any("torchao" in note for note in report.notes)
    # Both round each weight to within half an int8 step of its row (max|w| / 127).
    dense_linears = projection_linears(tiny_llama.model)
    rtn_linears = projection_linears(rtn)
    for name, module in projection_linears(ao).items():
        dense_w = dense_linears[name].weight.detach()
        half_step = dense_w.abs().amax(1, keepdim=True) / 127 / 2 * 1.01
        assert ((weight_values(module) - dense_w).abs() <= half_step).all(), name
        assert ((rtn_linears[name].weight - dense_w).abs() <= half_step).all(), name
    for name, module in projection_linears(ao).items():
        assert type(module.weight).__name__ != "Parameter", name


def test_torchao_int4_grouped_runs_on_cpu_and_reports_its_size(tiny_llama, context, tmp_path):
    pytest.importorskip("torchao")
    config = spec("torchao", scheme="int4_weight_only", group_size=32)
    settings = MeasureSettings(latency_tokens=8, latency_repeats=1)
    model, report = compress_model(tiny_llama, config, context, tmp_path, settings)
    assert report.sparse_bytes is None and report.dense_bytes
    assert any("torch.save" in note for note in report.notes)
    logits = model(input_ids=torch.tensor([[5, 6, 7]])).logits
    assert torch.isfinite(logits).all()
