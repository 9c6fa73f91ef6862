"""Answering and perplexity in llama.cpp (llama-cpp-python), on a GGUF file as it ships.

:class:`LlamaModel` stands where the torch model stands in
:func:`bias_gate.answer.engine.answer_items`: its :meth:`~LlamaModel.prefix_scorer` gives
a :class:`LlamaScorer` with the scorer interface the scoring modes use (``score`` for
``letter``, ``permuted`` and ``continuation``; ``prefill`` / ``step`` for ``generate``).

Shared prefixes are computed once through llama.cpp's KV cache: before each sequence the
cache is cut back to the longest prefix it shares with the sequence evaluated before,
and only the rest is evaluated. The engine orders prompts by their token ids, so the
chat template's system turn, an item's context and question, and the answer texts of
``continuation`` are each computed once per run of neighbours. Logits are kept for every
position (``logits_all``) and turned into float32 log-probabilities as the torch engine
does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from bias_gate.answer.variants import DecodeState, Variant, VariantScore
from bias_gate.config.schema import PerplexitySpec
from bias_gate.errors import ConfigError
from bias_gate.llama.available import require_llama_cpp
from bias_gate.models.perplexity import (
    PerplexityResult,
    corpus_ids,
    perplexity_result,
    window_starts,
)

#: Default context size: BBQ prompts and perplexity windows of up to 1024 tokens.
N_CTX = 1024


def _log_softmax(logits: np.ndarray) -> torch.Tensor:
    return torch.log_softmax(torch.from_numpy(np.asarray(logits, dtype=np.float32)), dim=-1)


class LlamaModel:
    """A GGUF file loaded in llama.cpp, CPU only. ``generation_config``: the model's
    generation settings (end-of-sequence ids, top-k/top-p for sampling), as the torch
    model carries them; ``threads``: llama.cpp's threads (``None``: its default)."""

    def __init__(
        self,
        path: Path,
        *,
        generation_config: Any = None,
        n_ctx: int = N_CTX,
        threads: int | None = None,
    ) -> None:
        llama_cpp = require_llama_cpp("runtime llama_cpp", key="model.runtime")
        self.path = path
        self.n_ctx = n_ctx
        self.llm = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=n_ctx,
            n_batch=min(512, n_ctx),
            logits_all=True,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        self.generation_config = generation_config
        self.evaluated_tokens = 0

    def prefix_scorer(self, run_prefix: Sequence[int] = ()) -> LlamaScorer:
        """The scorer the answer engine uses (the run prefix needs no special handling:
        the KV cache keeps it between sequences)."""
        return LlamaScorer(self)

    def logits(self, ids: Sequence[int]) -> np.ndarray:
        """[len(ids), vocab] logits: row i predicts token i + 1. Only the part of
        ``ids`` after the prefix shared with the previous sequence is evaluated."""
        if not ids:
            raise ValueError("nothing to evaluate")
        if len(ids) > self.n_ctx:
            raise ConfigError(
                f"a sequence of {len(ids)} tokens is longer than the llama.cpp context "
                f"({self.n_ctx})",
                key="model.runtime",
            )
        llm = self.llm
        cached = np.asarray(llm.input_ids[: llm.n_tokens])
        wanted = np.asarray(ids, dtype=cached.dtype)
        common = min(len(cached), len(wanted))
        differ = np.flatnonzero(cached[:common] != wanted[:common])
        shared = int(differ[0]) if len(differ) else common
        llm.n_tokens = shared
        if shared < len(wanted):
            llm.eval([int(t) for t in wanted[shared:]])
            self.evaluated_tokens += len(wanted) - shared
        return llm.scores[: len(wanted)]


@dataclass
class _Rows:
    """Decoding state of :class:`LlamaScorer`: each row's tokens so far."""

    tokens: list[list[int]]


