"""The dense model compressed in place, in a private mapping of its weights file, so a
gate run never holds the seven decoder projections twice (decision #109).

transformers maps a safetensors file's tensors rather than copying them. bias-gate maps
the file again, copy-on-write (``MAP_PRIVATE``), and points the model's projection
weights at that mapping. A compressor then writes into the dense model itself: each page
it writes becomes the process's own copy, replacing the file's page, so the compressed
model costs no more memory than the dense one. ``madvise(MADV_DONTNEED)`` over the
mapping drops those copies: the next read maps the file's page again, so the dense
weights come back exactly, without a copy ever having been held.

One object, two states. :meth:`InPlaceWeights.use` puts the model in the state a
measurement asks for (the dense model, or the compression whose identity it is given),
restoring or re-applying the compressed weights only when the state differs; every
torch measurement of the gate goes through it (:mod:`bias_gate.gate.measurements`), so
a dense answer is never given by compressed weights. Re-applying reads the config's
cache entry (a bitmask or packed codes: seconds even at 1B), or compresses again when
the entry is gone (compression is deterministic: the cache keys rely on it already).

Attached only on CPU (Linux's ``/proc/self/maps`` and ``madvise``), when every
projection weight lies, untouched, in a mapped ``.safetensors`` file in the run's dtype;
otherwise :func:`attach` says why and the gate compresses a copy as before.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import mmap
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bias_gate.compress.targets import projection_linears
from bias_gate.identity import NO_COMPRESSION

_PAGE = mmap.PAGESIZE
#: The state of a model whose projections a compressor has started to change.
DIRTY = "dirty"


@dataclass(frozen=True)
class _Mapping:
    """One line of ``/proc/self/maps``: a mapped range and the file behind it."""

    start: int
    end: int
    offset: int
    inode: int
    path: str
    #: The file was removed since it was mapped (its pages stay readable).
    removed: bool = False


_REMOVED = " (deleted)"


def _mappings() -> list[_Mapping]:
    found = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) < 6:
            continue
        path = fields[5].removesuffix(_REMOVED)
        if not path.endswith(".safetensors"):
            continue
        start, end = (int(part, 16) for part in fields[0].split("-"))
        removed = path != fields[5]
        found.append(_Mapping(start, end, int(fields[2], 16), int(fields[4]), path, removed))
    return found


def _anonymous_kb(starts: set[int]) -> int:
    """The private (written) kilobytes of the mappings starting at ``starts``."""
    total, current = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split(maxsplit=1)[0]
        if "-" in head and not head.endswith(":"):
            current = int(head.split("-")[0], 16) in starts
        elif current and head == "Anonymous:":
            total += int(line.split()[1])
    return total


@dataclass(frozen=True)
class _Place:
    """Where one projection weight lies in its file."""

    path: str
    offset: int
    nbytes: int


def _locate(model: torch.nn.Module) -> tuple[dict[str, _Place] | None, str]:
    """Each projection weight's file and byte offset, or ``None`` and why not."""
    if not Path("/proc/self/maps").is_file() or not hasattr(mmap, "MADV_DONTNEED"):
        return None, "this system has no /proc/self/maps or madvise"
    mappings = _mappings()
    places: dict[str, _Place] = {}
    used: set[int] = set()
    for name, module in projection_linears(model).items():
        weight = module.weight
        if weight.device.type != "cpu" or not weight.is_contiguous():
            return None, f"{name} is not a contiguous CPU tensor"
        start, nbytes = weight.data_ptr(), weight.numel() * weight.element_size()
        found = next((m for m in mappings if m.start <= start and start + nbytes <= m.end), None)
        if found is None:
            return None, f"{name} is not mapped from a safetensors file (converted or copied)"
        if found.removed:  # a GGUF's scratch copy: attach in load_model's on_loaded
            return None, f"{found.path} was removed after loading"
        stat = os.stat(found.path)
        if stat.st_ino != found.inode:
            return None, f"{found.path} was replaced since it was loaded"
        places[f"{name}.weight"] = _Place(found.path, start - found.start + found.offset, nbytes)
        used.add(found.start)
    if _anonymous_kb(used):
        return None, "the loaded weights were changed after loading"
    return places, ""


