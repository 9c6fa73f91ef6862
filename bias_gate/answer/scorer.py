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
(:func:`reference_score`) reads, at the same positions and with the same attended set:
only the arithmetic order differs. Logits are computed only at the positions that are
read, by the model's output head on the gathered hidden states.

Memory is bounded by ``max_batch_tokens``: a forward pass holds at most that many tokens
(rows x widest row, padding included), and no pass keeps its keys and values.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from bias_gate.answer.packing import PackedRow, Placement, forward_batches, pack
from bias_gate.errors import ConfigError

#: Hidden states sent through the output head at once (bounds the [rows, vocab] buffer).
_HEAD_CHUNK = 64

#: Default bound on the tokens of one forward pass (rows x widest row).
MAX_BATCH_TOKENS = 1024

#: Default bound on the nodes of one packed row (attention cost grows with its square).
ROW_TOKENS = 256


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

        read_only = _read_only_layer_class()
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
        return self._read(hidden, groups, placements, read_ids)

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

    def _read(
        self,
        hidden: Sequence[torch.Tensor],
        groups: Sequence[Sequence[Variant]],
        placements: Sequence[Sequence[Placement]],
        read_ids: Sequence[int],
    ) -> list[list[VariantScore]]:
        """Read next-token and continuation log-probabilities at the variants' nodes."""
        flat = [
            (variant, place)
            for group, places in zip(groups, placements, strict=True)
            for variant, place in zip(group, places, strict=True)
        ]
        read = torch.tensor(list(read_ids), dtype=torch.long)
        if len(read):
            last = torch.stack([hidden[place.row][place.path[-1]] for _, place in flat])
            next_lp = self.gathered_logprobs(last, read[None].expand(len(flat), -1))
        else:
            next_lp = torch.empty(len(flat), 0)
        states: list[torch.Tensor] = []
        targets: list[int] = []
        for variant, place in flat:
            k = variant.n_scored
            n = len(place.path)
            # The token at node path[j] is predicted by the hidden state at path[j - 1].
            for j in range(n - k, n):
                states.append(hidden[place.row][place.path[j - 1]])
                targets.append(variant.ids[len(variant.ids) - n + j])
        token_lp = torch.empty(0)
        if states:
            token_lp = self.gathered_logprobs(torch.stack(states), torch.tensor(targets))
        out: list[list[VariantScore]] = []
        index = 0
        offset = 0
        for group in groups:
            scored = []
            for variant in group:
                k = variant.n_scored
                scored.append(VariantScore(next_lp[index], token_lp[offset : offset + k]))
                index += 1
                offset += k
            out.append(scored)
        return out

    # -- decoding ------------------------------------------------------------------
    @torch.inference_mode()
    def prefill(self, prompts: Sequence[Sequence[int]], repeats: int = 1) -> DecodeState:
        """Run ``prompts`` (each starting with the run prefix) in one batch; return the
        state for :meth:`step`, with the next-token log-probabilities of each row.

        With ``repeats`` > 1 each prompt is computed once and read by ``repeats``
        consecutive rows (one per sampling seed); its keys and values are held once, not
        once per row (see ``SharedPromptLayer``)."""
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
        mask = torch.cat([past_mask, new_mask], dim=1)
        if repeats > 1:
            from transformers.cache_utils import Cache

            shared = _shared_prompt_layer_class()
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


@functools.cache
def _read_only_layer_class() -> type:
    from transformers.cache_utils import DynamicLayer

    class ReadOnlyLayer(DynamicLayer):
        """A cache layer holding fixed keys and values (one row, expanded to the batch):
        ``update`` returns them followed by the new ones and stores nothing, so a pass
        keeps at most one layer's keys and values alive."""

        def __init__(self, keys: torch.Tensor, values: torch.Tensor) -> None:
            super().__init__()
            self.keys, self.values = keys, values
            self.device = keys.device
            self.is_initialized = True

        def update(
            self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
        ) -> tuple[torch.Tensor, torch.Tensor]:
            rows = key_states.shape[0]
            keys = torch.cat([self.keys.expand(rows, -1, -1, -1), key_states], dim=-2)
            values = torch.cat([self.values.expand(rows, -1, -1, -1), value_states], dim=-2)
            return keys, values

    return ReadOnlyLayer


@functools.cache
def _shared_prompt_layer_class() -> type:
    from transformers.cache_utils import DynamicLayer

    class SharedPromptLayer(DynamicLayer):
        """A decoding cache layer for prompts shared by ``repeats`` consecutive rows:
        the prompts' keys and values are held once ([prompts, ...]); each row's new
        tokens are held per row. ``update`` returns, for one layer at a time, each row's
        prompt followed by its own new tokens."""

        def __init__(self, keys: torch.Tensor, values: torch.Tensor, repeats: int) -> None:
            super().__init__()
            self.prompt_keys, self.prompt_values, self.repeats = keys, values, repeats
            self.keys = keys.new_empty((keys.shape[0] * repeats, keys.shape[1], 0, keys.shape[3]))
            self.values = values.new_empty(
                (values.shape[0] * repeats, values.shape[1], 0, values.shape[3])
            )
            self.device = keys.device
            self.is_initialized = True

        def update(
            self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
        ) -> tuple[torch.Tensor, torch.Tensor]:
            self.keys = torch.cat([self.keys, key_states], dim=-2)
            self.values = torch.cat([self.values, value_states], dim=-2)
            keys = self.prompt_keys.repeat_interleave(self.repeats, dim=0)
            values = self.prompt_values.repeat_interleave(self.repeats, dim=0)
            return torch.cat([keys, self.keys], dim=-2), torch.cat([values, self.values], dim=-2)

        def get_seq_length(self, *args: Any, **kwargs: Any) -> int:
            return int(self.prompt_keys.shape[-2] + self.keys.shape[-2])

    return SharedPromptLayer


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
