"""The cache's file of one config's compressed weights: each tensor in the smallest
form that gives it back bit for bit.

The file is a safetensors file (format ``bias-gate-weights-v2``); its metadata
``tensors`` says, for every stored tensor, its form, shape and dtype:

* ``masked``: the dense weights with some (or none) set to zero (what pruning does,
  and a projection left as it was): only the bitmask ``<name>::mask`` (1 = kept, 8 per
  byte); the kept values are read from the dense model, which the entry's key names
  (its fingerprint, dtype included);
* ``packed``: integer codes (``<name>::codes``, ``::scale``, ``::zero`` unless all
  zeros; see
  :mod:`bias_gate.compress.int_pack`), for quantized weights;
* ``sparse``: bitmask plus the nonzero values (:mod:`bias_gate.compress.storage`), for
  sparse weights that are not the dense ones;
* ``plain``: the tensor as it is.

Every form is checked when written: the tensor it decodes to must equal the compressed
one bit for bit, or the next form is tried (``plain`` always holds). A file of the older
format (``bias-gate-bitmask-v1``) is still read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import safe_open

from bias_gate.compress.int_pack import Packed, dequantize, unpack
from bias_gate.compress.storage import FORMAT as BITMASK_V1
from bias_gate.compress.storage import (
    atomic_save_streamed,
    kept_bits,
    load_sparse,
    read_header,
    read_tensor,
    sparse_pays,
)

FORMAT = "bias-gate-weights-v2"
_PARTS = ("mask", "values", "codes", "scale", "zero")
_INT = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    """``a`` and ``b`` are the same bits (``-0.0`` differs from ``0.0``; NaNs compare)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if not a.is_floating_point():
        return torch.equal(a, b)
    view = _INT[a.element_size()]
    return torch.equal(a.contiguous().view(view), b.contiguous().view(view))


def _bits(kept: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.packbits(kept.reshape(-1).numpy(), bitorder="little"))


def _unbits(bits: torch.Tensor, numel: int) -> torch.Tensor:
    kept = np.unpackbits(bits.numpy(), count=numel, bitorder="little")
    return torch.from_numpy(kept.view(bool))


def _masked(kept: torch.Tensor, dense: torch.Tensor) -> torch.Tensor:
    """``dense`` where ``kept``, +0.0 elsewhere (``torch.where``: no index lists)."""
    return torch.where(kept.reshape(dense.shape), dense, torch.zeros((), dtype=dense.dtype))


def _encode_one(
    name: str, tensor: torch.Tensor, dense: torch.Tensor | None, packed: Packed | None
) -> tuple[str, dict[str, torch.Tensor]]:
    """The smallest form of ``tensor`` that decodes to it bit for bit, and its entries."""
    if packed is not None and same_bits(dequantize(unpack(packed, tensor.dtype)), tensor):
        stored = {f"{name}::codes": packed.codes, f"{name}::scale": packed.scale}
        if packed.zero is not None:
            stored[f"{name}::zero"] = packed.zero
        return "packed", stored
    if (
        dense is not None
        and tensor.is_floating_point()
        and same_bits(_masked(kept_bits(tensor), dense), tensor)
    ):
        return "masked", {f"{name}::mask": _bits(kept_bits(tensor))}
    if sparse_pays(tensor):
        kept = kept_bits(tensor).reshape(-1)
        values = tensor.reshape(-1)[kept].contiguous()
        return "sparse", {f"{name}::mask": _bits(kept), f"{name}::values": values}
    return "plain", {name: tensor.contiguous()}


def save_weights(
    path: Path,
    tensors: Mapping[str, torch.Tensor],
    dense: Mapping[str, torch.Tensor],
    packed: Mapping[str, Packed] | None = None,
) -> int:
    """Write ``tensors`` (compressed weights by parameter name) in their smallest exact
    forms, given the ``dense`` weights they came from and any ``packed`` integer codes;
    atomic. Each tensor is encoded and written before the next is asked for (``dense``
    and ``packed`` may make theirs on demand), so one is held at a time. Returns the
    file's size in bytes."""
    packed = packed or {}
    forms: dict[str, dict[str, Any]] = {}

    def entries() -> Iterator[tuple[str, torch.Tensor]]:
        for name, tensor in tensors.items():
            code = packed.get(name)
            form, stored = _encode_one(name, tensor, dense.get(name), code)
            yield from stored.items()
            info: dict[str, Any] = {
                "form": form,
                "shape": list(tensor.shape),
                "dtype": str(tensor.dtype).removeprefix("torch."),
            }
            if form == "packed" and code is not None:
                info.update(bits=code.bits, offset=code.offset, codes_shape=code.shape)
            forms[name] = info

    def metadata() -> dict[str, str]:
        return {"format": FORMAT, "tensors": json.dumps(forms)}

    return atomic_save_streamed(entries(), path, metadata)


def _decode(
    name: str, info: dict[str, Any], raw: dict[str, torch.Tensor], dense: torch.Tensor | None
) -> torch.Tensor:
    shape, dtype = info["shape"], getattr(torch, info["dtype"])
    numel = int(np.prod(shape)) if shape else 1
    form = info["form"]
    if form == "plain":
        return raw[name]
    if form == "packed":
        packed = Packed(
            raw[f"{name}::codes"],
            raw[f"{name}::scale"],
            raw.get(f"{name}::zero"),
            int(info["bits"]),
            int(info["offset"]),
            list(info["codes_shape"]),
        )
        return dequantize(unpack(packed, dtype)).reshape(shape)
    kept = _unbits(raw[f"{name}::mask"], numel)
    if form == "masked":
        if dense is None:
            raise ValueError(f"{name} is stored as a mask of the dense weights, which are missing")
        return _masked(kept, dense)
    full = torch.zeros(numel, dtype=dtype)
    full[kept] = raw[f"{name}::values"]
    return full.reshape(shape)


def load_weights(path: Path, dense: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The tensors :func:`save_weights` wrote, bit for bit (``dense``: the same dense
    weights it was given); also reads the older bitmask format."""
    return dict(iter_weights(path, dense))


def iter_weights(
    path: Path, dense: Mapping[str, torch.Tensor]
) -> Iterator[tuple[str, torch.Tensor]]:
    """:func:`load_weights` one tensor at a time: each is read (into memory of its own,
    :func:`bias_gate.compress.storage.read_tensor`) and decoded when asked for, so one
    is held at a time; ``dense`` is asked for the same way."""
    with path.open("rb") as handle:
        header, start = read_header(handle)
        metadata = header.get("__metadata__") or {}
        if metadata.get("format") == BITMASK_V1:
            yield from load_sparse(path).items()
            return
        if metadata.get("format") != FORMAT:
            raise ValueError(f"{path} is not a {FORMAT} file")
        forms = json.loads(metadata["tensors"])
        for name, info in forms.items():
            raw = {
                key: read_tensor(handle, header[key], start)
                for key in (name, *(f"{name}::{part}" for part in _PARTS))
                if key in header
            }
            masked = info["form"] == "masked"
            yield name, _decode(name, info, raw, dense.get(name) if masked else None)


def stored_forms(path: Path) -> dict[str, str]:
    """Each tensor's form in a weights file (what ``bias-gate cache ls`` shows)."""
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    if metadata.get("format") == BITMASK_V1:
        return {name: "sparse" for name in json.loads(metadata.get("sparse", "{}"))}
    forms = json.loads(metadata.get("tensors", "{}"))
    return {name: str(info.get("form")) for name, info in forms.items()}
