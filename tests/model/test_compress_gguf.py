"""The ``gguf`` method: a real GGUF file written from the embedded SmolLM2 GGUF by the
``gguf`` package's numpy quantizers (no llama.cpp needed), loaded back through the model
loader, its size on disk reported; and the one-line usage errors."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch

from bias_gate.compress import gguf_quant
from bias_gate.compress.base import CompressionContext
from bias_gate.compress.measure import MeasureSettings
from bias_gate.compress.methods import resolve_method
from bias_gate.compress.pipeline import compress_model
from bias_gate.compress.targets import projection_linears
from bias_gate.config.schema import CompressionSpec, default_model
from bias_gate.errors import BiasGateError, ConfigError
from bias_gate.llama.gguf_file import numpy_tensor_type, tensor_types
from bias_gate.models.loading import gguf_file

QUICK = MeasureSettings(sizes=False, latency=False)


def _options(**options):
    spec = CompressionSpec(name="q", method="gguf", options=options)
    return resolve_method(spec).options


def test_an_unknown_type_is_a_config_error_listing_the_llama_cpp_types():
    with pytest.raises(ConfigError, match=r"unknown GGUF type 'Q9_0'.*Q4_K_M"):
        _options(type="Q9_0")


def test_numpy_implements_the_legacy_types_and_not_the_k_quants():
    assert {t for t in ("Q8_0", "Q5_0", "Q5_1", "Q4_0", "Q4_1", "F16") if numpy_tensor_type(t)} == {
        "Q8_0",
        "Q5_0",
        "Q5_1",
        "Q4_0",
        "Q4_1",
        "F16",
    }
    assert numpy_tensor_type("Q4_K_M") is None and numpy_tensor_type("Q6_K") is None


def test_a_k_quant_without_llama_cpp_is_one_line_saying_how_to_install_it(monkeypatch):
    monkeypatch.setattr(gguf_quant, "llama_cpp_installed", lambda: False)
    with pytest.raises(BiasGateError) as caught:
        gguf_quant.chosen_quantizer(_options(type="Q4_K_M"))
    message = str(caught.value)
    assert "\n" not in message and "pip install 'pytest-bias-gate[llama]'" in message
    assert gguf_quant.chosen_quantizer(_options(type="Q8_0")) == "numpy"
    with pytest.raises(BiasGateError, match="quantizer llama_cpp needs llama-cpp-python"):
        gguf_quant.chosen_quantizer(_options(type="Q8_0", quantizer="llama_cpp"))


def test_the_numpy_quantizer_refuses_a_type_it_does_not_implement():
    with pytest.raises(BiasGateError, match="not implemented by the gguf package"):
        gguf_quant.chosen_quantizer(_options(type="Q5_K_M", quantizer="numpy"))


def test_a_dense_model_without_a_gguf_file_is_a_usage_error(tmp_path):
    context = CompressionContext(tokenizer=None, config_dir=tmp_path, artifact_dir=tmp_path)
    with pytest.raises(BiasGateError, match=r"model\.gguf or model\.package"):
        gguf_quant.artifact_path(_options(type="Q8_0", quantizer="numpy"), context)


@pytest.mark.slow
def test_q8_0_by_numpy_writes_a_real_gguf_that_answers_like_the_dense_model(
    smollm2, tmp_path, monkeypatch
):
    monkeypatch.setenv("BIAS_GATE_CACHE_DIR", str(tmp_path / "cache"))
    source = gguf_file(default_model())
    assert source is not None
    context = CompressionContext(
        tokenizer=smollm2.tokenizer,
        config_dir=tmp_path,
        dense_gguf=source,
        artifact_dir=tmp_path / "artifacts",
        cache_dir=tmp_path / "run-cache",
    )
    spec = CompressionSpec(name="q8", method="gguf", options={"type": "Q8_0", "quantizer": "numpy"})
    model, report = compress_model(
        smollm2, resolve_method(spec), context, tmp_path / "compressed", QUICK
    )
    # The file was dequantized in the run's cache, and no copy of it kept: not there,
    # not in the user's cache (it once kept 517 MB there per file).
    assert list((tmp_path / "run-cache" / "scratch").iterdir()) == []
    assert not (tmp_path / "cache").exists()

    artifact = Path(report.artifact_path or "")
    assert artifact.parent == tmp_path / "artifacts" and artifact.suffix == ".gguf"
    assert report.artifact_bytes == artifact.stat().st_size
    # Every matrix in Q8_0 (34 bytes per block of 32 weights), the norms in F32; the
    # rest of the file is the metadata (the tokenizer's 49,152 tokens and merges).
    types = Counter(tensor_types(artifact).values())
    assert types == {"Q8_0": 211, "F32": 61}
    params = list(smollm2.model.parameters())
    tensor_bytes = sum(p.numel() * 34 // 32 for p in params if p.dim() == 2) + sum(
        p.numel() * 4 for p in params if p.dim() == 1
    )
    assert 0 < report.artifact_bytes - tensor_bytes < 3_000_000

    # Loaded back: the projections are the dense weights rounded to 8 bits per block of
    # 32 (error at most half a step of max|w|/127, plus the step's own f16 rounding).
    for name, module in projection_linears(model).items():
        dense = smollm2.model.get_submodule(name).weight
        step = dense.reshape(-1, 32).abs().amax(dim=1, keepdim=True) / 127
        error = (module.weight.reshape(-1, 32) - dense.reshape(-1, 32)).abs()
        assert bool((error <= step * 0.6).all()), name
    assert not torch.equal(model.model.layers[0].mlp.up_proj.weight, dense_up(smollm2))

    ids = smollm2.tokenizer("The capital of France is", return_tensors="pt").input_ids
    with torch.no_grad():
        dense_logits = smollm2.model(ids).logits[0, -1]
        q8_logits = model(ids).logits[0, -1]
    assert int(dense_logits.argmax()) == int(q8_logits.argmax())
    assert 0 < float((dense_logits - q8_logits).abs().max()) < 1.0

    # A second run reuses the file instead of writing it again (a rewrite is a new file
    # renamed into place: a new inode; its modification time is the cache's last use).
    written = artifact.stat().st_ino
    options = resolve_method(spec).options
    assert gguf_quant.write_artifact(options, context) == artifact
    assert artifact.stat().st_ino == written


def dense_up(loaded) -> torch.Tensor:
    return loaded.model.model.layers[0].mlp.up_proj.weight
