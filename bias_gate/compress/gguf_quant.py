"""``gguf``: the artifact that ships. The dense model's GGUF file is written again in a
llama.cpp quantization type (``Q8_0``, ``Q5_K_M``, ``Q4_K_M``, ...) and the gate
answers with that file's weights.

The quantizer is llama.cpp's own (``llama_model_quantize`` through llama-cpp-python,
the ``pytest-bias-gate[llama]`` extra; every type, K-quants included): the dense weights are
first written as an F32 GGUF, which llama.cpp then quantizes. Without llama.cpp the
``gguf`` package's numpy quantizers write the types they implement (``Q8_0``, ``Q5_0``,
``Q5_1``, ``Q4_0``, ``Q4_1``, ``BF16``, ``F16``, ...): every matrix in that type, the
norms in F32. The file is loaded back through the model loader (transformers' GGUF
dequantization), and its size on disk is the storage the report shows.

Files are kept under ``artifact_dir`` (default ``cache_root() / "artifacts"``), named by
the dense file's content, the type, the quantizer and its version, so a second run
reuses them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
from pydantic import field_validator

from bias_gate.cache import cache_root
from bias_gate.cache_usage import mark_used
from bias_gate.compress.base import CompressionContext, CompressionResult, CompressorOptions
from bias_gate.config.schema import ModelSpec
from bias_gate.errors import BiasGateError
from bias_gate.fingerprint import cached_file_digest, installed_version
from bias_gate.llama.available import INSTALL, llama_cpp_installed, llama_cpp_version
from bias_gate.llama.gguf_file import (
    GGMLQuantizationType,
    file_type,
    file_type_names,
    numpy_tensor_type,
    write_gguf,
)

Quantizer = Literal["auto", "llama_cpp", "numpy"]


class GGUFOptions(CompressorOptions):
    """Options of ``gguf``: ``type``, a llama.cpp quantization type (``Q8_0``,
    ``Q4_K_M``, ...); ``quantizer``: ``llama_cpp``, ``numpy`` (the ``gguf`` package's
    quantizers) or ``auto`` (llama.cpp when installed, else numpy)."""

    type: str
    quantizer: Quantizer = "auto"

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in file_type_names():
            raise ValueError(
                f"unknown GGUF type {value!r}; llama.cpp types: {', '.join(file_type_names())}"
            )
        return value


def chosen_quantizer(options: GGUFOptions) -> str:
    """``llama_cpp`` or ``numpy``: what quantizes ``options.type`` here; a
    :class:`BiasGateError` (one line, saying how to install llama.cpp) when neither can."""
    numpy_can = numpy_tensor_type(options.type) is not None
    if options.quantizer == "numpy" and not numpy_can:
        raise BiasGateError(
            f"GGUF type {options.type} is not implemented by the gguf package's numpy "
            f"quantizers; use quantizer: llama_cpp ({INSTALL})",
            key="quantizer",
        )
    if options.quantizer == "numpy" or (options.quantizer == "auto" and not llama_cpp_installed()):
        if numpy_can:
            return "numpy"
        raise BiasGateError(
            f"GGUF type {options.type} needs llama.cpp's quantizer: {INSTALL}", key="type"
        )
    if not llama_cpp_installed():
        raise BiasGateError(
            f"quantizer llama_cpp needs llama-cpp-python: {INSTALL}", key="quantizer"
        )
    return "llama_cpp"


def _quantizer_version(quantizer: str) -> str:
    version = llama_cpp_version() if quantizer == "llama_cpp" else installed_version("gguf")
    return str(version)


def _source(context: CompressionContext) -> Path:
    if context.dense_gguf is None:
        raise BiasGateError(
            "method gguf writes its file from the dense model's GGUF file: give the model "
            "as model.gguf or model.package",
            key="method",
        )
    return context.dense_gguf


def artifact_path(options: GGUFOptions, context: CompressionContext) -> Path:
    """Where the quantized file for ``options`` is (or will be) kept."""
    quantizer = chosen_quantizer(options)
    digest = cached_file_digest(_source(context))[:16]
    version = _quantizer_version(quantizer)
    root = context.artifact_dir or cache_root() / "artifacts"
    return root / f"{digest}-{options.type}-{quantizer}-{version}.gguf"


def dense_gguf_path(context: CompressionContext) -> Path:
    """Where the dense model is kept as an F32 GGUF (what llama.cpp quantizes, and what
    the llama.cpp runtime answers with for the dense model)."""
    digest = cached_file_digest(_source(context))[:16]
    version = installed_version("gguf")
    root = context.artifact_dir or cache_root() / "artifacts"
    return root / f"{digest}-F32-gguf-{version}.gguf"


def write_dense_gguf(context: CompressionContext) -> Path:
    """The dense model as an F32 GGUF file, written once (lossless: the dense weights are
    the source file's, dequantized to float32, exactly as the torch engine loads them)."""
    path = dense_gguf_path(context)
    if path.is_file():
        mark_used(path)
    else:
        write_gguf(_source(context), path, GGMLQuantizationType.F32, file_type("F32"))
    return path


def write_artifact(options: GGUFOptions, context: CompressionContext) -> Path:
    """The quantized GGUF file for ``options``, written once (reused when present)."""
    path = artifact_path(options, context)
    if path.is_file():
        mark_used(path)  # what least-recently-used eviction orders by
        return path
    if chosen_quantizer(options) == "llama_cpp":
        from bias_gate.llama.quantize import llama_quantize

        llama_quantize(write_dense_gguf(context), path, options.type)
    else:
        tensor_type = numpy_tensor_type(options.type)
        assert tensor_type is not None
        write_gguf(_source(context), path, tensor_type, file_type(options.type))
    return path


class GGUFCompressor:
    """Write the dense model's GGUF in ``type`` and load that file back to answer."""

    Options: ClassVar[type[GGUFOptions]] = GGUFOptions
    cacheable: ClassVar[bool] = False
    #: Never changes the model it is given: no copy is made for it.
    needs_copy: ClassVar[bool] = False

    def fingerprint_inputs(self, options: GGUFOptions, context: CompressionContext) -> list[Any]:
        """The quantizer that writes the file and its version (llama.cpp's K-quant mixes
        and the numpy quantizers' rounding differ)."""
        quantizer = chosen_quantizer(options)
        return [{"quantizer": quantizer, "version": _quantizer_version(quantizer)}]

    def runs_as_gguf(self, options: GGUFOptions) -> bool:
        """The file this method writes is what llama.cpp runs."""
        return True

    def compress(
        self, model: torch.nn.Module, options: GGUFOptions, context: CompressionContext
    ) -> CompressionResult:
        from bias_gate.models.loading import load_model

        path = write_artifact(options, context)
        # Dequantized in the run's cache, never the user's (issue 26, finding 4).
        loaded = load_model(
            ModelSpec(gguf=path), device=context.device, cache_dir=context.cache_dir
        )
        size = path.stat().st_size
        quantizer = chosen_quantizer(options)
        note = (
            f"GGUF {options.type} by {quantizer} {_quantizer_version(quantizer)}: "
            f"{path.name}, {size} bytes on disk"
        )
        result = CompressionResult.measured(loaded.model, None, [note])
        result.artifact = path
        return result
