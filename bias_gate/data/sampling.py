"""Deterministic, stratified sampling of BBQ items.

Rule (per category, for ``n`` items and a ``seed``):

1. Split ``n`` over the context conditions present (ambig / disambig) by
   :func:`allocate`, so both halves get ``n // 2`` when they can.
2. Within each condition, split its share over the two question polarities the same way.
3. Within each (condition, polarity), split that share over the question templates
   (question_index) the same way.
4. Within each (condition, polarity, template) take the items with the smallest keys
   ``sha256(f"{seed}|{item.key}")``.

The strata at each level are ordered by ``sha256(f"{seed}|{name}")``; a template gets
the same rank under every condition and polarity, so when ``n`` is too small to
cover every template, the same templates are asked in all four variants.

:func:`allocate` is water-filling: every open stratum gets an equal share; a stratum
with fewer items than its share gives all it has and the rest is shared again among
the others; the last few units (fewer than the open strata) go one each to the strata
first in a seeded order. Every choice depends only on the seed and the items' keys,
never on file line order, so the same seed and the same items give the same
selection. The selection is returned sorted by example_id.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TypeVar

from bias_gate.data.items import BBQItem

K = TypeVar("K", bound=Hashable)


def _seeded_key(seed: int, text: str) -> str:
    return hashlib.sha256(f"{seed}|{text}".encode()).hexdigest()


def allocate(total: int, capacities: Mapping[K, int], order: Sequence[K]) -> dict[K, int]:
    """How many of ``total`` units each stratum gets (never more than its capacity).

    Equal shares with redistribution of what small strata cannot take; the remainder
    (fewer units than open strata) goes one each to the open strata first in ``order``.
    The result sums to ``min(total, sum(capacities))``.
    """
    given = {key: 0 for key in order}
    remaining = min(total, sum(capacities[key] for key in order))
    open_keys = [key for key in order if capacities[key] > 0]
    while remaining > 0 and open_keys:
        share = remaining // len(open_keys)
        if share == 0:
            for key in open_keys[:remaining]:
                given[key] += 1
            break
        for key in open_keys:
            take = min(share, capacities[key] - given[key])
            given[key] += take
            remaining -= take
        open_keys = [key for key in open_keys if given[key] < capacities[key]]
    return given


#: The stratification levels, outermost first: each level splits its share equally.
LEVELS: tuple[Callable[[BBQItem], str], ...] = (
    lambda item: item.context_condition,
    lambda item: item.question_polarity,
    lambda item: item.question_index,
)


def _stratified(items: Sequence[BBQItem], n: int, seed: int, level: int) -> list[BBQItem]:
    if level == len(LEVELS):
        return sorted(items, key=lambda i: _seeded_key(seed, i.key))[:n]
    groups: dict[str, list[BBQItem]] = defaultdict(list)
    for item in items:
        groups[LEVELS[level](item)].append(item)
    order = sorted(groups, key=lambda k: _seeded_key(seed, k))
    shares = allocate(n, {k: len(v) for k, v in groups.items()}, order)
    return [
        item for key in order for item in _stratified(groups[key], shares[key], seed, level + 1)
    ]


def sample_items(items: Sequence[BBQItem], n: int | None, seed: int) -> list[BBQItem]:
    """``n`` items stratified as the module doc says (all of them when ``n`` is ``None``
    or at least ``len(items)``), sorted by (category, example_id)."""
    chosen = list(items) if n is None or n >= len(items) else _stratified(items, n, seed, 0)
    return sorted(chosen, key=lambda i: (i.category, i.example_id))
