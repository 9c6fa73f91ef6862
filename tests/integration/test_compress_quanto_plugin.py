"""The optimum-quanto plug-in under plugins/: registered like a built-in, quantizes only
the decoder projections. Skipped where optimum-quanto is not installed."""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import pytest
import torch

from tests.conftest import ROOT

pytest.importorskip("optimum.quanto")

PLUGIN_DIR = ROOT / "plugins" / "bias-gate-quanto"


@pytest.fixture
def plugin():
    sys.path.insert(0, str(PLUGIN_DIR))
    try:
        import bias_gate_quanto

        yield bias_gate_quanto
    finally:
        sys.path.remove(str(PLUGIN_DIR))


@pytest.mark.parametrize("weights", ["int8", "int4"])
def test_quanto_plugin_quantizes_only_the_projections(plugin, tiny_llama, weights):
    from bias_gate.compress import methods
    from bias_gate.compress.base import CompressionContext
    from bias_gate.compress.targets import projection_linears

    methods.register("quanto", plugin.QuantoCompressor)
    try:
        compressor = methods.get("quanto")
        model = copy.deepcopy(tiny_llama.model)
        options = compressor.Options.model_validate({"weights": weights})
        context = CompressionContext(tokenizer=tiny_llama.tokenizer, config_dir=Path.cwd())
        result = compressor().compress(model, options, context)
    finally:
        methods.unregister("quanto")
    for name, module in projection_linears(model).items():
        assert (
            "QBytesTensor" in type(module.weight).__name__
            or "QBits" in type(module.weight).__name__
        ), name
    assert type(model.lm_head.weight) is torch.nn.Parameter
    ids = torch.arange(1, 17).unsqueeze(0)
    dense = tiny_llama.model(input_ids=ids).logits
    quantized = model(input_ids=ids).logits
    tolerance = 0.05 if weights == "int8" else 0.5
    assert (quantized - dense).abs().max() < tolerance
    assert result.target_sparsity is None
    assert any("optimum-quanto" in note for note in result.notes)
