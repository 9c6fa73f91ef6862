"""The scoring modes: how prompts are built for an item and how answers are read.

Each mode is a :class:`~bias_gate.answer.context.ScoringMode`: ``variants`` turns one
item into the token sequences the model reads (one per rotation, answer text or prompt),
``answer_batch`` turns a batch of items into :class:`~bias_gate.answer.types.Answer`
values with a :class:`~bias_gate.answer.scorer.PrefixScorer`. They are registered as
entry points of ``bias_gate.scoring_modes`` under the names ``scoring.mode`` uses;
:data:`MODES` holds the shipped ones.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

import torch

from bias_gate.answer.context import ModeContext, ScoringMode
from bias_gate.answer.generate import generate_answers, generate_variants
from bias_gate.answer.prompts import (
    Order,
    continuation_separator,
    encode,
    prompt_text,
    rotations,
)
from bias_gate.answer.scorer import PrefixScorer
from bias_gate.answer.types import Answer
from bias_gate.answer.variants import Variant, VariantScore
from bias_gate.data.items import BBQItem

#: Rotations the ``permuted`` mode averages over (every option at every letter once).
PERMUTED_K = 3


# -- letter and permuted ---------------------------------------------------------------


def letter_position_probs(
    score: VariantScore, letter_ids: Sequence[Sequence[int]]
) -> tuple[float, float, float]:
    """Probabilities of the letters A, B, C (by display position) from next-token
    log-probabilities ordered as :attr:`ModeContext.read_ids`: each letter's variants
    summed, then renormalized over the three letters."""
    mass = []
    offset = 0
    for ids in letter_ids:
        chunk = score.next_logprobs[offset : offset + len(ids)]
        mass.append(float(torch.logsumexp(chunk, dim=0)))
        offset += len(ids)
    top = max(mass)
    weights = [math.exp(m - top) for m in mass]
    total = sum(weights)
    return weights[0] / total, weights[1] / total, weights[2] / total


def to_original_order(position_probs: Sequence[float], order: Order) -> list[float]:
    """Map probabilities by display position back to the item's original options:
    the option shown at position ``p`` is ``order[p]``."""
    out = [0.0, 0.0, 0.0]
    for position, p in enumerate(position_probs):
        out[order[position]] = float(p)
    return out


def _argmax(values: Sequence[float]) -> int:
    return max(range(len(values)), key=lambda i: values[i])


# -- continuation ------------------------------------------------------------------------


def _continuation_variants(ctx: ModeContext, item: BBQItem) -> list[Variant]:
    spec = ctx.scoring.prompt
    prompt = tuple(encode(ctx.tokenizer, prompt_text(item, spec, ctx.tokenizer)))
    sep = continuation_separator(spec)
    out = []
    for text in item.answers:
        continuation = tuple(encode(ctx.tokenizer, sep + text))
        out.append(Variant(prompt + continuation, n_scored=len(continuation)))
    return out


def continuation_score(token_logprobs: torch.Tensor, normalize: str) -> float:
    """An answer text's score: the sum of its tokens' log-probabilities (``"sum"``) or
    their mean (``"mean"``, which does not favour short answers)."""
    total = float(token_logprobs.sum())
    return total / max(1, token_logprobs.numel()) if normalize == "mean" else total


def softmax(scores: Sequence[float]) -> list[float]:
    """Softmax of ``scores`` (probabilities summing to 1)."""
    top = max(scores)
    weights = [math.exp(s - top) for s in scores]
    total = sum(weights)
    return [w / total for w in weights]


def _continuation_answers(
    ctx: ModeContext,
    scorer: PrefixScorer,
    items: Sequence[BBQItem],
    variants: Sequence[Sequence[Variant]],
) -> list[Answer]:
    scores = scorer.score(variants)
    answers = []
    for item, item_scores in zip(items, scores, strict=True):
        values = [
            continuation_score(s.token_logprobs, ctx.scoring.continuation_normalize)
            for s in item_scores
        ]
        probs = softmax(values)
        choice = _argmax(values)
        answers.append(
            Answer(
                key=item.key,
                choice=choice,
                probs=(probs[0], probs[1], probs[2]),
                position_votes=(choice,),
                mode="continuation",
            )
        )
    return answers


class _Rotations:
    """Letter probabilities read after ``k`` rotations of the options (each option at
    each letter once when ``k`` is 3), averaged in the item's original order."""

    name: ClassVar[str]
    k: ClassVar[int]

    def variants(self, ctx: ModeContext, item: BBQItem) -> list[Variant]:
        spec = ctx.scoring.prompt
        return [
            Variant(tuple(encode(ctx.tokenizer, prompt_text(item, spec, ctx.tokenizer, order))))
            for order in rotations(self.k)
        ]

    def answer_batch(
        self,
        ctx: ModeContext,
        scorer: PrefixScorer,
        items: Sequence[BBQItem],
        variants: Sequence[Sequence[Variant]],
    ) -> list[Answer]:
        orders = rotations(self.k)
        scores = scorer.score(variants, ctx.read_ids)
        answers = []
        for item, item_scores in zip(items, scores, strict=True):
            total = [0.0, 0.0, 0.0]
            votes = []
            for order, score in zip(orders, item_scores, strict=True):
                by_position = letter_position_probs(score, ctx.letter_ids)
                votes.append(_argmax(by_position))
                for option, p in enumerate(to_original_order(by_position, order)):
                    total[option] += p / len(orders)
            answers.append(
                Answer(
                    key=item.key,
                    choice=_argmax(total),
                    probs=(total[0], total[1], total[2]),
                    position_votes=tuple(votes),
                    mode=self.name,
                )
            )
        return answers


class Letter(_Rotations):
    """The letter of one prompt's options (A, B, C in the item's own order)."""

    name: ClassVar[str] = "letter"
    position_balanced: ClassVar[bool] = False
    k: ClassVar[int] = 1


class Permuted(_Rotations):
    """The letter probabilities averaged over :data:`PERMUTED_K` rotations of the options."""

    name: ClassVar[str] = "permuted"
    position_balanced: ClassVar[bool] = True
    k: ClassVar[int] = PERMUTED_K


class Continuation:
    """The likelihood of each option's text after the prompt."""

    name: ClassVar[str] = "continuation"
    position_balanced: ClassVar[bool] = False

    def variants(self, ctx: ModeContext, item: BBQItem) -> list[Variant]:
        return _continuation_variants(ctx, item)

    def answer_batch(
        self,
        ctx: ModeContext,
        scorer: PrefixScorer,
        items: Sequence[BBQItem],
        variants: Sequence[Sequence[Variant]],
    ) -> list[Answer]:
        return _continuation_answers(ctx, scorer, items, variants)


class Generate:
    """A generated answer, read by the benchmark's parser (:mod:`bias_gate.answer.generate`)."""

    name: ClassVar[str] = "generate"
    position_balanced: ClassVar[bool] = False

    def variants(self, ctx: ModeContext, item: BBQItem) -> list[Variant]:
        return generate_variants(ctx, item)

    def answer_batch(
        self,
        ctx: ModeContext,
        scorer: PrefixScorer,
        items: Sequence[BBQItem],
        variants: Sequence[Sequence[Variant]],
    ) -> list[Answer]:
        return generate_answers(ctx, scorer, items, variants)


#: The shipped scoring modes by name (each also an entry point of the group
#: ``bias_gate.scoring_modes``, through which the gate finds them).
MODES: dict[str, ScoringMode] = {
    mode.name: mode() for mode in (Letter, Permuted, Continuation, Generate)
}
