"""Batched forward passes that compute each shared prompt token once.

Two levels of sharing:

1. The *run prefix*: the token prefix every prompt of the run shares (the chat template's
   system turn). Its KV cache is computed once; every later pass reads it through a
   read-only cache that never stores the pass's own keys and values.
2. *Packed rows*: the prompts after the run prefix are packed into rows of a prefix tree
   (:mod:`bias_gate.answer.packing`): the rotations of ``permuted`` share the context and
   question, the three answer texts of ``continuation`` share the prompt, and items that
   share a context (BBQ's two questions per context; an ambiguous context is a prefix of
   its disambiguated one) share it too. A 4D attention mask lets each token see only its
   ancestors, and each token takes its depth as position id.

Every variant is scored on exactly the ids the unbatched reference
(:func:`bias_gate.answer.reference.reference_score`) reads, at the same positions and
with the same attended set: only the arithmetic order differs. Logits are computed only
at the positions that are read (:mod:`bias_gate.answer.reading`), by the model's output
head on the gathered hidden states. What goes in and comes out is plain data
(:mod:`bias_gate.answer.variants`); the cache layers are in
:mod:`bias_gate.answer.cache_layers`.

Memory is bounded by ``max_batch_tokens``: a forward pass holds at most that many tokens
(rows x widest row, padding included), and no pass keeps its keys and values.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import torch

from bias_gate.answer.cache_layers import read_only_layer_class, shared_prompt_layer_class
from bias_gate.answer.packing import PackedRow, forward_batches, pack
from bias_gate.answer.reading import read_scores
from bias_gate.answer.variants import DecodeState, Variant, VariantScore
from bias_gate.errors import ConfigError

#: Hidden states sent through the output head at once (bounds the [rows, vocab] buffer).
_HEAD_CHUNK = 64

#: Default bound on the tokens of one forward pass (rows x widest row).
MAX_BATCH_TOKENS = 1024

#: Default bound on the nodes of one packed row (attention cost grows with its square).
ROW_TOKENS = 256


class PrefixScorer:
    """Scores variants of prompts with one model, reusing the KV cache of ``run_prefix``
    (token ids every prompt of the run starts with) and packing the rest into prefix
    trees of at most ``row_tokens`` tokens, ``max_batch_tokens`` tokens per pass."""

    def __init__(
        self,
        model: Any,
        run_prefix: Sequence[int],
        pad_id: int = 0,
        *,
        max_batch_tokens: int = MAX_BATCH_TOKENS,
        row_tokens: int = ROW_TOKENS,
    ) -> None:
        if max_batch_tokens < 1 or row_tokens < 1:
            raise ValueError("max_batch_tokens and row_tokens must be at least 1")
        self.model = model
        self.max_batch_tokens = max_batch_tokens
        self.row_tokens = row_tokens
        self.attention = getattr(model.config, "_attn_implementation", None) or "eager"
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

    def _prefix_cache_readonly(self) -> Any:
        """A cache that gives every layer the run prefix's keys and values (expanded to
        the pass's rows) before the pass's own, and keeps nothing of the pass."""
        from transformers.cache_utils import Cache

        read_only = read_only_layer_class()
        return Cache(layers=[read_only(k, v) for k, v in self._prefix_kv])

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
        if hidden.shape[0] == 0:
            return torch.empty(0, 0)
        starts = range(0, hidden.shape[0], _HEAD_CHUNK)
        return torch.cat([self._chunk_logprobs(hidden[s : s + _HEAD_CHUNK]) for s in starts])

    def gathered_logprobs(self, hidden: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
        """Log-probabilities at ``columns`` only: [n] targets (one per row) or [n, c]
        token ids; the full [n, vocab] table is never held for more than one chunk."""
        out = []
        for s in range(0, hidden.shape[0], _HEAD_CHUNK):
            lp = self._chunk_logprobs(hidden[s : s + _HEAD_CHUNK])
            cols = columns[s : s + _HEAD_CHUNK].to(lp.device)
            picked = lp.gather(1, cols if cols.dim() == 2 else cols[:, None])
            out.append((picked if cols.dim() == 2 else picked[:, 0]).cpu())
        return torch.cat(out) if out else columns.new_empty(columns.shape, dtype=torch.float32)

    def _chunk_logprobs(self, hidden: torch.Tensor) -> torch.Tensor:
        logits = self.head(hidden).float()
        if self.softcap:
            logits = torch.tanh(logits / self.softcap) * self.softcap
        return torch.log_softmax(logits, dim=-1)

    def _padded(self, seqs: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-padded [rows, max len] ids and their 0/1 mask."""
        width = max((len(s) for s in seqs), default=0)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for row, seq in enumerate(seqs):
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = 1
        return ids.to(self.device), mask.to(self.device)

    def check_window(self, length: int) -> None:
        """Refuse a sequence of ``length`` tokens that would not fit in the model's
        sliding window: the scorer's masks and caches are full attention, which equals
        the model's own attention only while every sequence fits."""
        window = getattr(self.model.config, "sliding_window", None)
        if window and length > window:
            raise ConfigError(
                f"a prompt of {length} tokens (with the tokens to generate) is longer than "
                f"the model's sliding window ({window}); shorten the prompt template",
                key="scoring.prompt.template",
            )

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
        share a row). Returns scores in the same nesting and order."""
        if self.attention not in ("sdpa", "eager"):
            raise ConfigError(
                f"scoring needs 'sdpa' or 'eager' attention (it passes a custom attention "
                f"mask), not {self.attention!r}; load the model with one of those",
                key="model",
            )
        p0 = len(self.run_prefix)
        suffixes: list[list[tuple[int, ...]]] = []
        for group in groups:
            tails = []
            for variant in group:
                self._check_prefix(variant.ids)
                self.check_window(len(variant.ids))
                if len(variant.ids) - p0 < variant.n_scored + 1:
                    raise ValueError(
                        "a continuation needs at least one prompt token after the run prefix"
                    )
                tails.append(tuple(variant.ids[p0:]))
            suffixes.append(tails)
        rows, placements = pack(suffixes, min(self.row_tokens, self.max_batch_tokens))
        hidden: list[torch.Tensor] = []  # per row: [nodes, hidden]
        for run in forward_batches(rows, self.max_batch_tokens):
            states = self._forward_rows([rows[r] for r in run])
            hidden.extend(states[i, : len(rows[r])] for i, r in enumerate(run))
        return read_scores(hidden, groups, placements, read_ids, self.gathered_logprobs)

    def _forward_rows(self, rows: Sequence[PackedRow]) -> torch.Tensor:
        """One forward pass over packed ``rows`` after the run prefix; returns the final
        hidden states [rows, widest, hidden] (padding columns hold junk)."""
        p0 = len(self.run_prefix)
        width = max(len(row) for row in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        positions = torch.full((len(rows), width), p0, dtype=torch.long)
        allowed = torch.zeros((len(rows), 1, width, p0 + width), dtype=torch.bool)
        allowed[..., :p0] = True
        for r, row in enumerate(rows):
            n = len(row)
            ids[r, :n] = torch.tensor(row.tokens, dtype=torch.long)
            positions[r, :n] = p0 + torch.tensor(row.depths, dtype=torch.long)
            allowed[r, 0, :n, p0 : p0 + n] = torch.from_numpy(row.ancestors())
            # A padding query sees itself, so no attention row is empty (NaN-free).
            pad = torch.arange(n, width)
            allowed[r, 0, pad, p0 + pad] = True
        self.forward_calls += 1
        kwargs: dict[str, Any] = {"use_cache": False}
        if p0:
            kwargs = {"use_cache": True, self._cache_kw: self._prefix_cache_readonly()}
        out = self.decoder(
            input_ids=ids.to(self.device),
            attention_mask=self._mask(allowed).to(self.device),
            position_ids=positions.to(self.device),
            **kwargs,
        )
        return out.last_hidden_state

    def _mask(self, allowed: torch.Tensor) -> torch.Tensor:
        """The 4D mask in the form the model's attention takes: boolean for SDPA, additive
        (0 or the dtype's minimum) for eager attention."""
        if self.attention == "sdpa":
            return allowed
        dtype = self.model.dtype
        mask = torch.zeros(allowed.shape, dtype=dtype)
        return mask.masked_fill_(~allowed, torch.finfo(dtype).min)

    # -- decoding ------------------------------------------------------------------
    @torch.inference_mode()
    def prefill(self, prompts: Sequence[Sequence[int]], repeats: int = 1) -> DecodeState:
        """Run ``prompts`` (each starting with the run prefix) in one batch; return the
        state for :meth:`step`, with the next-token log-probabilities of each row.

        With ``repeats`` > 1 each prompt is computed once and read by ``repeats``
        consecutive rows (one per sampling seed); its keys and values are held once, not
        once per row (see ``SharedPromptLayer``)."""
        p0 = len(self.run_prefix)
        for prompt in prompts:
            self._check_prefix(prompt)
        suffixes = [list(ids[p0:]) for ids in prompts]
        n = len(prompts)
        cache = self._prefix_cache(n)
        ids, new_mask = self._padded(suffixes)
        past_mask = torch.ones(n, p0, dtype=torch.long, device=self.device)
        positions = p0 + torch.arange(ids.shape[1], device=self.device)[None].expand(n, -1)
        hidden = self._forward(cache, ids, new_mask, past_mask, positions)
        lengths = new_mask.sum(dim=1)
        last = self.logprobs(hidden[torch.arange(n, device=self.device), lengths - 1])
        mask = torch.cat([past_mask, new_mask], dim=1)
        if repeats > 1:
            from transformers.cache_utils import Cache

            shared = shared_prompt_layer_class()
            cache = Cache(layers=[shared(la.keys, la.values, repeats) for la in cache.layers])
            mask = mask.repeat_interleave(repeats, dim=0)
            lengths = lengths.repeat_interleave(repeats, dim=0)
            last = last.repeat_interleave(repeats, dim=0)
        return DecodeState(cache=cache, mask=mask, next_position=p0 + lengths, last_logprobs=last)

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
