"""Compression in place, in a private mapping of the dense model's file (decision #109):
the same weights as compressing a copy, the dense weights back exactly when asked for,
and the written pages really given back."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import ClassVar

import pytest
import torch

from bias_gate.compress import methods
from bias_gate.compress.base import CompressionResult
from bias_gate.compress.in_place import DIRTY, attach, attach_loaded
from bias_gate.compress.magnitude import MagnitudeOptions
from bias_gate.compress.masks import smallest_mask
from bias_gate.compress.pipeline import compress_model
from bias_gate.compress.pruning import prune_each, pruning_result
from bias_gate.compress.sparsity import SparsityShortfallError
from bias_gate.compress.targets import projection_linears
from bias_gate.compress.weight_store import stored_forms
from bias_gate.config.schema import ModelSpec
from bias_gate.identity import NO_COMPRESSION
from bias_gate.models.loading import load_model
from tests.support.compress import CALIBRATION, QUICK, spec

METHODS = [
    ("magnitude", {"sparsity": 0.5}),
    ("random", {"sparsity": 0.5, "seed": 3}),
    ("wanda", {"sparsity": 0.5, "calibration": CALIBRATION}),
    ("rtn", {"bits": 4, "group_size": 32}),
]


def projections(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: m.weight.detach().clone() for name, m in projection_linears(model).items()}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(
        torch.equal(a[k].view(torch.int32), b[k].view(torch.int32)) for k in a
    )


def private_kb(weights) -> int:
    """The written (private) kilobytes of the in-place mapping of the weights file."""
    handle = next(iter(weights._own.values()))
    start = torch.frombuffer(handle, dtype=torch.uint8, count=1).data_ptr()
    total, current = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split(maxsplit=1)[0]
        if "-" in head and not head.endswith(":"):
            current = int(head.split("-")[0], 16) == start
        elif current and head == "Anonymous:":
            total += int(line.split()[1])
    return total


def load(folder: Path, in_place: bool, dtype: str = "float32"):
    loaded = load_model(ModelSpec(path=folder, dtype=dtype), device="cpu")
    if in_place:
        attach_loaded(loaded)  # as the gate does
    return loaded


@pytest.mark.parametrize("method, options", METHODS)
def test_in_place_gives_the_copy_s_weights_and_the_dense_ones_back(
    tiny_dir, context, tmp_path, method, options
):
    copy_path = load(tiny_dir, in_place=False)
    assert copy_path.in_place is None
    compressed_copy, _ = compress_model(
        copy_path, spec(method, **options), context, tmp_path / "copy", QUICK
    )
    expected = projections(compressed_copy)

    loaded = load(tiny_dir, in_place=True)
    weights = loaded.in_place
    assert weights is not None, loaded.in_place_reason
    dense = projections(loaded.model)
    model, report = compress_model(
        loaded, spec(method, **options), context, tmp_path / "in-place", QUICK, in_place=True
    )
    assert model is loaded.model  # no copy was made
    assert same(projections(model), expected)
    assert private_kb(weights) > 0  # the compressed pages are the process's own
    # the entry is as small as the copy's: codes recomputed from the file's weights
    entry = next((tmp_path / "in-place").glob("*.safetensors"))
    copy_entry = next((tmp_path / "copy").glob("*.safetensors"))
    assert stored_forms(entry) == stored_forms(copy_entry)
    assert entry.stat().st_size == copy_entry.stat().st_size

    weights.use(NO_COMPRESSION)
    assert same(projections(model), dense)
    assert private_kb(weights) == 0  # given back: the file's pages again
    weights.use(report.compression)  # from the cache entry
    assert same(projections(model), expected)

    for entry in (tmp_path / "in-place").iterdir():
        entry.unlink()  # the entry gone: compressed again, to the same weights
    weights.use(NO_COMPRESSION)
    weights.use(report.compression)
    assert same(projections(model), expected)


def test_a_cached_entry_is_applied_in_place(tiny_dir, context, tmp_path):
    method = spec("magnitude", sparsity=0.5)
    first = load(tiny_dir, in_place=True)
    model, _ = compress_model(first, method, context, tmp_path, QUICK, in_place=True)
    expected = projections(model)
    again = load(tiny_dir, in_place=True)
    model, report = compress_model(again, method, context, tmp_path, QUICK, in_place=True)
    assert report.from_cache and model is again.model
    assert same(projections(model), expected)


def test_the_next_config_and_a_copy_start_from_the_dense_weights(tiny_dir, context, tmp_path):
    loaded = load(tiny_dir, in_place=True)
    dense = projections(loaded.model)
    compress_model(loaded, spec("magnitude", sparsity=0.5), context, tmp_path, QUICK, in_place=True)
    # latency times both side by side: a copy, compressed from the dense weights
    copy, _ = compress_model(loaded, spec("rtn", bits=8), context, tmp_path, in_place=True)
    assert copy is not loaded.model
    assert same(projections(loaded.model), dense)
    rtn_in_place, _ = compress_model(
        loaded, spec("rtn", bits=8), context, tmp_path / "b", QUICK, in_place=True
    )
    assert same(projections(rtn_in_place), projections(copy))


class _LazyMagnitude:
    """Cacheable, claims a target, prunes only q_proj: a shortfall after writing."""

    Options: ClassVar = MagnitudeOptions
    cacheable: ClassVar[bool] = True

    def compress(self, model, options, context) -> CompressionResult:
        prune_each(model, ("q_proj",), lambda _n, m: smallest_mask(m.weight.abs(), options.target))
        return pruning_result(model, options)


class _NewModel(_LazyMagnitude):
    """Cacheable, yet returns another model than the one it was given."""

    def compress(self, model, options, context) -> CompressionResult:
        return CompressionResult.measured(copy.deepcopy(model), options.target)


def test_a_failed_compression_leaves_a_state_that_restores(tiny_dir, context, tmp_path):
    loaded = load(tiny_dir, in_place=True)
    dense = projections(loaded.model)
    methods.register("lazy-in-place", _LazyMagnitude)
    methods.register("new-model", _NewModel)
    try:
        with pytest.raises(SparsityShortfallError):
            compress_model(
                loaded, spec("lazy-in-place", sparsity=0.5), context, tmp_path, QUICK, True
            )
        assert loaded.in_place.state == DIRTY
        assert not same(projections(loaded.model), dense)
        loaded.in_place.use(NO_COMPRESSION)
        assert same(projections(loaded.model), dense)
        with pytest.raises(TypeError, match="cacheable but returned another model"):
            compress_model(loaded, spec("new-model", sparsity=0.5), context, tmp_path, QUICK, True)
    finally:
        methods.unregister("lazy-in-place")
        methods.unregister("new-model")


def test_a_state_never_compressed_is_refused(tiny_dir):
    weights = load(tiny_dir, in_place=True).in_place
    with pytest.raises(RuntimeError, match="never compressed that way"):
        weights.use({"method": "magnitude", "options": {}})


def test_weights_not_mapped_from_a_file_are_compressed_as_a_copy(tiny_llama, tiny_dir):
    weights, reason = attach(tiny_llama.model)  # built in memory
    assert weights is None and "not mapped from a safetensors file" in reason
    converted = load(tiny_dir, in_place=True, dtype="bfloat16")
    assert converted.in_place is None and "not mapped" in converted.in_place_reason


def test_weights_whose_file_was_removed_after_loading_say_so(tiny_dir, tmp_path):
    """What a GGUF's scratch copy looks like once removed: attaching must happen in
    ``load_model``'s ``on_loaded``, while the file is there; later, the reason says why."""
    folder = tmp_path / "model"
    shutil.copytree(tiny_dir, folder)
    loaded = load(folder, in_place=False)
    (folder / "model.safetensors").unlink()
    weights, reason = attach(loaded.model)
    assert weights is None and reason == f"{folder / 'model.safetensors'} was removed after loading"


