"""How closely two runtimes answer on the same GGUF: the torch engine (the file
dequantized by transformers) and llama.cpp (the file as it ships)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bias_gate.answer.types import Answer


@dataclass(frozen=True)
class Agreement:
    """``items``: items compared; ``same_choice``: share with the identical choice (an
    invalid answer counts as a choice of its own); ``max_logprob_diff``: the largest
    |log p_torch - log p_llama| over the items' three option probabilities (``None``
    in ``generate`` mode, whose probabilities are shares of seeds)."""

    items: int
    same_choice: float
    max_logprob_diff: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def note(self) -> str:
        """One line for a config's notes."""
        diff = (
            f", largest |log p difference| {self.max_logprob_diff:.3g}"
            if self.max_logprob_diff is not None
            else ""
        )
        return (
            f"llama.cpp and the torch engine on the same GGUF: same choice on "
            f"{self.same_choice:.1%} of {self.items} items{diff}"
        )


def _largest_logprob_diff(first: Answer, second: Answer) -> float | None:
    if first.probs is None or second.probs is None or first.mode == "generate":
        return None
    return max(
        abs(math.log(max(a, 1e-300)) - math.log(max(b, 1e-300)))
        for a, b in zip(first.probs, second.probs, strict=True)
    )


def agreement(reference: Mapping[str, Answer], other: Mapping[str, Answer]) -> Agreement:
    """Compare the answers of two runtimes to the same items (keys must match)."""
    if set(reference) != set(other):
        raise ValueError("the two runs answered different items")
    if not reference:
        raise ValueError("no answers to compare")
    same = sum(reference[k].choice == other[k].choice for k in reference)
    diffs = [_largest_logprob_diff(reference[k], other[k]) for k in reference]
    known = [d for d in diffs if d is not None]
    return Agreement(
        items=len(reference),
        same_choice=same / len(reference),
        max_logprob_diff=max(known) if known else None,
    )
