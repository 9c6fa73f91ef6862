"""REFERENCE (tests only): the first implementation of the score test for Cohen's h on
paired binary outcomes, kept unchanged so that tests/unit/stats/test_paired_score_fast.py
can check :mod:`bias_gate.stats.paired_score` (the fast one) against it. Its step counts
are module constants a test may raise for a more precise reference.

The gate's PASS decision asks "is h = phi(p2) - phi(p1) below the limit?" from one
sample of paired items (dense, compressed). The Wald interval h +- z sqrt(2(1 - r^)/n)
estimates its variance at the observed table, and is anti-conservative exactly where the
gate needs it most: when the models mostly agree and the few flips go one way, a sample
that happens to show fewer flips also shows a smaller variance (simulated through this
project: P(upper Wald bound <= limit | true h = limit) up to 13% at n = 50 and still 6-7%
at n = 1000 for a nominal 5%). The score test evaluates the variance at the parameters
the null hypothesis allows instead:

    Z(h0) = (h^ - h0) / sqrt(2 (1 - r~) / n),

where r~ is the phi correlation of the four-cell multinomial that maximises the
likelihood of the observed table subject to phi(p2) - phi(p1) = h0 (the constrained
maximum likelihood estimate, found numerically: for each p1, p2 = g(p1) is fixed by the
constraint and the concave inner problem over p11 is solved by bisection on its
derivative; the outer problem over p1 by golden-section search). The one-sided bounds are
the h0 at which Z(h0) = -+z, found by bisection (``score_bound``).

Every function takes numpy arrays of counts (or scalars) and works elementwise, so the
simulations that check the gate's error rates run exactly this code, many tables at once.
Counts: ``both`` (biased under both), ``first_only`` (dense only), ``second_only``
(compressed only), ``neither`` -- the layout of :class:`bias_gate.stats.core.PairedTable`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

_INNER_STEPS = 24  # safeguarded Newton on p11 (quadratic once close; bisection fallback)
_GRID = 24  # coarse grid over p1 before the golden-section search
_OUTER_STEPS = 24  # golden section on p1 within two grid steps: 0.618^24 * 2/24 (< 1e-6)
_BOUND_STEPS = 24  # bisection on h0 for the bounds: pi * 2^-24 (< 2e-7)
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


def _xlogy(x: Array, y: Array) -> Array:
    """x log y with 0 log y = 0 and x log 0 = -inf for x > 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(y > 0, y, 1.0)
        out = np.where(x > 0, x * np.log(safe), 0.0)
    return np.where((x > 0) & (y <= 0), -np.inf, out)


def _partner(p1: Array, h0: Array) -> Array:
    """p2 with phi(p2) - phi(p1) = h0 (p1 in the feasible range)."""
    angle = np.arcsin(np.sqrt(np.clip(p1, 0.0, 1.0))) + h0 / 2.0
    return np.sin(np.clip(angle, 0.0, math.pi / 2.0)) ** 2


def _p1_range(h0: Array) -> tuple[Array, Array]:
    """The p1 for which phi(p1) + h0 stays within [0, pi], elementwise."""
    low = np.where(h0 >= 0, 0.0, np.sin(-h0 / 2.0) ** 2)
    high = np.where(h0 >= 0, np.sin(math.pi / 2.0 - h0 / 2.0) ** 2, 1.0)
    return low, high


def _slope_terms(counts: tuple[Array, ...], p1: Array, p2: Array, m: Array) -> tuple[Array, ...]:
    """The four terms of the log-likelihood's derivative in p11 (0 for a zero count)."""
    a, b, c, d = counts
    with np.errstate(divide="ignore", invalid="ignore"):
        return (
            np.where(a > 0, a / m, 0.0),
            np.where(b > 0, b / (p1 - m), 0.0),
            np.where(c > 0, c / (p2 - m), 0.0),
            np.where(d > 0, d / (1.0 - p1 - p2 + m), 0.0),
        )


