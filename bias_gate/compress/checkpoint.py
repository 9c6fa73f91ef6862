"""A model compressed elsewhere (llm-compressor, llama.cpp, ...), compared as it is.

The options name the checkpoint like the ``model`` section does (exactly one of ``hf``,
``path``, ``gguf``); relative paths are relative to model.yaml. Its sparsity is measured
like every other config's; when ``sparsity`` is given (what the release claims), a
shortfall is an error like for the in-house methods.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
from pydantic import ValidationInfo, field_validator, model_validator

from bias_gate.compress.base import (
    CompressionContext,
    CompressionResult,
    CompressorOptions,
    config_dir_of,
)
from bias_gate.compress.pruning import check_sparsity
from bias_gate.config.schema import ModelSpec
from bias_gate.errors import ModelLoadError


class CheckpointOptions(CompressorOptions):
    """Options of ``checkpoint``: one of ``hf`` (+ ``revision``), ``path`` (a directory
    with config and safetensors) or ``gguf``; ``dtype``; ``trust_remote_code``;
    ``sparsity``: the sparsity the checkpoint claims (optional, checked)."""

    hf: str | None = None
    revision: str | None = None
    path: Path | None = None
    gguf: Path | None = None
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    trust_remote_code: bool = False
    sparsity: float | None = None
    seed: int = 0

    #: Where the checkpoint lies is no identity: its content is (``fingerprint_inputs``).
    location_options: ClassVar[set[str]] = {"path", "gguf"}

    @field_validator("path", "gguf")
    @classmethod
    def _exists(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        """A local checkpoint must be there when model.yaml loads, not minutes later."""
        base = config_dir_of(info)
        if value is None or base is None:
            return value
        where = value.expanduser()
        where = where if where.is_absolute() else base / where
        is_there = where.is_dir() if info.field_name == "path" else where.is_file()
        if not is_there:
            what = "checkpoint directory" if info.field_name == "path" else "GGUF file"
            raise ValueError(
                f"{what} {str(where)!r} does not exist; fix the path (relative paths are "
                "relative to model.yaml)"
            )
        return value

    @field_validator("sparsity")
    @classmethod
    def _fraction(cls, value: float | None) -> float | None:
        return check_sparsity(value)

    @model_validator(mode="after")
    def _one_source(self) -> CheckpointOptions:
        given = [k for k in ("hf", "path", "gguf") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "checkpoint needs exactly one of hf, path, gguf "
                f"(got {', '.join(given) if given else 'none'})"
            )
        return self

    def model_spec(self, base_dir: Path) -> ModelSpec:
        """The checkpoint as a :class:`ModelSpec`, relative paths resolved on ``base_dir``."""

        def resolve(path: Path | None) -> Path | None:
            if path is None:
                return None
            path = path.expanduser()
            return path if path.is_absolute() else base_dir / path

        return ModelSpec(
            hf=self.hf,
            revision=self.revision,
            path=resolve(self.path),
            gguf=resolve(self.gguf),
            dtype=self.dtype,
            trust_remote_code=self.trust_remote_code,
        )


class CheckpointCompressor:
    """Load the checkpoint (ignoring the dense model passed in) and measure it."""

    Options: ClassVar[type[CheckpointOptions]] = CheckpointOptions
    cacheable: ClassVar[bool] = False
    #: Never changes the model it is given: no copy is made for it.
    needs_copy: ClassVar[bool] = False

    def fingerprint_inputs(
        self, options: CheckpointOptions, context: CompressionContext
    ) -> list[Any]:
        """The checkpoint's content: the SHA-256 of every file of its directory (or of
        its GGUF file), or the commit its hub revision resolves to. A checkpoint rebuilt
        in place gets a new identity; the same files anywhere get the same one."""
        from bias_gate.models.loading import model_fingerprint

        spec = options.model_spec(Path(context.config_dir).resolve())
        return [{"checkpoint": model_fingerprint(spec)}]

    def runs_as_gguf(self, options: CheckpointOptions) -> bool:
        """A checkpoint given as a GGUF file runs in llama.cpp as it is."""
        return options.gguf is not None

    def compress(
        self, model: torch.nn.Module, options: CheckpointOptions, context: CompressionContext
    ) -> CompressionResult:
        from bias_gate.models.loading import load_model

        spec = options.model_spec(Path(context.config_dir))
        # A GGUF checkpoint is dequantized in the run's cache (a scratch copy), never the user's.
        loaded = load_model(spec, device=context.device, cache_dir=context.cache_dir)
        if context.tokenizer is not None and loaded.tokenizer.get_vocab() != (
            context.tokenizer.get_vocab()
        ):
            raise ModelLoadError(
                f"checkpoint {spec.display_name} has a different tokenizer than the dense "
                "model; answers could not be compared item by item",
                key="compressions.checkpoint",
            )
        result = CompressionResult.measured(
            loaded.model, options.sparsity, [f"checkpoint {spec.display_name} compared as it is"]
        )
        result.artifact = spec.gguf
        return result
