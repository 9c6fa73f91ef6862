"""Calibration samples: seeded windows of tokens from a corpus, and the inputs each
decoder block sees for them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from pydantic import Field

from bias_gate.compress.base import CompressorOptions
from bias_gate.data.text import load_corpus
from bias_gate.errors import DataError


class CalibrationOptions(CompressorOptions):
    """Where activations are measured: ``samples`` windows of ``seq_len`` tokens drawn
    (seeded by the method's ``seed``) from ``corpus``. Defaults are CPU-sane (32 x 256
    tokens); upstream Wanda used 128 x 2048 tokens of C4."""

    corpus: str = "wikitext2:valid"
    samples: int = Field(32, ge=1)
    seq_len: int = Field(256, ge=8)
    batch_size: int = Field(8, ge=1, description="Samples per forward pass.")


def calibration_ids(
    tokenizer: Any,
    options: CalibrationOptions,
    seed: int,
    data_dir: Path | None = None,
    base_dir: Path | None = None,
) -> torch.Tensor:
    """``samples`` x ``seq_len`` token ids: windows starting at offsets drawn uniformly
    (``torch.Generator`` seeded with ``seed``) from the tokenized corpus."""
    text = load_corpus(options.corpus, data_dir, base_dir)
    ids = torch.tensor(tokenizer(text, add_special_tokens=False)["input_ids"], dtype=torch.long)
    if ids.numel() <= options.seq_len:
        raise DataError(
            f"calibration corpus {options.corpus!r} has {ids.numel()} tokens, fewer than "
            f"seq_len {options.seq_len}"
        )
    generator = torch.Generator().manual_seed(seed)
    starts = torch.randint(
        0, ids.numel() - options.seq_len, (options.samples,), generator=generator
    )
    return torch.stack([ids[s : s + options.seq_len] for s in starts.tolist()])


@dataclass
class LayerInput:
    """What one decoder block receives for one batch: hidden states and keyword args
    (attention mask, position embeddings...)."""

    hidden: torch.Tensor
    kwargs: dict[str, Any]


class _Captured(Exception):
    def __init__(self, hidden: torch.Tensor, kwargs: dict[str, Any]) -> None:
        super().__init__("captured")
        self.hidden = hidden
        self.kwargs = kwargs


@torch.no_grad()
def first_layer_inputs(
    model: torch.nn.Module, first_layer: torch.nn.Module, ids: torch.Tensor, batch_size: int
) -> list[LayerInput]:
    """Run the model up to ``first_layer`` for each batch of ``ids`` and keep what the
    block receives (the embedding output and its keyword arguments)."""

    def stop(_module: torch.nn.Module, args: tuple, kwargs: dict[str, Any]) -> None:
        hidden = args[0] if args else kwargs.pop("hidden_states")
        raise _Captured(hidden, {k: v for k, v in kwargs.items() if k != "hidden_states"})

    device = next(model.parameters()).device
    inputs: list[LayerInput] = []
    handle = first_layer.register_forward_pre_hook(stop, with_kwargs=True)
    try:
        for batch in ids.split(batch_size):
            try:
                model(input_ids=batch.to(device), use_cache=False)
            except _Captured as captured:
                inputs.append(LayerInput(captured.hidden, captured.kwargs))
    finally:
        handle.remove()
    return inputs


def layer_output(layer: torch.nn.Module, item: LayerInput) -> torch.Tensor:
    """The hidden states ``layer`` returns for ``item``."""
    out = layer(item.hidden, **item.kwargs)
    return out[0] if isinstance(out, tuple) else out
