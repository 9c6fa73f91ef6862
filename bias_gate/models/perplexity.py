"""Perplexity over non-overlapping windows of a text.

The corpus is tokenized once (no special tokens) and cut into consecutive windows of
``window`` tokens; ``windows`` of them, evenly spaced over the text (all when ``None``),
are scored. Each window predicts its tokens 2..window from the ones before (no context
crosses a window boundary), so ``n_tokens = n_windows * (window - 1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from bias_gate.config.schema import PerplexitySpec
from bias_gate.data.text import load_corpus
from bias_gate.errors import DataError

_token_cache: dict[tuple[int, str, str | None, str | None], torch.Tensor] = {}


@dataclass(frozen=True)
class PerplexityResult:
    """``perplexity``: exp of the mean negative log-likelihood (nats) per predicted token;
    ``n_tokens``: predicted tokens; ``n_windows``: windows scored; ``window``: tokens per
    window; ``corpus``: the corpus name."""

    perplexity: float
    n_tokens: int
    n_windows: int
    window: int
    corpus: str


def corpus_ids(
    tokenizer: Any, corpus: str, data_dir: Path | None = None, base_dir: Path | None = None
) -> torch.Tensor:
    """The whole corpus as one 1-D tensor of token ids (cached per tokenizer and corpus)."""
    key = (id(tokenizer), corpus, str(data_dir), str(base_dir))
    if key not in _token_cache:
        text = load_corpus(corpus, data_dir, base_dir)
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        _token_cache[key] = torch.tensor(ids, dtype=torch.long)
    return _token_cache[key]


def window_starts(n_ids: int, window: int, windows: int | None) -> list[int]:
    """Start offsets of the scored windows: ``windows`` of the ``n_ids // window``
    non-overlapping windows, evenly spaced (all of them when ``windows`` is ``None``)."""
    total = n_ids // window
    if total == 0:
        raise DataError(f"the corpus has {n_ids} tokens, fewer than one window of {window}")
    count = total if windows is None else min(windows, total)
    picks = sorted({round(i * (total - 1) / max(count - 1, 1)) for i in range(count)})
    return [p * window for p in picks]


@torch.no_grad()
def window_nll(model: torch.nn.Module, batch: torch.Tensor) -> float:
    """Summed negative log-likelihood (nats) of tokens 2..n of each row of ``batch``."""
    logits = model(input_ids=batch, use_cache=False).logits.float()
    logprobs = torch.log_softmax(logits[:, :-1], dim=-1)
    picked = logprobs.gather(-1, batch[:, 1:].unsqueeze(-1)).squeeze(-1)
    return float(-picked.double().sum())


@torch.no_grad()
def perplexity(
    model: torch.nn.Module,
    tokenizer: Any,
    spec: PerplexitySpec,
    *,
    data_dir: Path | None = None,
    base_dir: Path | None = None,
    batch_size: int = 4,
) -> PerplexityResult:
    """Perplexity of ``model`` on ``spec.corpus`` over ``spec.windows`` windows of
    ``spec.window`` tokens (see the module docstring)."""
    ids = corpus_ids(tokenizer, spec.corpus, data_dir, base_dir)
    starts = window_starts(ids.numel(), spec.window, spec.windows)
    device = next(model.parameters()).device
    total_nll = 0.0
    for i in range(0, len(starts), batch_size):
        chunk = starts[i : i + batch_size]
        batch = torch.stack([ids[s : s + spec.window] for s in chunk]).to(device)
        total_nll += window_nll(model, batch)
    return perplexity_result(total_nll, len(starts), spec)


def perplexity_result(total_nll: float, n_windows: int, spec: PerplexitySpec) -> PerplexityResult:
    """The perplexity of ``n_windows`` windows of ``spec`` whose scored tokens (all but
    each window's first) have summed negative log-likelihood ``total_nll``."""
    n_tokens = n_windows * (spec.window - 1)
    return PerplexityResult(
        perplexity=math.exp(total_nll / n_tokens),
        n_tokens=n_tokens,
        n_windows=n_windows,
        window=spec.window,
        corpus=spec.corpus,
    )
