"""Writing GGUF files with the ``gguf`` package: the dense weights as F32, and the
quantization types its numpy quantizers implement (the fallback when llama.cpp's own
quantizer is not installed).

A file is written from a source GGUF (the dense model's file): its metadata (the
architecture, hyper-parameters, tokenizer, chat template) is copied key by key, every
tensor is dequantized to float32 and written again in the new type. One-dimensional
tensors (the norms) and matrices whose rows do not split into whole blocks stay F32,
as llama.cpp keeps them. Writes are atomic: a temporary file, then a rename.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import (
    GGML_QUANT_SIZES,
    GGMLQuantizationType,
    GGUFReader,
    GGUFValueType,
    GGUFWriter,
    LlamaFileType,
)
from gguf.quants import dequantize, quantize

from bias_gate.cache import atomic_replace

#: Keys the writer sets itself, or that change with the new tensor types.
_OWN_KEYS = frozenset({"general.architecture", "general.file_type", "general.quantization_version"})


def file_type_names() -> list[str]:
    """Every llama.cpp file type a config may ask for, by its llama.cpp name
    (``F32``, ``F16``, ``Q8_0``, ``Q4_K_M``, ...)."""
    return [file_type_name(member) for member in LlamaFileType if member.name != "GUESSED"]


def file_type_name(file_type: LlamaFileType) -> str:
    """``MOSTLY_Q4_K_M`` -> ``Q4_K_M``; ``ALL_F32`` -> ``F32``."""
    return file_type.name.removeprefix("MOSTLY_").removeprefix("ALL_")


def file_type(name: str) -> LlamaFileType:
    """The :class:`LlamaFileType` named ``name`` (as :func:`file_type_names` spells it)."""
    for member in LlamaFileType:
        if member.name != "GUESSED" and file_type_name(member) == name:
            return member
    raise KeyError(name)


def numpy_tensor_type(name: str) -> GGMLQuantizationType | None:
    """The tensor type the numpy fallback writes for file type ``name``, or ``None``
    when the ``gguf`` package cannot quantize to it (the K-quants and i-quants, which
    need llama.cpp)."""
    tensor_type = getattr(GGMLQuantizationType, name, None)
    if tensor_type is None:
        return None
    block, _ = GGML_QUANT_SIZES[tensor_type]
    try:
        quantize(np.zeros((1, block), dtype=np.float32), tensor_type)
    except NotImplementedError:
        return None
    return tensor_type


def _copy_metadata(reader: GGUFReader, writer: GGUFWriter) -> None:
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in _OWN_KEYS:
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == GGUFValueType.ARRAY else None
        writer.add_key_value(key, field.contents(), value_type, sub_type=sub_type)


def _stored_type(array: np.ndarray, wanted: GGMLQuantizationType) -> GGMLQuantizationType:
    block, _ = GGML_QUANT_SIZES[wanted]
    if array.ndim < 2 or array.shape[-1] % block:
        return GGMLQuantizationType.F32
    return wanted


def write_gguf(
    source: Path,
    target: Path,
    tensor_type: GGMLQuantizationType,
    kind: LlamaFileType,
) -> int:
    """Write ``source``'s model to ``target`` with its matrices in ``tensor_type``
    (``F32`` for the dense file) and ``general.file_type`` ``kind``; returns the size
    of the file written, in bytes."""
    reader = GGUFReader(source)
    architecture = str(reader.fields["general.architecture"].contents())

    def write(tmp: Path) -> None:
        writer = GGUFWriter(tmp, architecture)
        _copy_metadata(reader, writer)
        writer.add_file_type(int(kind))
        writer.add_quantization_version(2)
        for tensor in reader.tensors:
            weights = dequantize(tensor.data, tensor.tensor_type).astype(np.float32)
            stored = _stored_type(weights, tensor_type)
            writer.add_tensor(tensor.name, quantize(weights, stored), raw_dtype=stored)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()

    atomic_replace(target, write)
    return target.stat().st_size


def tensor_types(path: Path) -> dict[str, str]:
    """Each tensor's stored type in the GGUF file ``path``, by tensor name."""
    return {tensor.name: tensor.tensor_type.name for tensor in GGUFReader(path).tensors}
