"""What a compression really achieved: sizes on disk, forward latency, and the report.

Sizes are measured by writing the model for real (a plain safetensors file, and the
bitmask format of :mod:`bias_gate.compress.storage`, read back and checked bit-exact).
Latency is measured side by side: the same input, dense and compressed forward passes
interleaved (alternating which goes first), median of the repetitions.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from bias_gate.compress.storage import load_sparse, model_tensors, save_dense, save_sparse


@dataclass
class CompressionReport:
    """What one compression config did, measured.

    ``target_sparsity``: what the config asked for (``None`` for quantization);
    ``achieved_sparsity``: zeros over ALL seven projections of every decoder block, so a
    subset config shows its real figure; ``targeted_sparsity``: zeros over the
    projections the config targets; ``per_layer``: achieved sparsity per module name (all
    fractions). ``compress_seconds``: wall time of the method when it ran (taken from the
    cache entry when ``from_cache``). ``cache_key``: the compressed weights' cache key
    (``None`` for a method that is not cached); ``compression``: the compression's
    identity part (:func:`bias_gate.identity.compression_part`), for every method.
    ``dense_bytes``: size of a plain safetensors save of the compressed model;
    ``sparse_bytes``: size of the bitmask save (``None`` when not measured or not
    applicable). ``latency_*_ms``: median forward latency of the dense and compressed
    model on the same input, in milliseconds (``None`` when not measured).
    ``artifact_path`` / ``artifact_bytes``: the file a method wrote that would ship (a
    quantized GGUF) and its real size on disk; ``None`` for other methods.
    """

    name: str
    method: str
    target_sparsity: float | None
    achieved_sparsity: float | None
    targeted_sparsity: float | None = None
    per_layer: dict[str, float] = field(default_factory=dict)
    compress_seconds: float = 0.0
    from_cache: bool = False
    cache_key: str | None = None
    compression: dict[str, Any] = field(default_factory=dict)
    dense_bytes: int | None = None
    sparse_bytes: int | None = None
    latency_dense_ms: float | None = None
    latency_compressed_ms: float | None = None
    artifact_path: str | None = None
    artifact_bytes: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def latency_ratio(self) -> float | None:
        """Compressed over dense median latency (1.0 = no speed-up)."""
        if self.latency_dense_ms is None or self.latency_compressed_ms is None:
            return None
        return self.latency_compressed_ms / self.latency_dense_ms

    @property
    def sparse_saving(self) -> float | None:
        """Fraction of the dense file the bitmask save saves (0.37 = 37% smaller)."""
        if self.dense_bytes is None or self.sparse_bytes is None:
            return None
        return 1.0 - self.sparse_bytes / self.dense_bytes

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, derived ratios included."""
        data = asdict(self)
        data["latency_ratio"] = self.latency_ratio
        data["sparse_saving"] = self.sparse_saving
        return data


@dataclass(frozen=True)
class MeasureSettings:
    """What :func:`bias_gate.compress.pipeline.compress_model` measures besides sparsity.

    ``sizes``: write both saves for real. ``latency``: time forward passes of
    ``latency_tokens`` tokens, ``latency_repeats`` times each model.
    """

    sizes: bool = True
    latency: bool = True
    latency_tokens: int = 128
    latency_repeats: int = 7
    seed: int = 0


@dataclass(frozen=True)
class SavedSizes:
    """Bytes on disk of a plain safetensors save and of the bitmask save (``None`` when
    the weights are not plain tensors), with a note when something could not be saved."""

    dense_bytes: int | None
    sparse_bytes: int | None
    note: str | None = None


def _plain(tensors: dict[str, torch.Tensor]) -> bool:
    return all(type(t) is torch.Tensor for t in tensors.values())


def bit_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    """True when ``a`` and ``b`` have the same shape, dtype and bit pattern."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return torch.equal(a.contiguous().view(torch.uint8), b.contiguous().view(torch.uint8))


def saved_sizes(model: torch.nn.Module, workdir: Path | None = None) -> SavedSizes:
    """Write ``model`` as plain safetensors and in the bitmask format, read the bitmask
    file back, check it bit-exact, and return both sizes in bytes.

    Models whose weights are tensor subclasses (torchao) cannot be written as
    safetensors: their ``torch.save`` size is reported as ``dense_bytes`` instead.
    """
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmp_dir = Path(tmp)
        tensors = {name: t for name, t in model.state_dict().items()}
        if not _plain(tensors):
            path = tmp_dir / "model.pt"
            torch.save(tensors, path)
            return SavedSizes(
                path.stat().st_size, None, "quantized tensor subclasses: size of torch.save"
            )
        tensors = model_tensors(model)
        dense_bytes = save_dense(tensors, tmp_dir / "dense.safetensors")
        sparse_bytes = save_sparse(tensors, tmp_dir / "sparse.safetensors")
        back = load_sparse(tmp_dir / "sparse.safetensors")
        if back.keys() != tensors.keys() or not all(bit_equal(back[k], tensors[k]) for k in back):
            raise RuntimeError("the bitmask save did not read back bit-exact")
        return SavedSizes(dense_bytes, sparse_bytes)


@torch.no_grad()
def side_by_side_latency(
    dense: torch.nn.Module, compressed: torch.nn.Module, input_ids: torch.Tensor, repeats: int
) -> tuple[float, float]:
    """Median forward latency in milliseconds of ``dense`` and ``compressed`` on the same
    ``input_ids``: one warm-up each, then ``repeats`` interleaved timings (the order
    alternates each repetition)."""
    models = (dense, compressed)
    for model in models:
        model(input_ids=input_ids, use_cache=False)
    times: tuple[list[float], list[float]] = ([], [])
    for rep in range(repeats):
        order = (0, 1) if rep % 2 == 0 else (1, 0)
        for index in order:
            start = time.perf_counter()
            models[index](input_ids=input_ids, use_cache=False)
            times[index].append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times[0]), statistics.median(times[1])


def latency_input(vocab_size: int, tokens: int, seed: int, device: str) -> torch.Tensor:
    """A fixed 1 x ``tokens`` batch of token ids drawn with ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, vocab_size, (1, tokens), generator=generator).to(device)
