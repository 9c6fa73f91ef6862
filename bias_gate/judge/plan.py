"""What a gate run judges, decided from the config before anything is answered.

Which compression configs (this shard's, in model.yaml order), which checks each has
(its perplexity, when enabled, then one per category), and each category's items in
answering order with its looks (:func:`bias_gate.judge.looks.plan_categories`, seeded by
``data.seed``). The pytest nodes collect the configs and checks; the runner answers the
category plans.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bias_gate.config.schema import GateSpec

if TYPE_CHECKING:
    from bias_gate.data.items import BBQItem
    from bias_gate.gate.options import Shard
    from bias_gate.judge.looks import CategoryPlan

#: The check of a config that compares perplexities (the others are its categories).
PERPLEXITY_CHECK = "perplexity"


@dataclass(frozen=True)
class ConfigPlan:
    """One compression config of the run and its checks, in the order they report."""

    name: str
    checks: tuple[str, ...]


def planned_configs(spec: GateSpec, shard: Shard | None) -> list[ConfigPlan]:
    """The configs this process judges (``shard``'s share of model.yaml's; all without
    one), each with its checks."""
    checks = ((PERPLEXITY_CHECK,) if spec.perplexity.enabled else ()) + tuple(spec.data.categories)
    return [
        ConfigPlan(compression.name, checks)
        for position, compression in enumerate(spec.compressions)
        if shard is None or shard.takes(position)
    ]


def category_plans(spec: GateSpec, items: Sequence[BBQItem]) -> dict[str, CategoryPlan]:
    """Each category's ``items`` in answering order, and its looks (``sequential.looks``)."""
    from bias_gate.judge.looks import (
        plan_categories,  # numpy and scipy: only once items are planned
    )

    return plan_categories(items, spec.data.categories, spec.sequential.looks, spec.data.seed)
