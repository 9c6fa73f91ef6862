"""The compressor contract and what every compression reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, ValidationInfo

from bias_gate.compress.sparsity import measure_sparsity

if TYPE_CHECKING:
    import torch


#: The key of pydantic's validation context under which the folder of model.yaml is
#: given when options are validated at load (relative paths are checked against it).
CONFIG_DIR = "config_dir"


def config_dir_of(info: ValidationInfo) -> Path | None:
    """The folder of model.yaml in a validator's ``info``, or ``None`` when the options
    are validated without a file (then paths are not checked)."""
    context = info.context or {}
    value = context.get(CONFIG_DIR) if isinstance(context, dict) else None
    return Path(value) if value is not None else None


class CompressorOptions(BaseModel):
    """Base of every method's options: strict, immutable, fingerprinted as JSON.

    ``location_options``: the options that only say where an input lies (a path), in
    pydantic's ``exclude`` form (a set of names, or a dict for nested options). They
    are left out of the cache keys, where the compressor's ``fingerprint_inputs``
    stands for the content they point at instead (a path is not an identity: the same
    path can hold other weights tomorrow, and the same weights can lie elsewhere).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    location_options: ClassVar[set[str] | dict[str, Any]] = set()


@dataclass(frozen=True)
class CompressionContext:
    """What a compressor may need besides the model.

    ``tokenizer``: for calibration text. ``config_dir``: the directory of model.yaml,
    for relative paths in options. ``data_dir``: a local mirror of the official data
    (``BIAS_GATE_DATA_DIR``), or ``None``. ``device``: torch device string.
    ``dense_gguf``: the dense model's GGUF file when it was loaded from one (the source
    a method that writes GGUF files starts from), else ``None``. ``artifact_dir``: where
    a method keeps the files it writes (``None``: ``cache_root() / "artifacts"``).
    ``cache_dir``: the run's cache (``--bias-gate-cache-dir``), where a method writes
    what it derives, such as the scratch copy of a GGUF file it dequantizes (``None``:
    ``cache_root()``).
    """

    tokenizer: Any
    config_dir: Path
    data_dir: Path | None = None
    device: str = "cpu"
    dense_gguf: Path | None = None
    artifact_dir: Path | None = None
    cache_dir: Path | None = None


@dataclass
class CompressionResult:
    """What :meth:`Compressor.compress` returns.

    ``model``: the compressed model (the input model modified in place, or a new one
    for ``checkpoint``). ``target_sparsity`` / ``achieved_sparsity``: over the weights
    the method is meant to prune (all linear projections of the decoder blocks), as
    fractions; ``per_layer``: achieved sparsity per module name. ``notes``: anything a
    user must know (e.g. "reproduces the 2026 study's variant: o_proj/down_proj dense").
    ``artifact``: the file the method wrote and that would ship (a quantized GGUF), or
    ``None`` for methods that only change the torch model. ``packed``: the integer codes
    of quantized weights by parameter name (:class:`bias_gate.compress.int_pack.Packed`),
    which the cache stores instead of the float weights; empty when there are none.
    """

    model: Any
    target_sparsity: float | None
    achieved_sparsity: float | None
    per_layer: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    artifact: Path | None = None
    packed: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def measured(
        cls, model: Any, target_sparsity: float | None, notes: list[str] | None = None
    ) -> CompressionResult:
        """The result for ``model`` with its achieved sparsity (all seven projections)
        and per-layer figures measured on it."""
        measured = measure_sparsity(model)
        return cls(
            model=model,
            target_sparsity=target_sparsity,
            achieved_sparsity=measured.fraction,
            per_layer=measured.per_layer,
            notes=list(notes or []),
        )


class Compressor(Protocol):
    """A compression method, registered by name in the entry point group
    ``bias_gate.compressors`` (:data:`bias_gate.registry.COMPRESSORS`, checked against
    this protocol when registered or loaded).

    ``Options``: a :class:`CompressorOptions` subclass validating the method's keys in
    model.yaml (everything in a compression entry besides ``name``, ``method`` and
    ``runtime``).

    Five members are optional, and so not declared here (the registration check asks
    for every declared member):

    - ``cacheable`` (a class attribute, default ``False``): the method changes only the
      weights of the seven decoder projections, so they can be cached
      (:mod:`bias_gate.compress.pipeline`);
    - ``fingerprint_inputs(options, context)``: everything besides ``options`` that
      determines the result, as JSON values (the content hash of each file the method
      reads, never its path; the version of each library outside torch and transformers
      that computes it), part of every cache key of the config
      (:func:`bias_gate.identity.compression_part`). A method without it is taken to
      depend on its options alone;
    - ``runs_as_gguf(options)`` (default ``False``): the compressed model exists as a
      GGUF file llama.cpp can run (``CompressionResult.artifact``; for ``dense``, the
      dense model's file), so the config can be answered in ``runtime: llama_cpp``
      (:mod:`bias_gate.models.runtimes`);
    - ``pack(name, dense, options)``: for a cacheable method that quantizes, the
      :class:`~bias_gate.compress.int_pack.Packed` integer codes of projection ``name``
      computed again from its ``dense`` weights (or ``None``), which the cache stores one
      projection at a time instead of ``CompressionResult.packed`` (held whole);
    - ``needs_copy`` (a class attribute, default ``True``): ``False`` for a method that
      never changes the model it is given (it loads its own, as ``gguf`` and
      ``checkpoint`` do, or returns it as it is, as ``dense``): it is given the dense
      model itself, and no copy of the weights is made for it.
    """

    Options: ClassVar[type[CompressorOptions]]

    def compress(
        self, model: torch.nn.Module, options: Any, context: CompressionContext
    ) -> CompressionResult:
        """Compress ``model`` as ``options`` say and report what was achieved."""
        ...
