"""Saving weights: plain safetensors, and a sparse bitmask format that really stores less.

The bitmask format is a safetensors file. A tensor stored sparse becomes two entries:
``<name>::mask`` (one bit per weight, 1 = kept, packed 8 per byte, C order) and
``<name>::values`` (the kept weights in order, original dtype); its shape and dtype are
in the file's metadata. A tensor is stored sparse only when that is smaller
(``numel / 8 + kept * itemsize < numel * itemsize``); others are stored as they are.
Reading back gives the tensors bit for bit.

All writes are atomic (:func:`bias_gate.cache.atomic_replace`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from bias_gate.cache import atomic_replace

FORMAT = "bias-gate-bitmask-v1"
_MASK = "::mask"
_VALUES = "::values"


def model_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's state dict on the CPU, contiguous, with tensors that share storage
    (tied embeddings / LM head) kept once, under the first name."""
    seen: set[tuple[int, int]] = set()
    tensors: dict[str, torch.Tensor] = {}
    for name, tensor in model.state_dict().items():
        key = (tensor.untyped_storage().data_ptr(), tensor.storage_offset())
        if key in seen:
            continue
        seen.add(key)
        tensors[name] = tensor.detach().cpu().contiguous()
    return tensors


def atomic_save(tensors: dict[str, torch.Tensor], path: Path, metadata: dict[str, str]) -> int:
    atomic_replace(path, lambda tmp: save_file(tensors, tmp, metadata=metadata))
    return path.stat().st_size


def save_dense(tensors: dict[str, torch.Tensor], path: Path) -> int:
    """Write ``tensors`` as a plain safetensors file; returns its size in bytes."""
    return atomic_save(tensors, path, {"format": "pt"})


_INT_OF_SIZE = {1: torch.int8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def kept_bits(tensor: torch.Tensor) -> torch.Tensor:
    """True where the weight's bit pattern is not all zeros (so -0.0 counts as kept and
    comes back as -0.0)."""
    return tensor.contiguous().view(_INT_OF_SIZE[tensor.element_size()]) != 0


def sparse_pays(tensor: torch.Tensor) -> bool:
    """True when the bitmask form of ``tensor`` is smaller than the dense form."""
    if not tensor.is_floating_point() or tensor.numel() == 0:
        return False
    kept = int(kept_bits(tensor).sum())
    item = tensor.element_size()
    return tensor.numel() / 8 + kept * item < tensor.numel() * item


def save_sparse(tensors: dict[str, torch.Tensor], path: Path) -> int:
    """Write ``tensors`` in the bitmask format; returns the file size in bytes."""
    entries: dict[str, torch.Tensor] = {}
    sparse: dict[str, list] = {}
    for name, tensor in tensors.items():
        if not sparse_pays(tensor):
            entries[name] = tensor.contiguous()
            continue
        kept = kept_bits(tensor).reshape(-1)
        bits = np.packbits(kept.numpy(), bitorder="little")
        entries[name + _MASK] = torch.from_numpy(bits)
        entries[name + _VALUES] = tensor.reshape(-1)[kept].contiguous()
        sparse[name] = [list(tensor.shape), str(tensor.dtype).removeprefix("torch.")]
    return atomic_save(entries, path, {"format": FORMAT, "sparse": json.dumps(sparse)})


def load_sparse(path: Path) -> dict[str, torch.Tensor]:
    """Read a file written by :func:`save_sparse` back into full tensors."""
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
        if metadata.get("format") != FORMAT:
            raise ValueError(f"{path} is not a {FORMAT} file")
        sparse = json.loads(metadata["sparse"])
        raw = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    tensors: dict[str, torch.Tensor] = {}
    for key, tensor in raw.items():
        if not key.endswith((_MASK, _VALUES)):
            tensors[key] = tensor
    for name, (shape, dtype) in sparse.items():
        numel = int(np.prod(shape)) if shape else 1
        kept = np.unpackbits(raw[name + _MASK].numpy(), count=numel, bitorder="little")
        kept_t = torch.from_numpy(kept.astype(bool))
        full = torch.zeros(numel, dtype=getattr(torch, dtype))
        full[kept_t] = raw[name + _VALUES]
        tensors[name] = full.reshape(shape)
    return tensors
