"""The one call the gate makes: copy the dense model (or, for the gate, take the dense
model itself, its weights mapped to be compressed in place: :mod:`bias_gate.compress.in_place`,
decision #109), compress it (or load the result from the cache), check the sparsity it
achieved, and measure what it saves.

Every compression has an identity, asked of its compressor whatever the method
(:func:`bias_gate.identity.compression_part`: the method, its validated options, what it
declares through ``fingerprint_inputs``, e.g. the calibration text's hash, a
checkpoint's file content, the torchao version); the report carries it, and the gate
keys the compressed model's answers and perplexity by it.

Cache: methods marked ``cacheable`` change only the weights of the seven decoder
projections; those are stored, each in its smallest exact form
(:mod:`bias_gate.compress.weight_store`: a bitmask over the dense weights for pruning,
packed integer codes for ``rtn``; reading a bitmask beats pruning again even for
magnitude and random, decisions #103), under
``<cache_dir>/<key>.safetensors`` (with ``<key>.json`` beside it), where ``key`` is
:func:`bias_gate.identity.compressed_weights_key` of the dense model's fingerprint and
that identity. Both files are written atomically and the entry is used only when both
are there, so a run killed mid-save leaves nothing that is read back.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import torch

from bias_gate.cache import (
    atomic_write_json,
    cache_root,
    is_write_error,
    remove_stale_temporaries,
    write_or_warn,
)
from bias_gate.cache_usage import mark_used
from bias_gate.compress.base import CompressionContext, CompressionResult
from bias_gate.compress.in_place import InPlaceWeights
from bias_gate.compress.int_pack import Packed
from bias_gate.compress.measure import (
    CompressionReport,
    MeasureSettings,
    latency_input,
    saved_sizes,
    side_by_side_latency,
)
from bias_gate.compress.methods import CompressionMethod
from bias_gate.compress.sparsity import check_shortfall, measure_sparsity
from bias_gate.compress.targets import PROJECTIONS, projection_linears
from bias_gate.compress.weight_store import iter_weights, save_weights
from bias_gate.config.schema import CompressionSpec
from bias_gate.identity import NO_COMPRESSION, compressed_weights_key, compression_part

#: What :func:`_load` returns for an entry torn while it was read.
TORN = object()


def default_cache_dir() -> Path:
    """Where compressed weights are cached by default: ``cache_root() / "compressed"``."""
    return cache_root() / "compressed"


def _projection_tensors(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {
        f"{name}.weight": module.weight.detach().cpu().contiguous()
        for name, module in projection_linears(model).items()
    }


def working_copy(model: torch.nn.Module, only_projections: bool) -> torch.nn.Module:
    """The model a compressor works on. A method that changes only the seven decoder
    projections (``cacheable``) gets a copy that shares every other parameter with
    ``model`` (embeddings, output head, norms: held once; 21% of Llama-3.2-1B);
    any other method gets a full deep copy. The dense model is never changed."""
    if not only_projections:
        return copy.deepcopy(model)
    projections = {id(m.weight) for m in projection_linears(model).values()}
    memo: dict[int, Any] = {id(p): p for p in model.parameters() if id(p) not in projections}
    return copy.deepcopy(model, memo)


def _store(
    cache_dir: Path,
    key: str,
    model: torch.nn.Module,
    dense: Mapping[str, torch.Tensor],
    packed: Mapping[str, Packed],
    meta: dict[str, Any],
) -> None:
    """The weights first (each tensor in its smallest exact form,
    :mod:`bias_gate.compress.weight_store`, given the ``dense`` projections they came
    from and the ``packed`` codes of quantized ones), then the metadata that makes the
    entry usable (each atomic). A cache that cannot take them is one warning; the run
    goes on with the model in hand."""
    remove_stale_temporaries(cache_dir)

    def write() -> None:
        path = cache_dir / f"{key}.safetensors"
        tensors = _projection_tensors(model)
        meta["stored_bytes"] = save_weights(path, tensors, dense, packed)
        atomic_write_json(cache_dir / f"{key}.json", meta)

    write_or_warn("compressed weights", cache_dir, write)


@torch.no_grad()
def _load(
    cache_dir: Path, key: str, model: torch.nn.Module, dense: Mapping[str, torch.Tensor]
) -> dict[str, Any] | object | None:
    """The cached entry's metadata, its weights written into ``model`` one tensor at a
    time (``dense``: the dense projections, what a bitmask keeps values of); ``None``
    when the entry is incomplete (a run killed between the two files) or unreadable;
    :data:`TORN` when it was removed or torn while being read (``bias-gate cache prune``
    beside the run): then ``model`` may hold some of its tensors and must not be
    compressed as it is. A used entry is marked used now
    (:func:`bias_gate.cache_usage.mark_used`, what eviction orders by)."""
    meta_path, weights_path = cache_dir / f"{key}.json", cache_dir / f"{key}.safetensors"
    if not (meta_path.is_file() and weights_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    try:
        for name, tensor in iter_weights(weights_path, dense):
            model.get_parameter(name).data.copy_(tensor)
    except Exception as exc:  # removed or torn under us (a prune beside the run): recompute
        if not (is_write_error(exc) or isinstance(exc, ValueError)):
            raise
        return TORN
    mark_used(meta_path)
    return meta


def compress_model(
    dense: Any,
    method: CompressionMethod,
    context: CompressionContext,
    cache_dir: Path | None = None,
    settings: MeasureSettings | None = None,
    in_place: bool = False,
) -> tuple[Any, CompressionReport]:
    """Compress ``dense.model`` with ``method`` and measure it: a copy (sharing what the
    method cannot change: :func:`working_copy`), or, with ``in_place``, the model itself.

    ``dense``: anything with ``model``, ``tokenizer`` and ``fingerprint`` (a
    ``LoadedModel``). ``method``: the config's method and validated options, resolved
    when the config was loaded (:func:`bias_gate.compress.methods.resolve_method`).
    ``cache_dir``: where compressed weights are cached (default
    :func:`default_cache_dir`). ``settings``: what is measured besides sparsity (default:
    sizes and latency). ``in_place``: where ``dense.in_place`` holds the projections in
    private mappings of their file (:mod:`bias_gate.compress.in_place`), a cacheable
    method compresses ``dense.model`` itself, and the model returned is ``dense.model``
    in that config's state (the gate's way; not with latency, which times both models
    side by side). Returns the compressed model and its :class:`CompressionReport`
    (``report.compression``: the compression's identity part). Raises
    :class:`SparsityShortfallError` when fewer weights were pruned than asked.
    """
    settings = settings or MeasureSettings()
    cache_dir = cache_dir or default_cache_dir()
    spec, compressor, options = method.spec, method.compressor, method.options
    compression = compression_part(spec, compressor, options, context)
    cacheable = bool(getattr(compressor, "cacheable", False))
    key = (
        compressed_weights_key(dense.fingerprint, compression, context.device)
        if cacheable
        else None
    )
    attached: InPlaceWeights | None = getattr(dense, "in_place", None)
    if attached is not None:
        attached.use(NO_COMPRESSION)  # every method starts from the dense weights
    weights = attached if in_place and cacheable and not settings.latency else None
    model, result, seconds, cached = _compressed(dense, method, context, cache_dir, key, weights)
    if attached is not None and weights is None and model is dense.model:
        attached.dense_too(compression)  # e.g. ``dense``: measured in the dense state
    report = _checked_report(spec, options, result, model, seconds)
    report.from_cache = cached
    report.cache_key = key
    report.compression = compression
    if result.artifact is not None:
        report.artifact_path = str(result.artifact)
        report.artifact_bytes = result.artifact.stat().st_size
    _measure(report, dense.model, model, settings)
    if weights is not None and key is not None:
        weights.compressed(compression, _reapply(cache_dir, key, weights, method, context))
    return model, report


def _compressed(
    dense: Any,
    method: CompressionMethod,
    context: CompressionContext,
    cache_dir: Path,
    key: str | None,
    weights: InPlaceWeights | None,
) -> tuple[torch.nn.Module, CompressionResult, float, bool]:
    """The compressed model (read from the cache entry ``key``, else compressed and
    stored), its result, the seconds compressing took, and whether it was read. In place
    when ``weights`` are given, else on :func:`working_copy` (or the dense model itself
    for a method that never changes it, decision #102)."""
    spec, compressor, options = method.spec, method.compressor, method.options

    def start() -> torch.nn.Module:
        if weights is not None:
            weights.use(NO_COMPRESSION)
            weights.compressing()
            return dense.model
        if getattr(compressor, "needs_copy", True):
            return working_copy(dense.model, only_projections=key is not None)
        return dense.model

    model = start()
    if key is not None:
        found = _load(cache_dir, key, model, _projection_tensors(dense.model))
        if isinstance(found, dict):
            result = CompressionResult(model, found["target_sparsity"], None, notes=found["notes"])
            return model, result, float(found["compress_seconds"]), True
        if found is TORN:
            model = start()  # the torn entry wrote some of its tensors: start again
    started = time.perf_counter()
    result = compressor.compress(model, options, context)
    seconds = time.perf_counter() - started
    if weights is not None and result.model is not dense.model:
        raise TypeError(
            f"method {spec.method!r} is marked cacheable but returned another model: a "
            "cacheable method changes the projections of the model it is given, in place"
        )
    if key is not None:
        meta = _cache_meta(spec, options, result, seconds, dense)
        # In place, the dense weights are read from the file, one tensor at a time.
        reference: Mapping[str, torch.Tensor] = (
            weights.references() if weights is not None else _projection_tensors(dense.model)
        )
        packed = result.packed or RecomputedCodes(method, reference)
        _store(cache_dir, key, result.model, reference, packed, meta)
        if weights is not None:
            weights.release()
    return result.model, result, seconds, False


class RecomputedCodes(Mapping[str, Packed]):
    """The integer codes of each projection, computed again from its dense weights by
    the method's ``pack`` when asked for (one projection at a time); none for a method
    without it."""

    def __init__(self, method: CompressionMethod, dense: Mapping[str, torch.Tensor]):
        self._pack = getattr(method.compressor, "pack", None)
        self._options = method.options
        self._dense = dense

    def __getitem__(self, name: str) -> Packed:
        packed = self._pack(name, self._dense[name], self._options) if self._pack else None
        if packed is None:
            raise KeyError(name)
        return packed

    def __iter__(self) -> Iterator[str]:
        return iter(self._dense) if self._pack else iter(())

    def __len__(self) -> int:
        return len(self._dense) if self._pack else 0


def _reapply(
    cache_dir: Path,
    key: str,
    weights: InPlaceWeights,
    method: CompressionMethod,
    context: CompressionContext,
) -> Callable[[], None]:
    """How the dense model, restored in place, gets this config's weights back: from the
    cache entry, or by compressing again when the entry is gone or torn (the same
    weights: compression is deterministic, which the cache keys rely on already)."""
    model = weights.model

    def apply() -> None:
        if not isinstance(_load(cache_dir, key, model, _projection_tensors(model)), dict):
            weights.restore()
            weights.compressing()
            method.compressor.compress(model, method.options, context)

    return apply


def _cache_meta(
    spec: CompressionSpec, options: Any, result: CompressionResult, seconds: float, dense: Any
) -> dict[str, Any]:
    return {
        "method": spec.method,
        "options": options.model_dump(mode="json"),
        "target_sparsity": result.target_sparsity,
        "notes": result.notes,
        "compress_seconds": seconds,
        "dense_fingerprint": dense.fingerprint,
    }


def _checked_report(
    spec: CompressionSpec,
    options: Any,
    result: CompressionResult,
    model: torch.nn.Module,
    seconds: float,
) -> CompressionReport:
    """The report's sparsity figures, measured on ``model``; raises on a shortfall."""
    targets = tuple(getattr(options, "targets", PROJECTIONS))
    everything = measure_sparsity(model)
    targeted = measure_sparsity(model, targets).fraction
    if result.target_sparsity:
        check_shortfall(
            method=f"{spec.name} ({spec.method})",
            target=result.target_sparsity,
            achieved_all=everything.fraction,
            achieved_targeted=targeted,
            subset=set(targets) != set(PROJECTIONS),
        )
    return CompressionReport(
        name=spec.name,
        method=spec.method,
        target_sparsity=result.target_sparsity,
        achieved_sparsity=everything.fraction,
        targeted_sparsity=targeted,
        per_layer=everything.per_layer,
        compress_seconds=seconds,
        notes=list(result.notes),
    )


def _measure(
    report: CompressionReport,
    dense: torch.nn.Module,
    compressed: torch.nn.Module,
    settings: MeasureSettings,
) -> None:
    """Fill in sizes and side-by-side latency as ``settings`` ask."""
    if settings.sizes:
        sizes = saved_sizes(compressed)
        report.dense_bytes, report.sparse_bytes = sizes.dense_bytes, sizes.sparse_bytes
        if sizes.note:
            report.notes.append(sizes.note)
    if settings.latency:
        device = str(next(dense.parameters()).device)
        vocab = int(dense.get_input_embeddings().num_embeddings)  # type: ignore[operator]
        ids = latency_input(vocab, settings.latency_tokens, settings.seed, device)
        report.latency_dense_ms, report.latency_compressed_ms = side_by_side_latency(
            dense, compressed, ids, settings.latency_repeats
        )
