"""Quantizing a GGUF file with llama.cpp's own quantizer (``llama_model_quantize``):
every llama.cpp type, K-quants and their per-tensor mixes included."""

from __future__ import annotations

import ctypes
from pathlib import Path

from bias_gate.cache import atomic_replace
from bias_gate.errors import BiasGateError
from bias_gate.llama.available import require_llama_cpp
from bias_gate.llama.gguf_file import file_type


def llama_quantize(source: Path, target: Path, type_name: str, threads: int = 0) -> int:
    """Quantize the GGUF file ``source`` (F32 or F16) to ``type_name`` (``Q4_K_M``, ...)
    into ``target``, atomically; returns the size of ``target`` in bytes.
    ``threads``: 0 lets llama.cpp use every core."""
    llama_cpp = require_llama_cpp(f"GGUF type {type_name} by llama.cpp", key="type")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_{file_type(type_name).name}")
    params.nthread = threads

    def write(tmp: Path) -> None:
        status = llama_cpp.llama_model_quantize(
            str(source).encode(), str(tmp).encode(), ctypes.byref(params)
        )
        if status != 0:
            raise BiasGateError(
                f"llama.cpp could not quantize {source.name} to {type_name} (status {status})",
                key="type",
            )

    atomic_replace(target, write)
    return target.stat().st_size
