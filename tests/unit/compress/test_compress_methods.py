"""Each pruning method on a tiny random Llama: exact counts, targets, seeds, untouched
embeddings and LM head, the study variant's confound, option errors."""

from __future__ import annotations

import copy

import pytest
import torch
from pydantic import ValidationError

from bias_gate.compress import methods
from bias_gate.compress.sparsity import measure_sparsity
from bias_gate.compress.targets import PROJECTIONS, projection_linears
from bias_gate.compress.wanda import STUDY_TARGETS

SMALL_CALIBRATION = {"samples": 4, "seq_len": 64, "batch_size": 2}


def run(method: str, model, context, **options):
    compressor = methods.get(method)
    return compressor().compress(model, compressor.Options.model_validate(options), context)


def wanda_options(**extra):
    return {"calibration": SMALL_CALIBRATION, **extra}


def weights(model) -> dict[str, torch.Tensor]:
    return {
        name: module.weight.detach().clone() for name, module in projection_linears(model).items()
    }


@pytest.mark.parametrize(
    ("method", "options"),
    [
        ("random", {"sparsity": 0.5}),
        ("magnitude", {"sparsity": 0.5}),
        ("magnitude", {"pattern": "2:4"}),
        ("wanda", wanda_options(sparsity=0.5)),
        ("wanda", wanda_options(pattern="4:8")),
        ("wanda", wanda_options(sparsity=0.3, sequential=False)),
    ],
)
def test_every_projection_reaches_the_target_and_nothing_else_changes(
    tiny_llama, context, method, options
):
    model = copy.deepcopy(tiny_llama.model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = run(method, model, context, **options)
    # Per-row counts are floor(in_features * s): 0.3 of 64 inputs is 19 (0.297).
    target = result.target_sparsity
    assert result.achieved_sparsity == pytest.approx(target, abs=1 / 64)
    assert result.achieved_sparsity <= target
    assert len(result.per_layer) == 7 * 2
    assert all(value == pytest.approx(target, abs=1 / 64) for value in result.per_layer.values())
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert changed == {f"{name}.weight" for name in projection_linears(model)}
    assert torch.equal(model.get_input_embeddings().weight, before["model.embed_tokens.weight"])
    assert model.lm_head.weight.data_ptr() == model.get_input_embeddings().weight.data_ptr()


def test_wanda_prunes_exactly_floor_in_features_s_per_row(tiny_llama, context):
    model = copy.deepcopy(tiny_llama.model)
    run("wanda", model, context, **wanda_options(sparsity=0.37))
    for module in projection_linears(model).values():
        zeros = (module.weight == 0).sum(dim=1)
        assert (zeros == int(module.in_features * 0.37)).all()


@pytest.mark.parametrize("method", ["magnitude", "wanda"])
@pytest.mark.parametrize(("n", "m"), [(2, 4), (4, 8)])
def test_n_m_has_exactly_n_zeros_in_each_block(tiny_llama, context, method, n, m):
    model = copy.deepcopy(tiny_llama.model)
    options = {"pattern": f"{n}:{m}"}
    run(method, model, context, **(wanda_options(**options) if method == "wanda" else options))
    for module in projection_linears(model).values():
        blocks = (module.weight == 0).reshape(module.out_features, -1, m)
        assert (blocks.sum(dim=2) == n).all()


def test_magnitude_uses_one_threshold_per_matrix(tiny_llama, context):
    dense = weights(tiny_llama.model)
    model = copy.deepcopy(tiny_llama.model)
    run("magnitude", model, context, sparsity=0.5)
    for name, module in projection_linears(model).items():
        pruned = module.weight == 0
        original = dense[name].abs()
        assert original[pruned].max() <= original[~pruned].min()


def test_wanda_mask_differs_from_magnitude_because_activations_matter(tiny_llama, context):
    by_magnitude, by_wanda = copy.deepcopy(tiny_llama.model), copy.deepcopy(tiny_llama.model)
    run("magnitude", by_magnitude, context, pattern="2:4")
    run("wanda", by_wanda, context, **wanda_options(pattern="2:4"))
    a, b = weights(by_magnitude), weights(by_wanda)
    assert any(not torch.equal(a[k] == 0, b[k] == 0) for k in a)


@pytest.mark.parametrize(
    ("method", "options"),
    [("random", {"sparsity": 0.5}), ("wanda", wanda_options(sparsity=0.5))],
)
def test_seeds_reproduce_masks(tiny_llama, context, method, options):
    masks = []
    for seed in (1, 1, 2):
        model = copy.deepcopy(tiny_llama.model)
        run(method, model, context, seed=seed, **options)
        masks.append({k: v == 0 for k, v in weights(model).items()})
    assert all(torch.equal(masks[0][k], masks[1][k]) for k in masks[0])
    assert any(not torch.equal(masks[0][k], masks[2][k]) for k in masks[0])


def test_sequential_wanda_differs_from_one_pass(tiny_llama, context):
    sequential, one_pass = copy.deepcopy(tiny_llama.model), copy.deepcopy(tiny_llama.model)
    run("wanda", sequential, context, **wanda_options(sparsity=0.5))
    run("wanda", one_pass, context, **wanda_options(sparsity=0.5, sequential=False))
    a, b = weights(sequential), weights(one_pass)
    first_layer = [k for k in a if ".layers.0." in k]
    later = [k for k in a if ".layers.0." not in k]
    # Layer 0 sees the same (unpruned) input either way; layer 1 does not.
    assert all(torch.equal(a[k] == 0, b[k] == 0) for k in first_layer)
    assert any(not torch.equal(a[k] == 0, b[k] == 0) for k in later)


def test_subset_targets_leave_the_rest_dense_and_report_the_real_figure(tiny_llama, context):
    model = copy.deepcopy(tiny_llama.model)
    result = run("magnitude", model, context, sparsity=0.5, targets=["q_proj", "up_proj"])
    for name, value in result.per_layer.items():
        expected = 0.5 if name.endswith(("q_proj", "up_proj")) else 0.0
        assert value == pytest.approx(expected)
    assert result.achieved_sparsity < 0.5
    assert any("only q_proj, up_proj pruned" in note for note in result.notes)


def smollm2_shaped_llama(tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=576,
        intermediate_size=1536,
        num_hidden_layers=1,
        num_attention_heads=9,
        num_key_value_heads=3,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config).eval()


def test_study_variant_leaves_o_and_down_dense_and_reports_a_third(tiny_llama, context):
    model = smollm2_shaped_llama(tiny_llama.tokenizer)
    result = run(
        "wanda", model, context, sparsity=0.5, variant="study", calibration=SMALL_CALIBRATION
    )
    for name, value in result.per_layer.items():
        expected = 0.0 if name.endswith(("o_proj", "down_proj")) else 0.5
        assert value == pytest.approx(expected)
    # q,k,v,gate,up hold 2,322,432 of SmolLM2's 3,538,944 projection weights per block.
    assert result.achieved_sparsity == pytest.approx(0.5 * 2322432 / 3538944)
    assert round(result.achieved_sparsity, 3) == 0.328
    assert any("o_proj and down_proj stay dense" in note for note in result.notes)


def test_study_preset_sets_its_targets_and_one_pass():
    options = methods.get("wanda").Options.model_validate({"sparsity": 0.5, "variant": "study"})
    assert options.targets == STUDY_TARGETS
    assert options.sequential is False
    assert options.is_subset


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("random", {"sparsity": 1.0}, "sparsity must be a fraction in [0, 1)"),
        ("magnitude", {"sparsity": -0.1}, "sparsity must be a fraction in [0, 1)"),
        ("wanda", {"sparsity": 50}, "a fraction, not a percent"),
        ("random", {}, "sparsity is required"),
        ("magnitude", {"pattern": "2:4", "sparsity": 0.6}, "contradicts it"),
        ("magnitude", {"pattern": "4:2"}, "pattern must be 'unstructured' or 'N:M'"),
        ("wanda", {"sparsity": 0.5, "variant": "study", "targets": ["q_proj"]}, "leave targets"),
        ("wanda", {"sparsity": 0.5, "variant": "study", "sequential": True}, "non-sequential"),
        ("random", {"sparsity": 0.5, "targets": ["lm_head"]}, "q_proj"),
        ("random", {"sparsity": 0.5, "targets": ["q_proj", "q_proj"]}, "must not repeat"),
        ("dense", {"sparsity": 0.5}, "sparsity must be 0"),
        ("rtn", {"bits": 3}, "4 or 8"),
        ("random", {"sparsity": 0.5, "unknown": 1}, "Extra inputs"),
    ],
)
def test_bad_options_are_rejected_with_a_clear_message(method, options, message):
    with pytest.raises(ValidationError) as info:
        methods.get(method).Options.model_validate(options)
    assert message in str(info.value)


def test_n_m_pattern_implies_its_sparsity():
    options = methods.get("magnitude").Options.model_validate({"pattern": "4:8"})
    assert options.sparsity == 0.5
    assert methods.get("wanda").Options.model_validate({"pattern": "1:4"}).sparsity == 0.25


def test_every_builtin_method_is_registered_through_entry_points():
    for name in ("dense", "random", "magnitude", "wanda", "rtn", "torchao", "checkpoint"):
        assert name in methods.available()
        assert hasattr(methods.get(name), "Options")


def test_measure_sparsity_covers_all_seven_projections(tiny_llama):
    measured = measure_sparsity(tiny_llama.model)
    assert measured.total == sum(
        m.weight.numel() for m in projection_linears(tiny_llama.model).values()
    )
    assert {name.rsplit(".", 1)[-1] for name in measured.per_layer} == set(PROJECTIONS)
