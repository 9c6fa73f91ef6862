"""The memory paths of compression (issue 27): the compressed copy shares what it cannot
change, layer-by-layer Wanda equals a whole-model reference, and other dtypes run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bias_gate.compress.calibration import calibration_ids
from bias_gate.compress.pipeline import compress_model, working_copy
from bias_gate.compress.targets import decoder_layers, layer_linears, projection_linears
from bias_gate.compress.wanda import WandaOptions, wanda_mask
from bias_gate.config.schema import ModelSpec
from bias_gate.models.loading import load_model
from tests.support.compress import CALIBRATION, QUICK, spec


def storages(model: torch.nn.Module) -> dict[str, int]:
    return {name: p.data_ptr() for name, p in model.named_parameters(remove_duplicate=False)}


@pytest.mark.parametrize(
    "method, options",
    [
        ("magnitude", {"sparsity": 0.5}),
        ("wanda", {"sparsity": 0.5, "calibration": CALIBRATION}),
        ("rtn", {"bits": 4, "group_size": 32}),
    ],
)
def test_compressed_copy_shares_all_but_the_projections_and_leaves_dense_alone(
    tiny_llama, context, tmp_path, method, options
):
    dense = tiny_llama.model
    before = {k: v.clone() for k, v in dense.state_dict().items()}
    model, _ = compress_model(tiny_llama, spec(method, **options), context, tmp_path, QUICK)
    projections = {f"{name}.weight" for name in projection_linears(dense)}
    mine, theirs = storages(dense), storages(model)
    assert mine.keys() == theirs.keys()
    for name in mine:
        # the projections are the compressed model's own; the rest is the dense tensors
        assert (mine[name] == theirs[name]) == (name not in projections), name
    assert model.get_input_embeddings().weight is dense.get_input_embeddings().weight
    for key, value in dense.state_dict().items():
        assert torch.equal(value, before[key]), key
    changed = [n for n in projections if not torch.equal(model.get_parameter(n), before[n])]
    assert len(changed) == len(projections)


def test_a_method_that_may_change_anything_gets_a_full_copy(tiny_llama):
    copied = working_copy(tiny_llama.model, only_projections=False)
    assert not set(storages(copied).values()) & set(storages(tiny_llama.model).values())


def _reference_wanda(model: torch.nn.Module, ids: torch.Tensor, options: WandaOptions) -> None:
    """Wanda as a whole-model loop: for each block in turn, run the whole (partly
    pruned) model on every calibration sample and record that block's input norms."""
    for layer in decoder_layers(model):
        linears = layer_linears(layer, options.targets)
        sums = {n: torch.zeros(m.in_features, dtype=torch.float64) for n, m in linears.items()}

        def hook(name, sums=sums):
            def record(_module, inputs, _output):
                x = inputs[0].reshape(-1, inputs[0].shape[-1]).float()
                sums[name] += x.pow(2).sum(0).double()

            return record

        handles = [m.register_forward_hook(hook(n)) for n, m in linears.items()]
        with torch.no_grad():
            for batch in ids.split(options.calibration.batch_size):
                model(input_ids=batch, use_cache=False)
        for handle in handles:
            handle.remove()
        for name, module in linears.items():
            mask = wanda_mask(module.weight, sums[name], options.target, options.parsed_pattern)
            module.weight.data[mask] = 0


def test_layer_by_layer_wanda_prunes_as_the_whole_model_reference(tiny_llama, context, tmp_path):
    method = spec("wanda", sparsity=0.5, calibration=CALIBRATION)
    model, _ = compress_model(tiny_llama, method, context, tmp_path, QUICK)
    reference = working_copy(tiny_llama.model, only_projections=True)
    options = method.options
    ids = calibration_ids(
        tiny_llama.tokenizer, options.calibration, options.seed, context.data_dir, Path.cwd()
    )
    _reference_wanda(reference, ids, options)
    for name, module in projection_linears(reference).items():
        pruned = model.get_submodule(name).weight == 0
        assert torch.equal(pruned, module.weight == 0), name


@pytest.mark.parametrize(
    "dtype, method, options",
    [
        ("bfloat16", "wanda", {"sparsity": 0.5, "calibration": CALIBRATION}),
        ("float16", "rtn", {"bits": 8}),
    ],
)
def test_a_model_loads_and_compresses_in_the_configured_dtype(
    tiny_dir, context, tmp_path, dtype, method, options
):
    loaded = load_model(ModelSpec(path=tiny_dir, dtype=dtype), cache_dir=tmp_path)
    wanted = getattr(torch, dtype)
    assert {p.dtype for p in loaded.model.parameters()} == {wanted}
    fp32 = load_model(ModelSpec(path=tiny_dir), cache_dir=tmp_path)
    assert loaded.fingerprint != fp32.fingerprint  # the dtype is part of the identity
    model, report = compress_model(loaded, spec(method, **options), context, tmp_path, QUICK)
    assert {p.dtype for p in model.parameters()} == {wanted}
    if method == "wanda":
        assert report.achieved_sparsity == pytest.approx(0.5, abs=1e-3)
    logits = model(input_ids=torch.tensor([[1, 2, 3]])).logits
    assert logits.dtype == wanted and torch.isfinite(logits).all()


def test_a_method_that_never_changes_its_model_gets_the_dense_model_itself(
    tiny_llama, context, tmp_path
):
    from bias_gate.compress import methods

    model, report = compress_model(tiny_llama, spec("dense"), context, tmp_path, QUICK)
    assert model is tiny_llama.model and report.achieved_sparsity == 0.0
    flags = {name: getattr(methods.get(name), "needs_copy", True) for name in methods.available()}
    assert {name for name, needed in flags.items() if not needed} >= {
        "dense",
        "gguf",
        "checkpoint",
    }
    assert flags["magnitude"] and flags["wanda"] and flags["rtn"] and flags["torchao"]
