"""What a gate run loads once and every part of it shares: the items, the device, the
dense model as torch loads it, its F32 GGUF for llama.cpp, and the context every
compression gets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias_gate.config.schema import GateSpec
from bias_gate.gate.options import GateOptions
from bias_gate.gate.progress import ProgressTracker

if TYPE_CHECKING:
    from bias_gate.compress.base import CompressionContext
    from bias_gate.data.loader import ItemSet
    from bias_gate.models.loading import LoadedModel


class RunModels:
    """The run's items and dense model, each loaded the first time it is asked for.
    ``worker``: the xdist worker's number (spreads workers over CUDA devices)."""

    def __init__(
        self,
        spec: GateSpec,
        options: GateOptions,
        worker: int | None,
        progress: ProgressTracker,
        cache_dir: Path,
    ):
        self.spec = spec
        self.options = options
        self.worker = worker
        self.progress = progress
        self.cache_dir = cache_dir
        self._items: ItemSet | None = None
        self._loaded: LoadedModel | None = None

    def items(self) -> ItemSet:
        if self._items is None:
            from bias_gate.data.loader import load_items

            self._items = load_items(self.spec.data, data_dir=self.options.data_dir)
        return self._items

    def device(self) -> str:
        from bias_gate.models.loading import resolve_device

        device = resolve_device(self.spec.model.device)
        if device == "cuda" and self.worker is not None:
            import torch

            device = f"cuda:{self.worker % torch.cuda.device_count()}"
        return device

    def loaded(self) -> LoadedModel:
        """The dense model as torch loads it, once, its projections mapped to be
        compressed in place where they can be (:mod:`bias_gate.compress.in_place`)."""
        if self._loaded is None:
            from bias_gate.models.load_progress import gguf_tensor_progress
            from bias_gate.models.loading import load_model

            self.progress.stage("loading the dense model")

            def tensors(done: int, total: int) -> None:
                self.progress.detail(f"loading the dense model: GGUF tensor {done}/{total}")

            from bias_gate.compress.in_place import attach_loaded

            with gguf_tensor_progress(tensors):
                self._loaded = load_model(
                    self.spec.model,
                    device=self.device(),
                    cache_dir=self.cache_dir,
                    on_loaded=attach_loaded,  # while a GGUF's scratch copy is there to map
                )
        return self._loaded

    def dense_gguf(self) -> Path:
        """The dense model as an F32 GGUF file (written once): what llama.cpp runs for it."""
        from bias_gate.compress.gguf_quant import write_dense_gguf

        return write_dense_gguf(self.compression_context())

    def compression_context(
        self, tokenizer: Any = None, device: str | None = None
    ) -> CompressionContext:
        """The :class:`CompressionContext` of this run's compressions."""
        from bias_gate.compress.base import CompressionContext
        from bias_gate.models.loading import gguf_file

        return CompressionContext(
            tokenizer=tokenizer,
            config_dir=(self.spec.source_path or Path("model.yaml")).parent.resolve(),
            data_dir=self.options.data_dir,
            device=device or self.device(),
            dense_gguf=gguf_file(self.spec.model),
            artifact_dir=self.cache_dir / "artifacts",
            cache_dir=self.cache_dir,
        )
