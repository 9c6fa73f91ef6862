"""A category's plan: its items in seeded answering order, and where its looks fall."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from bias_gate.data.items import BBQItem
from bias_gate.stats.sequential import stage_sizes


@dataclass(frozen=True)
class CategoryPlan:
    """One category's items in the order they are answered, and where the looks fall.

    ``ambiguous`` and ``disambiguated`` are in a seeded random order, so every stage is a
    random part of the sample; ``stages`` are the cumulative numbers of ambiguous items
    at each look. The disambiguated items are answered in proportion (they enter the
    compressed model's accuracy and disambiguated bias score, not the decision)."""

    category: str
    ambiguous: tuple[BBQItem, ...]
    disambiguated: tuple[BBQItem, ...]
    stages: tuple[int, ...]

    @property
    def looks(self) -> int:
        return len(self.stages)

    def ambiguous_through(self, look: int) -> tuple[BBQItem, ...]:
        return self.ambiguous[: self.stages[look - 1]] if self.stages else ()

    def items_through(self, look: int) -> tuple[BBQItem, ...]:
        """Every item answered by ``look`` (1-based): ambiguous and disambiguated."""
        if not self.stages:
            return self.disambiguated
        share = self.stages[look - 1] / len(self.ambiguous)
        disambig = self.disambiguated[: math.ceil(share * len(self.disambiguated) - 1e-9)]
        return self.ambiguous_through(look) + disambig


def _stage_order(seed: int, items: Sequence[BBQItem]) -> tuple[BBQItem, ...]:
    return tuple(
        sorted(items, key=lambda i: hashlib.sha256(f"{seed}|stage|{i.key}".encode()).hexdigest())
    )


def plan_categories(
    items: Sequence[BBQItem], categories: Sequence[str], looks: int, seed: int
) -> dict[str, CategoryPlan]:
    """The plan of each category: its items in seeded stage order, and its looks
    (:func:`bias_gate.stats.sequential.stage_sizes` over the ambiguous items)."""
    plans: dict[str, CategoryPlan] = {}
    for category in categories:
        own = [item for item in items if item.category == category]
        ambiguous = _stage_order(seed, [i for i in own if i.is_ambiguous])
        disambiguated = _stage_order(seed, [i for i in own if not i.is_ambiguous])
        plans[category] = CategoryPlan(
            category, ambiguous, disambiguated, stage_sizes(len(ambiguous), looks)
        )
    return plans
