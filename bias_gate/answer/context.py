"""What a scoring mode is, and the context every mode gets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from bias_gate.answer.prompts import letter_token_ids
from bias_gate.answer.types import Answer
from bias_gate.answer.variants import Variant
from bias_gate.config.schema import ScoringSpec
from bias_gate.data.items import BBQItem
from bias_gate.data.parse import parse_answer

if TYPE_CHECKING:
    from bias_gate.answer.scorer import PrefixScorer


@dataclass
class ModeContext:
    """What every mode needs besides the model: the tokenizer and the scoring settings.

    ``letter_ids``: for A, B, C the single-token ids that spell the letter (see
    :func:`~bias_gate.answer.prompts.letter_token_ids`). ``parse_answer``: how a
    generated text is read (the benchmark's; default the English reader).
    """

    tokenizer: Any
    scoring: ScoringSpec
    parse_answer: Callable[[str, Sequence[str]], int | None] = parse_answer
    letter_ids: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] = field(init=False)

    def __post_init__(self) -> None:
        self.letter_ids = letter_token_ids(self.tokenizer)

    @property
    def read_ids(self) -> tuple[int, ...]:
        """All letter token ids, A's first, then B's, then C's."""
        return tuple(i for ids in self.letter_ids for i in ids)


class ScoringMode(Protocol):
    """A scoring mode, registered by name in the entry point group
    ``bias_gate.scoring_modes`` (a class instantiated without arguments) and chosen with
    ``scoring.mode``: how an item becomes the token sequences the model reads, and how a
    batch of them becomes answers.

    ``position_balanced``: whether the mode's choice is averaged over option orders, so
    that a habit of picking one letter position cannot decide it (``permuted``). The
    validity check judges the dense model's letter-position share only for modes that
    are not; a balanced mode's share is reported as a note."""

    name: ClassVar[str]
    position_balanced: ClassVar[bool]

    def variants(self, ctx: ModeContext, item: BBQItem) -> list[Variant]:
        """The token sequences the model reads for ``item`` (one per rotation, answer
        text or prompt)."""
        ...

    def answer_batch(
        self,
        ctx: ModeContext,
        scorer: PrefixScorer,
        items: Sequence[BBQItem],
        variants: Sequence[Sequence[Variant]],
    ) -> list[Answer]:
        """The answers to ``items`` (their ``variants`` in the same order)."""
        ...
