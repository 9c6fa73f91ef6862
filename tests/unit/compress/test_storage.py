"""The bitmask save: written for real, read back bit-exact, and smaller when sparse."""

from __future__ import annotations

import copy
import json

import pytest
import torch
from safetensors import safe_open

from bias_gate.compress.measure import bit_equal, saved_sizes
from bias_gate.compress.storage import (
    atomic_save_streamed,
    load_sparse,
    model_tensors,
    read_header,
    save_dense,
    save_sparse,
    sparse_pays,
)


def half_zero(shape, dtype=torch.float32, seed=0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    tensor = torch.randn(shape, generator=generator).to(dtype)
    tensor[torch.rand(shape, generator=generator) < 0.5] = 0
    return tensor


def test_round_trip_is_bit_exact_for_awkward_values(tmp_path):
    special = half_zero((64, 32))
    special[0, :4] = torch.tensor([-0.0, float("nan"), float("inf"), -1e-45])
    tensors = {
        "a": special,
        "bf16": half_zero((16, 48), torch.bfloat16, seed=1),
        "fp16": half_zero((8, 8), torch.float16, seed=2),
        "dense": torch.randn(10, 10),
        "ints": torch.arange(12).reshape(3, 4),
        "odd": half_zero((7, 13), seed=3),
    }
    save_sparse(tensors, tmp_path / "w.safetensors")
    back = load_sparse(tmp_path / "w.safetensors")
    assert back.keys() == tensors.keys()
    for name, tensor in tensors.items():
        assert bit_equal(back[name], tensor), name
    assert torch.signbit(back["a"][0, 0])  # -0.0 stays -0.0


def test_sparse_file_is_smaller_by_the_expected_amount(tmp_path):
    tensor = half_zero((512, 512))
    dense = save_dense({"w": tensor}, tmp_path / "d.safetensors")
    sparse = save_sparse({"w": tensor}, tmp_path / "s.safetensors")
    kept = int((tensor != 0).sum())
    expected = 512 * 512 / 8 + kept * 4
    assert sparse == pytest.approx(expected, abs=512)  # header only
    assert dense == pytest.approx(512 * 512 * 4, abs=512)


def test_only_tensors_where_a_bitmask_pays_are_stored_sparse():
    assert not sparse_pays(torch.randn(64, 64))
    assert sparse_pays(half_zero((64, 64)))
    assert not sparse_pays(torch.zeros(4, dtype=torch.int64))


def test_tied_weights_are_saved_once(tiny_llama):
    tensors = model_tensors(tiny_llama.model)
    assert "model.embed_tokens.weight" in tensors
    assert "lm_head.weight" not in tensors


def test_saved_sizes_of_a_pruned_model_read_back_exact(tiny_llama):
    model = copy.deepcopy(tiny_llama.model)
    with torch.no_grad():
        for layer in model.model.layers:
            for module in (layer.self_attn.q_proj, layer.mlp.down_proj):
                module.weight[:, ::2] = 0
    sizes = saved_sizes(model)
    assert sizes.dense_bytes is not None and sizes.sparse_bytes is not None
    assert sizes.sparse_bytes < sizes.dense_bytes


def test_load_refuses_a_plain_safetensors_file(tmp_path):
    save_dense({"w": torch.ones(2)}, tmp_path / "d.safetensors")
    with pytest.raises(ValueError, match="not a bias-gate-bitmask-v1 file"):
        load_sparse(tmp_path / "d.safetensors")


def test_a_streamed_save_is_a_safetensors_file_read_back_bit_exact(tmp_path):
    """Tensors of every element size, made one at a time in an order that would
    misalign them, come back equal from safetensors' own reader, each offset aligned."""
    made: list[str] = []
    tensors = {
        "mask": torch.randint(0, 255, (13,), dtype=torch.uint8),
        "scale": torch.randn(3, 5),
        "half": torch.randn(7).to(torch.bfloat16),
        "index": torch.arange(3, dtype=torch.int64),
        "empty": torch.zeros(0, 4),
        "flag": torch.tensor([True, False, True]),
    }

    def one_at_a_time():
        for name, tensor in tensors.items():
            made.append(name)
            yield name, tensor

    def metadata():
        assert made == list(tensors)  # asked for once every tensor was written
        return {"format": "test"}

    path = tmp_path / "streamed.safetensors"
    size = atomic_save_streamed(one_at_a_time(), path, metadata)
    assert size == path.stat().st_size
    with safe_open(str(path), framework="pt") as handle:
        assert handle.metadata() == {"format": "test"}
        for name, tensor in tensors.items():
            assert bit_equal(handle.get_tensor(name), tensor), name
    header_size = int.from_bytes(path.read_bytes()[:8], "little")
    header = json.loads(path.read_bytes()[8 : 8 + header_size])
    for name, info in header.items():
        if name != "__metadata__":
            assert info["data_offsets"][0] % tensors[name].element_size() == 0, name
    assert not list(tmp_path.glob(".*")), "no scratch file is left behind"


@pytest.mark.parametrize(
    "content", [b"\x01\x02", (10**18).to_bytes(8, "little") + b"{}", (2).to_bytes(8, "little")]
)
def test_a_torn_or_false_header_is_a_value_error_not_an_allocation(tmp_path, content):
    path = tmp_path / "torn.safetensors"
    path.write_bytes(content)
    with path.open("rb") as handle, pytest.raises(ValueError, match="not a safetensors file"):
        read_header(handle)