class LlamaScorer:
    """The scorer interface of :class:`bias_gate.answer.scorer.PrefixScorer`, in
    llama.cpp. ``max_batch_tokens`` is 1 so that ``generate`` decodes one prompt (and
    its seeds) at a time: llama.cpp holds one sequence in its cache here."""

    max_batch_tokens = 1

    def __init__(self, model: LlamaModel) -> None:
        self.llama = model
        self.model = SimpleNamespace(generation_config=model.generation_config)
        self.forward_calls = 0

    def check_window(self, length: int) -> None:
        if length > self.llama.n_ctx:
            raise ConfigError(
                f"a prompt of {length} tokens (with the tokens to generate) is longer than "
                f"the llama.cpp context ({self.llama.n_ctx})",
                key="model.runtime",
            )

    def score(
        self, groups: Sequence[Sequence[Variant]], read_ids: Sequence[int] = ()
    ) -> list[list[VariantScore]]:
        """Every variant's next-token log-probabilities of ``read_ids`` and its
        continuation's token log-probabilities (as :meth:`PrefixScorer.score`)."""
        read = list(read_ids)
        out: list[list[VariantScore]] = []
        for group in groups:
            scored = []
            for variant in group:
                self.check_window(len(variant.ids))
                self.forward_calls += 1
                logits = self.llama.logits(variant.ids)
                n, k = len(variant.ids), variant.n_scored
                next_lp = _log_softmax(logits[n - 1])[read] if read else torch.empty(0)
                token_lp = torch.empty(0)
                if k:
                    rows = _log_softmax(logits[n - k - 1 : n - 1])
                    targets = torch.tensor(variant.ids[n - k :], dtype=torch.long)
                    token_lp = rows.gather(1, targets[:, None])[:, 0]
                scored.append(VariantScore(next_lp, token_lp))
            out.append(scored)
        return out

    def _last(self, tokens: Sequence[int]) -> torch.Tensor:
        self.forward_calls += 1
        return _log_softmax(self.llama.logits(tokens)[len(tokens) - 1])

    def prefill(self, prompts: Sequence[Sequence[int]], repeats: int = 1) -> DecodeState:
        """Each prompt evaluated once; ``repeats`` rows read it (one per seed)."""
        rows = [list(p) for p in prompts for _ in range(repeats)]
        last = [self._last(p) for p in prompts]
        stacked = torch.stack(last).repeat_interleave(repeats, dim=0)
        return DecodeState(
            cache=_Rows(rows),
            mask=torch.empty(0),
            next_position=torch.tensor([len(r) for r in rows]),
            last_logprobs=stacked,
        )

    def step(self, state: DecodeState, tokens: torch.Tensor) -> DecodeState:
        """Append one token per row and read each row's next-token log-probabilities."""
        rows: _Rows = state.cache
        for row, token in zip(rows.tokens, tokens.tolist(), strict=True):
            row.append(int(token))
        last = torch.stack([self._last(row) for row in rows.tokens])
        return DecodeState(
            cache=rows,
            mask=state.mask,
            next_position=state.next_position + 1,
            last_logprobs=last,
        )


def llama_window_nll(model: LlamaModel, window: Sequence[int]) -> float:
    """Summed negative log-likelihood (nats) of tokens 2..n of ``window``, evaluated
    from an empty cache (no context crosses a window)."""
    model.llm.n_tokens = 0
    logits = model.logits(window)
    rows = _log_softmax(logits[:-1])
    targets = torch.tensor(list(window[1:]), dtype=torch.long)
    return float(-rows.gather(1, targets[:, None]).double().sum())


def llama_perplexity(
    model: LlamaModel,
    tokenizer: Any,
    spec: PerplexitySpec,
    *,
    data_dir: Path | None = None,
    base_dir: Path | None = None,
) -> PerplexityResult:
    """:func:`bias_gate.models.perplexity.perplexity` in llama.cpp: the same corpus tokens, the
    same windows, the same reading."""
    ids = corpus_ids(tokenizer, spec.corpus, data_dir, base_dir)
    starts = window_starts(ids.numel(), spec.window, spec.windows)
    total = sum(llama_window_nll(model, ids[s : s + spec.window].tolist()) for s in starts)
    return perplexity_result(total, len(starts), spec)
