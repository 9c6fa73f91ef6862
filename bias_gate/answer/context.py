"""What a scoring mode is, and the context every mode gets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bias_gate.answer.prompts import letter_token_ids
from bias_gate.answer.scorer import PrefixScorer, Variant
from bias_gate.answer.types import Answer
from bias_gate.config import ScoringSpec
from bias_gate.data.items import BBQItem


@dataclass
class ModeContext:
    """What every mode needs besides the model: the tokenizer and the scoring settings.

    ``letter_ids``: for A, B, C the single-token ids that spell the letter (see
    :func:`~bias_gate.answer.prompts.letter_token_ids`).
    """

    tokenizer: Any
    scoring: ScoringSpec
    letter_ids: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] = field(init=False)

    def __post_init__(self) -> None:
        self.letter_ids = letter_token_ids(self.tokenizer)

    @property
    def read_ids(self) -> tuple[int, ...]:
        """All letter token ids, A's first, then B's, then C's."""
        return tuple(i for ids in self.letter_ids for i in ids)


VariantsFn = Callable[[ModeContext, BBQItem], list[Variant]]
AnswerBatchFn = Callable[
    [ModeContext, PrefixScorer, Sequence[BBQItem], Sequence[Sequence[Variant]]], list[Answer]
]


@dataclass(frozen=True)
class Mode:
    """A scoring mode: how to build an item's variants and how to answer a batch."""

    name: str
    variants: VariantsFn
    answer_batch: AnswerBatchFn
