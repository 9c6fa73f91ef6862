"""Group-sequential boundaries with alpha spending (Lan & DeMets 1983).

A category is judged at up to K looks, after t_1 < ... < t_K = 1 of its items (the
information fractions). Each one-sided test the gate makes (PASS: "h is below the limit";
FAIL: "h rose") gets a boundary b_k per look, so that under its null hypothesis the
probability of crossing at look k, having not crossed before, is alpha(t_k) - alpha(t_{k-1})
for the spending function alpha(t), and the probability of ever crossing is alpha(1) =
alpha. Stopping for the other side never adds crossings, so each side keeps its level
whatever the other does (the other side is "non-binding").

The boundaries come from the joint distribution of the look statistics: Z_k = S_k / sqrt(t_k)
for a Brownian motion S in information time (Var S_k = t_k, independent increments), the
canonical joint distribution that score statistics follow asymptotically (Jennison &
Turnbull 2000, ch. 3). The recursion (ch. 19) carries the density of S_k over the
region not yet stopped on a Simpson grid and solves each b_k by root finding. Tests check it
against scipy's multivariate normal distribution and against published boundaries.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Literal

import numpy as np
from scipy import optimize, stats

Spending = Literal["obrien-fleming", "pocock"]
SPENDING_FUNCTIONS: tuple[str, ...] = ("obrien-fleming", "pocock")

_GRID = 401  # Simpson points per look (odd; 5-digit boundaries, tested)
_TAIL = 9.0  # the grid reaches this many standard deviations below the mean
_NEVER = math.inf  # the boundary of a look that spends nothing


def spent(spending: Spending, alpha: float, t: float) -> float:
    """alpha(t): the error probability spent by information fraction t in [0, 1].

    O'Brien-Fleming type: 2 (1 - Phi(z_{1-alpha/2} / sqrt t)); Pocock type:
    alpha ln(1 + (e - 1) t) (Lan & DeMets 1983; Kim & DeMets 1987). Both are 0 at t = 0
    and alpha at t = 1."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if t <= 0.0:
        return 0.0
    t = min(t, 1.0)
    if spending == "obrien-fleming":
        return float(2.0 * stats.norm.sf(stats.norm.isf(alpha / 2.0) / math.sqrt(t)))
    if spending == "pocock":
        return alpha * math.log(1.0 + (math.e - 1.0) * t)
    raise ValueError(f"unknown spending function {spending!r}; known: obrien-fleming, pocock")


def _simpson_weights(count: int, width: float) -> np.ndarray:
    weights = np.ones(count)
    weights[1:-1:2] = 4.0
    weights[2:-1:2] = 2.0
    return weights * width / 3.0


@dataclass(frozen=True)
class _Grid:
    """Where S_k can be, not having stopped: points, Simpson weights, density."""

    points: np.ndarray
    weights: np.ndarray
    density: np.ndarray


