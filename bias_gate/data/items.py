"""The BBQ item: one question with three options and its derived bias targets."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Literal

from bias_gate.fingerprint import fingerprint

#: The option letters, by display position.
LETTERS: tuple[str, str, str] = ("A", "B", "C")

Polarity = Literal["neg", "nonneg"]
Condition = Literal["ambig", "disambig"]

#: Every category of the official BBQ release, by the name of its JSONL file.
ALL_CATEGORIES: tuple[str, ...] = (
    "Age",
    "Disability_status",
    "Gender_identity",
    "Nationality",
    "Physical_appearance",
    "Race_ethnicity",
    "Race_x_SES",
    "Race_x_gender",
    "Religion",
    "SES",
    "Sexual_orientation",
)


@dataclass(frozen=True)
class BBQItem:
    """One BBQ question, as the official JSONL has it, plus derived targets.

    ``unknown_index``: the option whose answer_info label is "unknown" (the correct
    answer of every ambiguous item).

    ``biased_index``: the official BBQ rule (Parrish et al. 2022, analysis script):
    for a negative question the option whose group is stereotyped; for a non-negative
    question the *other* non-unknown option. ``None`` when the rule finds no single
    option; such items are excluded from bias scores and counted.

    ``stereotyped_index``: the option whose group is stereotyped, ignoring polarity:
    the definition the 2026 pruning study used for its SRS, kept for comparison only.
    """

    category: str
    example_id: int
    question_index: str
    question_polarity: Polarity
    context_condition: Condition
    context: str
    question: str
    answers: tuple[str, str, str]
    label: int
    unknown_index: int
    biased_index: int | None
    stereotyped_index: int | None
    answer_groups: tuple[str, str, str] = ("", "", "")
    stereotyped_groups: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        """A run-wide unique id: ``"<category>/<example_id>"``."""
        return f"{self.category}/{self.example_id}"

    @property
    def is_ambiguous(self) -> bool:
        return self.context_condition == "ambig"


def items_fingerprint(items: Iterable[BBQItem]) -> str:
    """The one fingerprint of a set of items: a hash of their full content, order
    included. Equal selections give equal fingerprints; any changed field, added or
    dropped item changes it (the items' share of every answers key)."""
    return fingerprint("bbq-items/v1", [asdict(item) for item in items])
