"""The compact cache of compressed weights: each config's entry is no larger than the
artifact it stands for, and the model loaded from it is bit-identical to the model the
compressor made (every tensor of the state dict, -0.0 and NaN included)."""

from __future__ import annotations

import copy

import pytest
import torch

from bias_gate.compress.int_pack import pack, quantize
from bias_gate.compress.pipeline import compress_model
from bias_gate.compress.targets import projection_linears
from bias_gate.compress.weight_store import load_weights, same_bits, save_weights, stored_forms
from tests.support.compress import QUICK, spec


def projection_numel(model: torch.nn.Module) -> int:
    return sum(m.weight.numel() for m in projection_linears(model).values())


def assert_bit_identical(a: torch.nn.Module, b: torch.nn.Module) -> None:
    theirs = b.state_dict()
    for name, tensor in a.state_dict().items():
        assert same_bits(tensor, theirs[name]), name


@pytest.mark.parametrize(
    ("method", "options", "form", "bytes_per_weight"),
    [
        # pruning: a bitmask over the dense weights (wanda's: test_compress_pipeline.py)
        ("magnitude", {"sparsity": 0.5}, "masked", 1 / 8),
        ("random", {"sparsity": 0.3}, "masked", 1 / 8),
        ("magnitude", {"pattern": "2:4"}, "masked", 1 / 8),
        # codes, one float32 scale per group (and a zero point when asymmetric)
        ("rtn", {"bits": 8}, "packed", 1 + 4 / 32),
        ("rtn", {"bits": 4, "symmetric": False}, "packed", 1 / 2 + 8 / 32),
        ("rtn", {"bits": 4, "group_size": 64}, "packed", 1 / 2 + 4 / 64),
    ],
)
def test_a_stored_entry_is_small_and_loads_bit_identical(
    tiny_llama, context, tmp_path, method, options, form, bytes_per_weight
):
    made, first = compress_model(tiny_llama, spec(method, **options), context, tmp_path, QUICK)
    (weights,) = tmp_path.glob("*.safetensors")
    assert set(stored_forms(weights).values()) == {form}
    # The entry: the forms' bytes plus a safetensors header (names and metadata).
    expected = projection_numel(tiny_llama.model) * bytes_per_weight
    assert expected <= weights.stat().st_size <= expected + 8192
    loaded, second = compress_model(tiny_llama, spec(method, **options), context, tmp_path, QUICK)
    assert second.from_cache and not first.from_cache
    assert_bit_identical(made, loaded)
    assert second.achieved_sparsity == first.achieved_sparsity


def test_a_weight_that_is_neither_masked_nor_packed_falls_back_exactly(tmp_path):
    generator = torch.Generator().manual_seed(0)
    dense = torch.randn(64, 32, generator=generator)
    changed = dense * 2  # not the dense values: no mask of them
    changed[changed.abs() < 1] = 0  # about 60% zero: bitmask plus values pays
    changed[0, :4] = torch.tensor([-0.0, float("nan"), float("inf"), -1e-45])
    full = torch.randn(16, 32, generator=generator)  # dense where a bitmask does not pay
    wrong = pack(quantize(torch.randn(16, 32, generator=generator), 8, 32, True))
    tensors = {"a": changed, "b": full, "c": full * 3}
    path = tmp_path / "w.safetensors"
    save_weights(path, tensors, {"a": dense, "b": full}, {"c": wrong})
    assert stored_forms(path) == {"a": "sparse", "b": "masked", "c": "plain"}
    back = load_weights(path, {"a": dense, "b": full})
    assert all(same_bits(back[k], v) for k, v in tensors.items())


def test_quantized_bfloat16_weights_come_back_bit_identical(tiny_llama, context, tmp_path):
    dense = copy.copy(tiny_llama)
    dense.model = copy.deepcopy(tiny_llama.model).to(torch.bfloat16)
    made, _ = compress_model(dense, spec("rtn", bits=4), context, tmp_path, QUICK)
    loaded, report = compress_model(dense, spec("rtn", bits=4), context, tmp_path, QUICK)
    assert report.from_cache
    assert_bit_identical(made, loaded)


def test_an_entry_that_cannot_be_read_is_computed_again(tiny_llama, context, tmp_path):
    made, _ = compress_model(tiny_llama, spec("rtn", bits=8), context, tmp_path, QUICK)
    (weights,) = tmp_path.glob("*.safetensors")
    weights.write_bytes(weights.read_bytes()[:100])  # torn under the run's feet
    again, report = compress_model(tiny_llama, spec("rtn", bits=8), context, tmp_path, QUICK)
    assert not report.from_cache
    assert_bit_identical(made, again)