def _grid(low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    points = np.linspace(low, high, _GRID)
    return points, _simpson_weights(_GRID, (high - low) / (_GRID - 1))


def _first_grid(t: float, bound: float, drift: float, offset: float = 0.0) -> _Grid:
    mean, sd = drift * t - offset, math.sqrt(t)
    high = bound * sd if math.isfinite(bound) else mean + _TAIL * sd
    points, weights = _grid(mean - _TAIL * sd, max(high, mean - _TAIL * sd + 1e-9))
    return _Grid(points, weights, stats.norm.pdf(points, loc=mean, scale=sd))


def _crossing(previous: _Grid, t_prev: float, t: float, bound: float, drift: float) -> float:
    """P(S_t >= bound sqrt(t), not stopped before) from the previous look's grid."""
    if not math.isfinite(bound):
        return 0.0
    step = t - t_prev
    tail = stats.norm.sf((bound * math.sqrt(t) - previous.points - drift * step) / math.sqrt(step))
    return float(np.sum(previous.weights * previous.density * tail))


def _next_grid(
    previous: _Grid, t_prev: float, t: float, bound: float, drift: float, offset: float = 0.0
) -> _Grid:
    step = t - t_prev
    sd = math.sqrt(t)
    low = drift * t - offset - _TAIL * sd
    high = bound * sd if math.isfinite(bound) else drift * t - offset + _TAIL * sd
    points, weights = _grid(low, max(high, low + 1e-9))
    kernel = stats.norm.pdf(
        (points[:, None] - previous.points[None, :] - drift * step) / math.sqrt(step)
    ) / math.sqrt(step)
    density = kernel @ (previous.weights * previous.density)
    return _Grid(points, weights, density)


def _check_fractions(fractions: Sequence[float], complete: bool = True) -> tuple[float, ...]:
    values = tuple(float(t) for t in fractions)
    if not values or any(t <= 0 or t > 1.0 + 1e-12 for t in values):
        raise ValueError(f"information fractions must be in (0, 1], got {values}")
    if complete and abs(values[-1] - 1.0) > 1e-12:
        raise ValueError(f"information fractions must be in (0, 1] and end at 1, got {values}")
    if any(b <= a for a, b in pairwise(values)):
        raise ValueError(f"information fractions must increase, got {values}")
    return values


@lru_cache(maxsize=512)
def boundaries(
    alpha: float, fractions: tuple[float, ...], spending: Spending = "obrien-fleming"
) -> tuple[float, ...]:
    """The one-sided upper boundaries b_1..b_K for the looks at ``fractions``: under the
    null hypothesis (no drift) the probability of first crossing at look k is
    alpha(t_k) - alpha(t_{k-1}). One look gives z_{1-alpha}. A look that spends nothing
    gets +inf."""
    return _boundaries(alpha, _check_fractions(fractions), spending)


def boundaries_so_far(
    alpha: float, fractions: tuple[float, ...], spending: Spending = "obrien-fleming"
) -> tuple[float, ...]:
    """The boundaries of the looks taken so far, at the information fractions observed
    (t_1 < ... < t_k <= 1, not necessarily ending at 1): b_k depends only on t_1..t_k
    and the spending function, so a look's boundary is known when it is taken, whatever
    the later looks will observe (Lan & DeMets 1983). Each prefix's state is cached, so
    a new look costs one boundary solve."""
    return _state(alpha, _check_fractions(fractions, complete=False), spending)[0]


def _boundaries(
    alpha: float, fractions: tuple[float, ...], spending: Spending
) -> tuple[float, ...]:
    return _state(alpha, fractions, spending)[0]


@lru_cache(maxsize=8192)
def _state(
    alpha: float, fractions: tuple[float, ...], spending: Spending
) -> tuple[tuple[float, ...], _Grid, float]:
    """(boundaries, the grid of S at the last look not stopped, alpha spent) after the
    looks at ``fractions``, built from the state of all but the last look."""
    t = fractions[-1]
    if len(fractions) == 1:
        budget = spent(spending, alpha, t)
        bound = float(stats.norm.isf(budget)) if budget > 0 else _NEVER
        return (bound,), _first_grid(t, bound, 0.0), budget
    bounds, grid, previous_spent = _state(alpha, fractions[:-1], spending)
    previous_t = fractions[-2]
    budget = spent(spending, alpha, t) - previous_spent
    bound = _solve_bound(grid, previous_t, t, budget)
    return (*bounds, bound), _next_grid(grid, previous_t, t, bound, 0.0), previous_spent + budget


def _solve_bound(grid: _Grid, t_prev: float, t: float, budget: float) -> float:
    if budget <= 0:
        return _NEVER
    total = float(np.sum(grid.weights * grid.density))
    if budget >= total:
        return -_TAIL
    return float(
        optimize.brentq(
            lambda b: _crossing(grid, t_prev, t, b, 0.0) - budget, -_TAIL, 40.0, xtol=1e-10
        )
    )


def crossing_probabilities(
    bounds: Sequence[float], fractions: Sequence[float], drift: float = 0.0, offset: float = 0.0
) -> tuple[float, ...]:
    """P(first crossing at look k) for each k when the statistic's mean at full
    information is ``drift`` (Z_k has mean drift * sqrt(t_k)); their sum is the
    probability of ever crossing (the power, when drift is the alternative's).
    ``offset`` lowers every S_k = sqrt(t_k) Z_k by the same amount (a statistic whose
    estimate is moved by a fixed count, c/n in h: Z_k's mean falls by offset/sqrt(t_k))."""
    fractions = _check_fractions(fractions)
    if len(bounds) != len(fractions):
        raise ValueError("one boundary per look")
    probabilities: list[float] = []
    grid: _Grid | None = None
    previous_t = 0.0
    for bound, t in zip(bounds, fractions, strict=True):
        if grid is None:
            mean = drift * math.sqrt(t) - offset / math.sqrt(t)
            probabilities.append(
                float(stats.norm.sf(bound - mean)) if math.isfinite(bound) else 0.0
            )
            grid = _first_grid(t, bound, drift, offset)
        else:
            probabilities.append(_crossing(grid, previous_t, t, bound, drift))
            grid = _next_grid(grid, previous_t, t, bound, drift, offset)
        previous_t = t
    return tuple(probabilities)


def nominal_levels(bounds: Sequence[float]) -> tuple[float, ...]:
    """The one-sided nominal p-value each boundary corresponds to: 1 - Phi(b_k)."""
    return tuple(float(stats.norm.sf(b)) if math.isfinite(b) else 0.0 for b in bounds)


def equal_fractions(looks: int) -> tuple[float, ...]:
    """(1/K, 2/K, ..., 1)."""
    if looks < 1:
        raise ValueError(f"looks must be at least 1, got {looks}")
    return tuple((k + 1) / looks for k in range(looks))


#: No look is taken on fewer items than this: a look on a handful of items almost never
#: decides, and each look costs its share of alpha. (The PASS guarantee itself holds at
#: every n, exactly checked from 1 pair: docs/statistics.md, "The guarantees".)
MIN_STAGE_ITEMS = 50


def stage_sizes(items: int, looks: int, min_stage: int = MIN_STAGE_ITEMS) -> tuple[int, ...]:
    """The cumulative item counts at which a category of ``items`` items is looked at:
    ``looks`` equal stages, fewer when a stage would hold under ``min_stage`` items
    (at least one look; a category smaller than ``min_stage`` gets one look at the end).
    Stage k ends at ceil(k * items / K)."""
    if items < 1:
        return ()
    count = max(1, min(looks, items // min_stage))
    return tuple(math.ceil((k + 1) * items / count) for k in range(count))
