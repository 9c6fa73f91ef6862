"""What the scorers read and return: a variant of a prompt, its score, and a batch's
decoding state. Plain data (torch only for annotations), shared by the packed scorer
(:mod:`bias_gate.answer.scorer`), the llama.cpp runtime and the scoring modes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


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