def test_in_place_can_be_turned_off(tiny_dir, monkeypatch):
    monkeypatch.setenv("BIAS_GATE_IN_PLACE", "0")
    loaded = load(tiny_dir, in_place=True)
    assert loaded.in_place is None and loaded.in_place_reason == "BIAS_GATE_IN_PLACE=0"


class _Halve:
    """Cacheable, and not idempotent: compressing twice is not compressing once."""

    Options: ClassVar = MagnitudeOptions
    cacheable: ClassVar[bool] = True

    def compress(self, model, options, context) -> CompressionResult:
        for module in projection_linears(model).values():
            module.weight.data.mul_(0.5)
        return CompressionResult.measured(model, None)


def test_an_entry_torn_after_some_tensors_starts_again_from_the_dense_weights(
    tiny_dir, context, tmp_path
):
    """The entry's last bytes gone: its first tensors were written into the model before
    the tear was found, so the model is restored before it is compressed again."""
    methods.register("halve", _Halve)
    try:
        first = load(tiny_dir, in_place=True)
        halve = spec("halve", sparsity=0.0)
        model, _ = compress_model(first, halve, context, tmp_path, QUICK, True)
        expected = projections(model)
        (entry,) = tmp_path.glob("*.safetensors")
        entry.write_bytes(entry.read_bytes()[:-64])
        again = load(tiny_dir, in_place=True)
        model, report = compress_model(again, halve, context, tmp_path, QUICK, True)
    finally:
        methods.unregister("halve")
    assert not report.from_cache
    assert same(projections(model), expected)


def test_the_dense_state_is_not_restored_again(tiny_dir):
    """Asking for the dense model while it is dense keeps its mapped pages (a restore
    would drop them, and every later forward pass would fault them back in)."""
    weights = load(tiny_dir, in_place=True).in_place
    calls = []
    weights.restore = lambda: calls.append("restore")  # type: ignore[method-assign]
    weights.use(NO_COMPRESSION)
    weights.use(NO_COMPRESSION)
    assert calls == []


def test_a_method_that_returns_the_dense_model_is_measured_in_the_dense_state(
    tiny_dir, context, tmp_path
):
    """``dense`` gives back the model it is given: asking for its state after another
    config was compressed in place restores the dense weights, and is no error."""
    loaded = load(tiny_dir, in_place=True)
    dense = projections(loaded.model)
    model, report = compress_model(loaded, spec("dense"), context, tmp_path, QUICK, True)
    assert model is loaded.model
    _, pruned = compress_model(
        loaded, spec("magnitude", sparsity=0.5), context, tmp_path, QUICK, True
    )
    loaded.in_place.use(report.compression)
    assert same(projections(loaded.model), dense)
    loaded.in_place.use(pruned.compression)
    assert not same(projections(loaded.model), dense)
