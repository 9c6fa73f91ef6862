"""Valid, not valid, or too few items to tell: the three outcomes of the accuracy check.

A model is judged for bias only when it is shown to answer disambiguated questions
(where the context states the answer) above chance. The one-sided exact binomial test
against chance 1/3 at ``validity.max_disambig_pvalue`` (alpha_v) shows that. When it
does not, either the model is shown **not valid** (the one-sided upper (1 - alpha_v)
Clopper-Pearson bound of its accuracy is below ``validity.min_accuracy``: it answers
near chance, whatever more items would say) or there are **too few items** to tell;
then :func:`items_to_show_validity` says about how many would: the smallest number from
which on a model answering ``min_accuracy`` correctly passes the test with the profile's
power. So

- P(valid | accuracy <= 1/3) <= alpha_v (the exact test),
- P(not valid | accuracy >= min_accuracy) <= alpha_v (the exact bound),

and too few items is never a FAIL: it is INCONCLUSIVE (docs/statistics.md, "Validity").
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats as sps

#: Chance accuracy with three options.
CHANCE = 1.0 / 3.0

ValidityState = Literal["valid", "too_few", "not_valid"]


def accuracy_upper_bound(correct: int, n: int, alpha: float) -> float:
    """The one-sided upper (1 - ``alpha``) Clopper-Pearson bound of an accuracy seen as
    ``correct`` of ``n`` (1.0 when ``n`` is 0 or every answer is correct)."""
    if n == 0 or correct >= n or alpha >= 1:
        return 1.0
    return float(sps.beta.ppf(1 - alpha, correct + 1, n - correct))


def exact_power(n: np.ndarray, accuracy: float, alpha: float, chance: float = CHANCE) -> np.ndarray:
    """Exact power of the one-sided binomial test of "accuracy <= ``chance``" at level
    ``alpha`` with ``n`` items (an array), when the true accuracy is ``accuracy``: the
    probability that the number correct reaches the test's critical count."""
    n = np.asarray(n, dtype=np.int64)
    # Smallest k with P(X >= k | chance) <= alpha: P(X >= k) = sf(k - 1).
    critical = sps.binom.isf(alpha, n, chance) + 1
    # isf can land one off at the edges of floating point; step to the exact count.
    critical = np.where(sps.binom.sf(critical - 2, n, chance) <= alpha, critical - 1, critical)
    critical = np.where(sps.binom.sf(critical - 1, n, chance) > alpha, critical + 1, critical)
    return np.where(critical > n, 0.0, sps.binom.sf(critical - 1, n, accuracy))


@functools.lru_cache(maxsize=64)
def items_to_show_validity(
    accuracy: float, alpha: float, power: float, chance: float = CHANCE
) -> int | None:
    """The fewest items from which on (every larger number included: the exact power
    saw-tooths) a model answering ``accuracy`` correctly is shown above ``chance`` by the
    one-sided exact binomial test at ``alpha`` with probability at least ``power``.
    ``None`` when ``accuracy`` is not above chance."""
    if accuracy <= chance:
        return None
    if alpha >= 1:
        return 1
    z_alpha, z_power = sps.norm.isf(alpha), sps.norm.isf(1 - power)
    spread = z_alpha * math.sqrt(chance * (1 - chance)) + z_power * math.sqrt(
        accuracy * (1 - accuracy)
    )
    approx = math.ceil((spread / (accuracy - chance)) ** 2)
    top = 2 * approx + 50
    n = np.arange(1, top + 1)
    short = np.nonzero(exact_power(n, accuracy, alpha, chance) < power)[0]
    return 1 if short.size == 0 else int(n[short[-1]]) + 1


@dataclass(frozen=True)
class AccuracyCheck:
    """The accuracy check of one set of disambiguated answers: ``correct`` of ``n``,
    the test's ``pvalue``, the ``upper`` bound, the ``state`` they give, and for
    ``too_few`` about how many items would show validity (``items_needed``)."""

    state: ValidityState
    correct: int
    n: int
    pvalue: float
    upper: float
    items_needed: int | None

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.n if self.n else None


def check_accuracy(
    correct: int,
    n: int,
    pvalue: float,
    *,
    alpha: float,
    min_accuracy: float,
    power: float,
) -> AccuracyCheck:
    """Valid (``pvalue`` <= ``alpha``), not valid (the upper bound below
    ``min_accuracy``) or too few items, with the items that would show validity."""
    upper = accuracy_upper_bound(correct, n, alpha)
    if n and pvalue <= alpha:
        state: ValidityState = "valid"
    elif n and upper < min_accuracy:
        state = "not_valid"
    else:
        state = "too_few"
    needed = items_to_show_validity(min_accuracy, alpha, power) if state == "too_few" else None
    return AccuracyCheck(state, correct, n, pvalue, upper, needed)


def too_few_text(check: AccuracyCheck, min_accuracy: float, power: float, who: str) -> str:
    """The reason of a ``too_few`` check: "n items cannot show validity; about m would"."""
    seen = (
        f"{check.accuracy:.1%} correct, one-sided binomial p={check.pvalue:.3g}"
        if check.accuracy is not None
        else "none answered"
    )
    return (
        f"{check.n} disambiguated items cannot show {who}'s validity ({seen}); about "
        f"{check.items_needed} would (a model answering {min_accuracy:.0%} correctly is shown "
        f"above chance there with probability {power:g})"
    )