class InPlaceWeights:
    """The model's projection weights, in private mappings of their files (one per
    file), and a second, read-only use of each file for the dense values while the
    model holds compressed ones (:meth:`reference`)."""

    def __init__(self, model: torch.nn.Module, places: Mapping[str, _Place]):
        self.model = model
        self.places = dict(places)
        self._own: dict[str, mmap.mmap] = {}
        self._reference: dict[str, mmap.mmap] = {}
        for path in sorted({place.path for place in self.places.values()}):
            with open(path, "rb") as handle:
                self._own[path] = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
                self._reference[path] = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
        self.state: str | None = None  # None: dense
        self._apply: tuple[str, Callable[[], None]] | None = None
        self._dense_too: set[str] = set()  # identities whose model is the dense one
        with torch.no_grad():
            for name, place in self.places.items():
                parameter = model.get_parameter(name)
                parameter.data = self._tensor(self._own, place, parameter)

    @staticmethod
    def _tensor(maps: Mapping[str, mmap.mmap], place: _Place, like: torch.Tensor) -> torch.Tensor:
        flat = torch.frombuffer(
            maps[place.path], dtype=like.dtype, count=like.numel(), offset=place.offset
        )
        return flat.view(like.shape)

    def restore(self) -> None:
        """Every projection back to the file's (dense) weights; the written pages go."""
        for handle in self._own.values():
            handle.madvise(mmap.MADV_DONTNEED)
        self.state = None

    def reference(self, name: str) -> torch.Tensor:
        """The dense weights of projection ``name`` (``...q_proj.weight``), read from the
        file whatever state the model is in. Hold one at a time: each call first lets go
        of the pages the previous ones touched (:meth:`release`)."""
        self.release()
        place = self.places[name]
        return self._tensor(self._reference, place, self.model.get_parameter(name))

    def release(self) -> None:
        """Drop the pages :meth:`reference` touched (they stay in the page cache)."""
        for handle in self._reference.values():
            handle.madvise(mmap.MADV_DONTNEED)

    def references(self) -> ReferenceWeights:
        """The dense projections by name, read one at a time (:meth:`reference`)."""
        return ReferenceWeights(self)

    def compressing(self) -> None:
        """A compressor is about to write: the model is neither dense nor a known state."""
        self.state = DIRTY
        self._apply = None

    def compressed(self, compression: dict[str, Any], apply: Callable[[], None]) -> None:
        """The model now holds ``compression``'s weights; ``apply`` writes them again into
        the dense model (after a :meth:`restore`)."""
        key = state_key(compression)
        self.state, self._apply = key, (key, apply)
        return_freed_memory()

    def dense_too(self, compression: dict[str, Any]) -> None:
        """The model of ``compression`` is the dense model itself (a method that returns
        the model it is given unchanged, as ``dense`` does): its state is the dense one."""
        self._dense_too.add(state_key(compression))

    def use(self, compression: dict[str, Any]) -> None:
        """Put the model in ``compression``'s state (``NO_COMPRESSION``: the dense model)
        before it answers or measures under that identity."""
        key = state_key(compression)
        if compression == NO_COMPRESSION or key in self._dense_too:
            if self.state is not None:  # dense already: its pages stay mapped
                self.restore()
            return
        if key == self.state:
            return
        if self._apply is None or self._apply[0] != key:
            raise RuntimeError(
                f"the model cannot be put in the state of {compression}: it was never "
                "compressed that way in this run (a bias-gate bug: please report it)"
            )
        self.restore()
        self.state = DIRTY
        self._apply[1]()
        self.state = key
        return_freed_memory()


class ReferenceWeights(Mapping[str, torch.Tensor]):
    """The dense projection weights as a read-only mapping, one tensor at a time."""

    def __init__(self, weights: InPlaceWeights):
        self._weights = weights

    def __getitem__(self, name: str) -> torch.Tensor:
        if name not in self._weights.places:
            raise KeyError(name)
        return self._weights.reference(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._weights.places)

    def __len__(self) -> int:
        return len(self._weights.places)


#: glibc's ``mallopt`` parameter for the size from which an allocation is its own mapping.
_M_MMAP_THRESHOLD = -3
#: Allocations from 4 MiB up get mappings of their own, returned to the system when freed.
MMAP_THRESHOLD = 4 << 20


def keep_freed_memory_out_of_the_heap() -> None:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD` for this process (glibc
    only; elsewhere a no-op). glibc serves an allocation under its mmap threshold from its
    heap and keeps it when freed; the threshold rises with every larger block freed, up to
    32 MiB, so the per-projection temporaries of compressing, storing and re-applying
    weights (4-64 MiB each) pile up in the heap: measured at 1B, the peak of storing rtn
    int8's entry rose by 1.1 GB and of re-applying it by 0.9 GB. With a fixed 4 MiB
    threshold they are given back when freed; answering was 4% slower, within the noise.
    Set once, when in-place weights are attached (:func:`attach_loaded`)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)


def return_freed_memory() -> None:
    """Give the C heap's free memory back to the system (glibc's ``malloc_trim``; a
    no-op elsewhere): after a compression or a re-apply, what the heap kept of their
    smaller temporaries."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def state_key(compression: dict[str, Any]) -> str:
    """A compression identity as one string (what a state is named by)."""
    return json.dumps(compression, sort_keys=True, default=str)


def attach(model: torch.nn.Module) -> tuple[InPlaceWeights | None, str]:
    """The model's projections in private mappings of their files, ready to be
    compressed in place; or ``None`` and the reason it cannot be done (the gate then
    compresses a copy)."""
    places, reason = _locate(model)
    if places is None:
        return None, reason
    return InPlaceWeights(model, places), ""


def attach_loaded(loaded: Any) -> None:
    """Attach in-place weights to a ``LoadedModel`` (its ``in_place``, or the reason
    not in ``in_place_reason``): on CPU only (on a GPU the weights are in the GPU's
    memory, not a file's pages), and not with ``BIAS_GATE_IN_PLACE=0``."""
    if loaded.device != "cpu":
        loaded.in_place, loaded.in_place_reason = None, f"the model is on {loaded.device}"
    elif os.environ.get("BIAS_GATE_IN_PLACE", "1") == "0":
        loaded.in_place, loaded.in_place_reason = None, "BIAS_GATE_IN_PLACE=0"
    else:
        loaded.in_place, loaded.in_place_reason = attach(loaded.model)
        if loaded.in_place is not None:
            keep_freed_memory_out_of_the_heap()
            return_freed_memory()


def use_state(loaded: Any, model: Any, compression: dict[str, Any]) -> None:
    """Before ``model`` computes under ``compression``: when it is the loaded model with
    in-place weights, put it in that state (anything else is left alone)."""
    weights = getattr(loaded, "in_place", None)
    if weights is not None and model is loaded.model:
        weights.use(compression)
