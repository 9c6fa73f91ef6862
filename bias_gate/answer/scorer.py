"""Batched forward passes that reuse the KV cache of shared prompt prefixes.

Two levels of sharing:

1. The *run prefix*: the token prefix every prompt of the run shares (the chat template's
   system turn). Its KV cache is computed once and expanded along the batch dimension.
2. The *group stem*: within one item, the prefix its variants share (the context and
   question before the options, across the rotations of ``permuted``; the whole prompt
   across the three answer texts of ``continuation``). One pass per item computes it;
   the cache rows are then repeated for each variant, which only processes its tail.

Prefixes are found on token ids (longest common prefix of the tokenized prompts), never
by splitting strings, so every variant is scored on exactly the ids the unbatched
reference (:func:`reference_score`) reads: only the arithmetic order differs.

Layout: each row is ``[run prefix | stem (right-padded) | tail (right-padded)]``. Pad
columns are masked out in the 2D attention mask and every real token gets its true
position id, so the holes left by padding change nothing; a pad query always has at
least one real key before it (no fully masked attention row). Logits are computed only
at the positions that are read, by the model's output head on the gathered hidden states.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from bias_gate.answer.prompts import common_prefix_length

#: Hidden states sent through the output head at once (bounds the [rows, vocab] buffer).
_HEAD_CHUNK = 256


@dataclass(frozen=True)
class Variant:
    """One prompt to score: its full token ids, and how many trailing tokens are a
    continuation whose log-probabilities are wanted (0: only the next token is read)."""

    ids: tuple[int, ...]
    n_scored: int = 0


@dataclass(frozen=True)
class VariantScore:
    """What was read from one variant.

    ``next_logprobs``: natural-log probabilities, over the whole vocabulary, of the
    tokens ``read_ids`` at the position after the last token (empty if none were asked).
    ``token_logprobs``: log-probability of each of the ``n_scored`` trailing tokens given
    everything before it.
    """

    next_logprobs: torch.Tensor
    token_logprobs: torch.Tensor


@dataclass
class DecodeState:
    """A batch after :meth:`PrefixScorer.prefill`, ready for token-by-token decoding.

    ``cache``: the KV cache, one row per prompt; ``mask``: [rows, columns] 1 for real
    tokens; ``next_position``: the position id the next token of each row takes;
    ``last_logprobs``: [rows, vocab] log-probabilities of the next token.
    """

    cache: Any
    mask: torch.Tensor
    next_position: torch.Tensor
    last_logprobs: torch.Tensor


class PrefixScorer:
    """Scores variants of prompts with one model, reusing the KV cache of ``run_prefix``
    (token ids every prompt of the run starts with)."""

    def __init__(self, model: Any, run_prefix: Sequence[int], pad_id: int = 0) -> None:
        self.model = model
        self.decoder = model.get_decoder()
        self.head = model.get_output_embeddings()
        self.softcap = getattr(model.config, "final_logit_softcapping", None)
        self.device = next(model.parameters()).device
        self.pad_id = int(pad_id)
        self.run_prefix = tuple(int(t) for t in run_prefix)
        params = inspect.signature(self.decoder.forward).parameters
        self._cache_kw = "cache" if "cache" in params else "past_key_values"
        self.forward_calls = 0
        self._prefix_kv: list[tuple[torch.Tensor, torch.Tensor]] = []
        if self.run_prefix:
            cache = self._empty_cache()
            ids = torch.tensor([self.run_prefix], device=self.device)
            self._forward(
                cache,
                ids,
                torch.ones_like(ids),
                torch.ones(1, 0, dtype=torch.long, device=self.device),
                torch.arange(len(self.run_prefix), device=self.device)[None],
            )
            self._prefix_kv = [(layer.keys, layer.values) for layer in cache.layers]

    # -- low level -------------------------------------------------------------------
    def _empty_cache(self) -> Any:
        from transformers import DynamicCache

        return DynamicCache(config=self.model.config)

    def _prefix_cache(self, rows: int) -> Any:
        """A fresh cache holding the run prefix, repeated for ``rows`` rows."""
        from transformers import DynamicCache

        if not self._prefix_kv:
            return self._empty_cache()
        data = [
            (k.expand(rows, -1, -1, -1), v.expand(rows, -1, -1, -1)) for k, v in self._prefix_kv
        ]
        return DynamicCache(ddp_cache_data=data, config=self.model.config)

    def _forward(
        self,
        cache: Any,
        ids: torch.Tensor,
        new_mask: torch.Tensor,
        past_mask: torch.Tensor,
        positions: torch.Tensor,
    ) -> torch.Tensor:
        """Run the decoder on ``ids`` [rows, L] after what ``cache`` holds; returns the
        final hidden states [rows, L, hidden]. ``cache`` grows by L columns."""
        mask = torch.cat([past_mask, new_mask], dim=1)
        self.forward_calls += 1
        out = self.decoder(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            **{self._cache_kw: cache},
        )
        return out.last_hidden_state

    def logprobs(self, hidden: torch.Tensor) -> torch.Tensor:
        """[n, hidden] final hidden states -> [n, vocab] float32 log-probabilities."""
        chunks = []
        for start in range(0, hidden.shape[0], _HEAD_CHUNK):
            logits = self.head(hidden[start : start + _HEAD_CHUNK]).float()
            if self.softcap:
                logits = torch.tanh(logits / self.softcap) * self.softcap
            chunks.append(torch.log_softmax(logits, dim=-1))
        if not chunks:
            return torch.empty(0, 0)
        return torch.cat(chunks)

    def _padded(self, seqs: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-padded [rows, max len] ids and their 0/1 mask."""
        width = max((len(s) for s in seqs), default=0)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for row, seq in enumerate(seqs):
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = 1
        return ids.to(self.device), mask.to(self.device)

    def _check_prefix(self, ids: Sequence[int]) -> None:
        p = len(self.run_prefix)
        if tuple(ids[:p]) != self.run_prefix or len(ids) <= p:
            raise ValueError("a prompt does not start with the run prefix, or has nothing after it")

    # -- scoring -------------------------------------------------------------------
    @torch.inference_mode()
    def score(
        self, groups: Sequence[Sequence[Variant]], read_ids: Sequence[int] = ()
    ) -> list[list[VariantScore]]:
        """Score every variant of every group (a group = the variants of one item, which
        share a stem). Returns scores in the same nesting and order."""
        p0 = len(self.run_prefix)
        stems: list[list[int]] = []
        tails: list[list[int]] = []
        row_group: list[int] = []
        for g, group in enumerate(groups):
            suffixes = []
            for variant in group:
                self._check_prefix(variant.ids)
                if len(variant.ids) - p0 < variant.n_scored + 1:
                    raise ValueError(
                        "a continuation needs at least one prompt token after the run prefix"
                    )
                suffixes.append(variant.ids[p0:])
            stem_len = 0
            if len(group) > 1:
                cap = min(len(s) - v.n_scored - 1 for s, v in zip(suffixes, group, strict=True))
                stem_len = max(0, min(common_prefix_length(suffixes), cap))
            stems.append(list(suffixes[0][:stem_len]))
            for suffix in suffixes:
                tails.append(list(suffix[stem_len:]))
                row_group.append(g)
        n_groups = len(groups)
        rows = torch.tensor(row_group, dtype=torch.long, device=self.device)
        prefix_mask = torch.ones(n_groups, p0, dtype=torch.long, device=self.device)
        if p0 == 0 and any(len(s) == 0 for s in stems):
            # With no run prefix, an all-padding stem row would attend to nothing (NaN
            # keys in the cache): score every variant in full instead.
            tails = [list(v.ids) for group in groups for v in group]
            stems = [[] for _ in groups]
        stem_lens = torch.tensor([len(s) for s in stems], dtype=torch.long, device=self.device)

        if int(stem_lens.max()) > 0:
            cache = self._prefix_cache(n_groups)
            stem_ids, stem_mask = self._padded(stems)
            positions = p0 + torch.arange(stem_ids.shape[1], device=self.device)[None].expand(
                n_groups, -1
            )
            self._forward(cache, stem_ids, stem_mask, prefix_mask, positions)
            cache.batch_select_indices(rows)
            past_mask = torch.cat([prefix_mask, stem_mask], dim=1)[rows]
        else:
            cache = self._prefix_cache(len(row_group))
            past_mask = prefix_mask[rows]
        tail_ids, tail_mask = self._padded(tails)
        width = tail_ids.shape[1]
        positions = (p0 + stem_lens[rows])[:, None] + torch.arange(width, device=self.device)[None]
        hidden = self._forward(cache, tail_ids, tail_mask, past_mask, positions)
        return self._read(hidden, groups, tails, read_ids)

    def _read(
        self,
        hidden: torch.Tensor,
        groups: Sequence[Sequence[Variant]],
        tails: Sequence[Sequence[int]],
        read_ids: Sequence[int],
    ) -> list[list[VariantScore]]:
        variants = [v for group in groups for v in group]
        read = torch.tensor(list(read_ids), dtype=torch.long)
        last = torch.tensor([len(t) - 1 for t in tails], dtype=torch.long, device=self.device)
        if len(read):
            final = self.logprobs(hidden[torch.arange(len(tails), device=self.device), last])
            next_lp = final[:, read].cpu()
        else:
            next_lp = torch.empty(len(tails), 0)
        row_idx: list[int] = []
        pos_idx: list[int] = []
        targets: list[int] = []
        for row, (variant, tail) in enumerate(zip(variants, tails, strict=True)):
            k = variant.n_scored
            for j in range(len(tail) - k, len(tail)):
                row_idx.append(row)
                pos_idx.append(j - 1)
                targets.append(tail[j])
        token_lp = torch.empty(0)
        if row_idx:
            lp = self.logprobs(hidden[torch.tensor(row_idx), torch.tensor(pos_idx)])
            token_lp = lp[torch.arange(len(targets)), torch.tensor(targets)].cpu()
        out: list[list[VariantScore]] = []
        flat = 0
        offset = 0
        for group in groups:
            scored = []
            for variant in group:
                k = variant.n_scored
                scored.append(VariantScore(next_lp[flat], token_lp[offset : offset + k]))
                flat += 1
                offset += k
            out.append(scored)
        return out

    # -- decoding ------------------------------------------------------------------
    @torch.inference_mode()
    def prefill(self, prompts: Sequence[Sequence[int]]) -> DecodeState:
        """Run ``prompts`` (each starting with the run prefix) in one batch; return the
        state for :meth:`step`, with the next-token log-probabilities of each row."""
        p0 = len(self.run_prefix)
        for ids in prompts:
            self._check_prefix(ids)
        suffixes = [list(ids[p0:]) for ids in prompts]
        n = len(prompts)
        cache = self._prefix_cache(n)
        ids, new_mask = self._padded(suffixes)
        past_mask = torch.ones(n, p0, dtype=torch.long, device=self.device)
        positions = p0 + torch.arange(ids.shape[1], device=self.device)[None].expand(n, -1)
        hidden = self._forward(cache, ids, new_mask, past_mask, positions)
        lengths = new_mask.sum(dim=1)
        last = self.logprobs(hidden[torch.arange(n, device=self.device), lengths - 1])
        return DecodeState(
            cache=cache,
            mask=torch.cat([past_mask, new_mask], dim=1),
            next_position=p0 + lengths,
            last_logprobs=last,
        )

    @torch.inference_mode()
    def step(self, state: DecodeState, tokens: torch.Tensor) -> DecodeState:
        """Append one token per row ([rows] ids) and return the updated state."""
        n = tokens.shape[0]
        ones = torch.ones(n, 1, dtype=torch.long, device=self.device)
        hidden = self._forward(
            state.cache,
            tokens.to(self.device)[:, None],
            ones,
            state.mask,
            state.next_position[:, None],
        )
        return DecodeState(
            cache=state.cache,
            mask=torch.cat([state.mask, ones], dim=1),
            next_position=state.next_position + 1,
            last_logprobs=self.logprobs(hidden[:, -1]),
        )


@torch.inference_mode()
def reference_score(model: Any, variant: Variant, read_ids: Sequence[int] = ()) -> VariantScore:
    """The plain, unbatched reading of one variant: one full forward pass of the model on
    its ids, no cache, no padding. The batched scorer must agree with it."""
    device = next(model.parameters()).device
    ids = torch.tensor([variant.ids], device=device)
    logits = model(input_ids=ids).logits[0].float()
    lp = torch.log_softmax(logits, dim=-1)
    next_lp = lp[-1, list(read_ids)].cpu() if read_ids else torch.empty(0)
    k = variant.n_scored
    n = len(variant.ids)
    positions = list(range(n - k - 1, n - 1))
    targets = list(variant.ids[n - k :])
    token_lp = lp[positions, targets].cpu() if k else torch.empty(0)
    return VariantScore(next_lp, token_lp)
