"""Several seeds' answers to one item as one answer (the generate mode): the majority
choice, and each option's share of the valid seeds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence


def majority_vote(seed_choices: Sequence[int | None]) -> int | None:
    """The per-item HARD value from several seeds: the option chosen by the most valid
    seeds; ``None`` when no seed is valid or the top count is tied."""
    counts = Counter(c for c in seed_choices if c is not None).most_common()
    if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
        return None
    return counts[0][0]


def seed_shares(seed_choices: Sequence[int | None]) -> tuple[float, float, float] | None:
    """The per-item SOFT value from several seeds: the share of valid seeds choosing each
    of the three options; ``None`` when no seed is valid."""
    valid = [c for c in seed_choices if c is not None]
    if not valid:
        return None
    return (
        valid.count(0) / len(valid),
        valid.count(1) / len(valid),
        valid.count(2) / len(valid),
    )