def _end_optima(
    counts: tuple[Array, ...], p1: Array, p2: Array, low: Array, high: Array
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Where the maximiser over p11 is the low or the high end of its range. A cell
    closes at each end (low: a, or d when p1 + p2 > 1; high: b when p1 <= p2, c when
    p2 <= p1); the end can be the maximiser only when that cell's count is zero and the
    derivative of the other terms, taken at the end, does not point inside."""
    a, b, c, d = counts
    a_closes, d_closes = p1 + p2 <= 1.0, p1 + p2 >= 1.0
    b_closes, c_closes = p1 <= p2, p2 <= p1
    t = _slope_terms(counts, p1, p2, low)
    with np.errstate(invalid="ignore"):
        inner_low = np.where(a_closes, 0.0, t[0]) - t[1] - t[2] + np.where(d_closes, 0.0, t[3])
        blocked_low = (a_closes & (a > 0)) | (d_closes & (d > 0))
        t = _slope_terms(counts, p1, p2, high)
        inner_high = t[0] - np.where(b_closes, 0.0, t[1]) - np.where(c_closes, 0.0, t[2]) + t[3]
        blocked_high = (b_closes & (b > 0)) | (c_closes & (c > 0))
        at_high = ~blocked_high & (inner_high >= 0)
        at_low = ~blocked_low & (inner_low <= 0) & ~at_high
    return at_low, at_high


def _inner(counts: tuple[Array, ...], p1: Array, p2: Array) -> tuple[Array, Array]:
    """For fixed margins (p1, p2): the p11 maximising the log-likelihood, and that
    log-likelihood. The log-likelihood is concave in p11, so its derivative
    a/p11 - b/(p1 - p11) - c/(p2 - p11) + d/(1 - p1 - p2 + p11) is decreasing. Where it
    keeps one sign over the whole range (possible only when the count whose cell closes
    at that end is zero), the maximiser is that end; otherwise its root is found by
    Newton steps on the derivative times the four cells (a cubic of the same sign inside
    the range), kept inside a shrinking bisection bracket."""
    a, b, c, d = counts
    low = np.maximum(0.0, p1 + p2 - 1.0)
    high = np.minimum(p1, p2)
    at_low, at_high = _end_optima(counts, p1, p2, low, high)
    q = 1.0 - p1 - p2
    mid = (low + high) / 2.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(_INNER_STEPS):
            # The derivative times m (p1 - m)(p2 - m)(q + m): a cubic with no poles and
            # the derivative's sign inside the range.
            u1, u2, u3, u4 = mid, p1 - mid, p2 - mid, q + mid
            cubic = a * u2 * u3 * u4 - b * u1 * u3 * u4 - c * u1 * u2 * u4 + d * u1 * u2 * u3
            slope = (
                a * (u2 * u3 - u3 * u4 - u2 * u4)
                - b * (u3 * u4 - u1 * u4 + u1 * u3)
                - c * (u2 * u4 - u1 * u4 + u1 * u2)
                + d * (u2 * u3 - u1 * u3 - u1 * u2)
            )
            up = cubic > 0
            low_next = np.where(up, mid, low)
            high = np.where(up, high, mid)
            low = low_next
            newton = mid - cubic / slope
            safe = np.isfinite(newton) & (newton > low) & (newton < high)
            mid = np.where(safe, newton, (low + high) / 2.0)
    p11 = np.where(
        at_high, np.minimum(p1, p2), np.where(at_low, np.maximum(0.0, p1 + p2 - 1.0), mid)
    )
    loglik = (
        _xlogy(a, p11) + _xlogy(b, p1 - p11) + _xlogy(c, p2 - p11) + _xlogy(d, 1 - p1 - p2 + p11)
    )
    return p11, loglik


def constrained_mle(
    both: ArrayLike,
    first_only: ArrayLike,
    second_only: ArrayLike,
    neither: ArrayLike,
    h0: ArrayLike,
) -> tuple[Array, Array, Array]:
    """(p1, p2, p11) maximising the multinomial likelihood of the table subject to
    phi(p2) - phi(p1) = h0, elementwise (``h0`` broadcasts with the counts and must lie
    in (-pi, pi)). The profile over p1 is searched on a grid of ``_GRID`` points, then
    refined by golden-section search around the best one."""
    *counts_list, h0 = (
        np.asarray(x, dtype=float)
        for x in np.broadcast_arrays(both, first_only, second_only, neither, h0)
    )
    if np.any(np.abs(h0) >= math.pi):
        raise ValueError("h0 must lie in (-pi, pi)")
    counts = tuple(counts_list)
    start, stop = _p1_range(h0)
    # Coarse grid (interior points), then the bracket of the best grid point.
    fractions = (np.arange(_GRID) + 0.5) / _GRID
    grid = start[..., None] + (stop - start)[..., None] * fractions
    wide = tuple(x[..., None] for x in counts)
    grid_ll = _inner(wide, grid, _partner(grid, h0[..., None]))[1]
    best = np.argmax(grid_ll, axis=-1)
    step = (stop - start) / _GRID
    centre = start + (best + 0.5) * step
    low = np.maximum(start, centre - step)
    high = np.minimum(stop, centre + step)
    x1 = high - _GOLDEN * (high - low)
    x2 = low + _GOLDEN * (high - low)
    f1 = _inner(counts, x1, _partner(x1, h0))[1]
    f2 = _inner(counts, x2, _partner(x2, h0))[1]
    for _ in range(_OUTER_STEPS):
        right = f1 < f2  # the maximum lies in [x1, high]
        low = np.where(right, x1, low)
        high = np.where(right, high, x2)
        new_x1 = np.where(right, x2, high - _GOLDEN * (high - low))
        new_x2 = np.where(right, low + _GOLDEN * (high - low), x1)
        probe = np.where(right, new_x2, new_x1)
        f_probe = _inner(counts, probe, _partner(probe, h0))[1]
        f1, f2 = np.where(right, f2, f_probe), np.where(right, f_probe, f1)
        x1, x2 = new_x1, new_x2
    p1 = (low + high) / 2.0
    p2 = _partner(p1, h0)
    p11 = _inner(counts, p1, p2)[0]
    return p1, p2, p11


def _phi(p1: Array, p2: Array, p11: Array) -> Array:
    """The phi correlation of the cells; 0 where a margin is at 0 or 1 (undefined)."""
    spread = p1 * (1 - p1) * p2 * (1 - p2)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (p11 - p1 * p2) / np.sqrt(spread)
    return np.where(spread > 0, np.clip(r, -1.0, 1.0), 0.0)


def observed_h(
    both: ArrayLike, first_only: ArrayLike, second_only: ArrayLike, neither: ArrayLike
) -> Array:
    """h^ = phi(p2^) - phi(p1^) of the observed tables (NaN where n = 0)."""
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, first_only, second_only, neither))
    n = a + b + c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = (a + b) / n, (a + c) / n
    return 2.0 * np.arcsin(np.sqrt(p2)) - 2.0 * np.arcsin(np.sqrt(p1))


def score_z(
    both: ArrayLike,
    first_only: ArrayLike,
    second_only: ArrayLike,
    neither: ArrayLike,
    h0: ArrayLike,
) -> Array:
    """Z(h0) = (h^ - h0) / sqrt(2 (1 - r~) / n), r~ at the constrained MLE (module doc).
    Large positive values are evidence that h > h0, large negative that h < h0.
    NaN where n = 0; +-inf where the constrained variance is 0 (r~ = 1)."""
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, first_only, second_only, neither))
    n = a + b + c + d
    h = observed_h(a, b, c, d)
    p1, p2, p11 = constrained_mle(a, b, c, d, h0)
    variance = 2.0 * (1.0 - _phi(p1, p2, p11))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (h - h0) / np.sqrt(variance / n)


def score_variance(
    both: ArrayLike,
    first_only: ArrayLike,
    second_only: ArrayLike,
    neither: ArrayLike,
    h0: ArrayLike,
) -> Array:
    """n * Var(h^) under the constrained MLE at h0: 2 (1 - r~) (the per-item variance
    the score test uses, e.g. to plan how many items a decision needs)."""
    p1, p2, p11 = constrained_mle(both, first_only, second_only, neither, h0)
    return 2.0 * (1.0 - _phi(p1, p2, p11))


def score_bound(
    both: ArrayLike,
    first_only: ArrayLike,
    second_only: ArrayLike,
    neither: ArrayLike,
    z: float,
    side: str,
) -> Array:
    """The one-sided score confidence bound for h at critical value ``z`` (e.g. 1.645 for
    95%): ``side="upper"`` gives the largest h0 >= h^ with Z(h0) >= -z, ``"lower"`` the
    smallest h0 <= h^ with Z(h0) <= z. Found by bisection within (-pi, pi); NaN where
    n = 0. The bounds never leave [-pi, pi]."""
    if side not in ("upper", "lower"):
        raise ValueError(f"side must be 'upper' or 'lower', got {side!r}")
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, first_only, second_only, neither))
    h = observed_h(a, b, c, d)
    edge = math.pi * (1 - 1e-9)
    start = np.nan_to_num(h, nan=0.0)
    inside = np.full(h.shape, start)  # where Z is on the accepted side
    outside = np.full(h.shape, edge if side == "upper" else -edge)
    for _ in range(_BOUND_STEPS):
        mid = (inside + outside) / 2.0
        zs = score_z(a, b, c, d, mid)
        accepted = (zs >= -z) if side == "upper" else (zs <= z)
        inside = np.where(accepted, mid, inside)
        outside = np.where(accepted, outside, mid)
    bound = (inside + outside) / 2.0
    return np.where(np.isnan(h), np.nan, bound)
