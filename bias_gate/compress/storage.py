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

import contextlib
import io
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

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


_DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


def atomic_save_streamed(
    tensors: Iterable[tuple[str, torch.Tensor]],
    path: Path,
    metadata: Callable[[], dict[str, str]],
) -> int:
    """:func:`atomic_save` for tensors made one at a time (an iterator): each is written
    to an unnamed scratch file beside ``path`` as it comes and let go, so one tensor is
    held at a time (``save_file`` holds a bytes copy of every tensor at once). Tensors
    are laid out by element size, largest first (every offset aligned, as safetensors
    lays them out). ``metadata`` is asked for once every tensor is written. Returns the
    file's size in bytes."""

    def write(tmp: Path) -> None:
        groups: dict[int, tuple[IO[bytes], list[tuple[str, torch.Tensor, int]]]] = {}
        with contextlib.ExitStack() as scratch:
            for name, tensor in tensors:
                raw = tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8)
                size = tensor.element_size()
                if size not in groups:
                    handle = scratch.enter_context(tempfile.TemporaryFile(dir=path.parent))
                    groups[size] = (handle, [])
                groups[size][0].write(raw.numpy().data)
                shape = torch.empty(tensor.shape, dtype=tensor.dtype, device="meta")
                groups[size][1].append((name, shape, raw.numel()))
            _assemble(tmp, groups, metadata())

    atomic_replace(path, write)
    return path.stat().st_size


def _assemble(
    tmp: Path,
    groups: dict[int, tuple[IO[bytes], list[tuple[str, torch.Tensor, int]]]],
    metadata: dict[str, str],
) -> None:
    header: dict[str, Any] = {"__metadata__": metadata}
    offset = 0
    order = sorted(groups, reverse=True)
    for size in order:
        for name, like, nbytes in groups[size][1]:
            header[name] = {
                "dtype": _DTYPES[like.dtype],
                "shape": list(like.shape),
                "data_offsets": [offset, offset + nbytes],
            }
            offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with tmp.open("wb") as out:
        out.write(struct.pack("<Q", len(raw)))
        out.write(raw)
        for size in order:
            handle = groups[size][0]
            handle.seek(0)
            shutil.copyfileobj(handle, out, 1 << 22)


_TORCH_DTYPES = {name: dtype for dtype, name in _DTYPES.items()}


def read_header(handle: IO[bytes]) -> tuple[dict[str, Any], int]:
    """A safetensors file's header (tensor entries and ``__metadata__``) and where its
    data starts; a ``ValueError`` for a file that is not one (or is cut short)."""
    head = handle.read(8)
    if len(head) != 8:
        raise ValueError("not a safetensors file: shorter than its header's length")
    (size,) = struct.unpack("<Q", head)
    if size > os.fstat(handle.fileno()).st_size - 8:
        raise ValueError("not a safetensors file: its header is cut short")
    raw = handle.read(size)
    if len(raw) != size:
        raise ValueError("not a safetensors file: its header is cut short")
    header = json.loads(raw)
    if not isinstance(header, dict):
        raise ValueError("not a safetensors file: its header is not an object")
    return header, 8 + size


def read_tensor(handle: io.BufferedReader, info: dict[str, Any], start: int) -> torch.Tensor:
    """One tensor of a safetensors file, read into memory of its own (safetensors'
    ``safe_open`` maps the whole file, and every page read stays in the process's
    memory until the file is closed: a cache entry's size on top of the model)."""
    begin, end = (int(offset) for offset in info["data_offsets"])
    data = bytearray(end - begin)
    handle.seek(start + begin)
    if handle.readinto(data) != len(data):
        raise ValueError("a safetensors file's data is cut short")
    dtype = _TORCH_DTYPES[info["dtype"]]
    if not data:
        return torch.empty(info["shape"], dtype=dtype)
    return torch.frombuffer(data, dtype=dtype).reshape(info["shape"])


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
