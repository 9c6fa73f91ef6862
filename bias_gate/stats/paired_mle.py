"""The constrained maximum likelihood estimate behind the paired score test for Cohen's h.

For one paired 2x2 table (counts ``both``, ``first_only``, ``second_only``, ``neither``)
and a value h0: the four-cell multinomial (p1, p2, p11) of largest likelihood subject to
phi(p2) - phi(p1) = h0. It is found over theta = asin(sqrt(p1)) (the constraint fixes
p2 = sin^2(theta + h0/2)): for each theta the concave inner problem over p11 is a cubic's
root (safeguarded Newton, stopped once converged), the best of a grid of theta brackets
the maximum, and multisection on the sign of the profile's slope (analytic, by the
envelope theorem) narrows it, many points per round in one array. Everything works
elementwise on arrays of tables. :mod:`bias_gate.stats.paired_score` builds the test and
its bounds on it.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

_INNER_STEPS = 40  # safeguarded Newton on p11; stops early once every root has converged
_INNER_TOL = 1e-15  # a Newton step this small ends the inner solve
_GRID = 24  # grid over theta = asin(sqrt(p1)): the best point brackets the maximum
_POINTS = 31  # interior points per multisection round (the bracket shrinks 32-fold)
_OUTER_ROUNDS = 7  # on the profile's slope: 2 grid steps * 32^-7 (< 4e-12 in theta)


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


def _inner(
    counts: tuple[Array, ...], p1: Array, p2: Array
) -> tuple[Array, NDArray[np.bool_], NDArray[np.bool_]]:
    """For fixed margins (p1, p2): the p11 maximising the log-likelihood, and whether it
    is the low or the high end of its range. The log-likelihood is concave in p11, so
    its derivative a/p11 - b/(p1 - p11) - c/(p2 - p11) + d/(1 - p1 - p2 + p11) is
    decreasing. Where it keeps one sign over the whole range (possible only when the
    count whose cell closes at that end is zero), the maximiser is that end; otherwise
    its root is found by Newton steps on the derivative times the four cells (a cubic of
    the same sign inside the range), kept inside a shrinking bisection bracket, until
    every root has converged (at most ``_INNER_STEPS``)."""
    a, b, c, d = counts
    low = np.maximum(0.0, p1 + p2 - 1.0)
    high = np.minimum(p1, p2)
    at_low, at_high = _end_optima(counts, p1, p2, low, high)
    q = 1.0 - p1 - p2
    mid = (low + high) / 2.0
    settled = at_low | at_high | ~(high > low) | (a + b + c + d == 0)
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
            safe = np.isfinite(newton) & (newton >= low) & (newton <= high)
            step = np.where(safe, newton, (low + high) / 2.0)
            done = settled | (np.abs(step - mid) <= _INNER_TOL) | (cubic == 0)
            mid = step
            if np.all(done):
                break
    p11 = np.where(
        at_high, np.minimum(p1, p2), np.where(at_low, np.maximum(0.0, p1 + p2 - 1.0), mid)
    )
    return p11, at_low, at_high


def _loglik(counts: tuple[Array, ...], p1: Array, p2: Array, p11: Array) -> Array:
    a, b, c, d = counts
    return _xlogy(a, p11) + _xlogy(b, p1 - p11) + _xlogy(c, p2 - p11) + _xlogy(d, 1 - p1 - p2 + p11)


def _profile(counts: tuple[Array, ...], theta: Array, k: Array) -> tuple[Array, Array, Array]:
    """At theta = asin(sqrt(p1)) on the constraint (p2 = sin^2(theta + k), k = h0 / 2):
    the profile log-likelihood max over p11, its derivative in theta, and p11.

    The derivative is that of L(p1, p2, p11) along (p1(theta), p2(theta), p11(theta)):
    L_p1 p1' + L_p2 p2', plus L_p11 p11' where the maximiser is an end of its range (an
    interior maximiser has L_p11 = 0); a cell with a zero count adds no term."""
    a, b, c, d = counts
    p1, p2 = np.sin(theta) ** 2, np.sin(theta + k) ** 2
    dp1, dp2 = np.sin(2.0 * theta), np.sin(2.0 * theta + 2.0 * k)
    p11, at_low, at_high = _inner(counts, p1, p2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ta = np.where(a > 0, a / p11, 0.0)
        tb = np.where(b > 0, b / (p1 - p11), 0.0)
        tc = np.where(c > 0, c / (p2 - p11), 0.0)
        td = np.where(d > 0, d / (1.0 - p1 - p2 + p11), 0.0)
        end_move = np.where(
            at_high,
            np.where(p1 <= p2, dp1, dp2),
            np.where(at_low & (p1 + p2 >= 1.0), dp1 + dp2, 0.0),
        )
        moving = at_high | at_low
        along_p11 = np.where(moving, (ta - tb - tc + td) * end_move, 0.0)
        slope = (tb - td) * dp1 + (tc - td) * dp2 + along_p11
    return _loglik(counts, p1, p2, p11), slope, p11


def narrow(low: Array, high: Array, keep: NDArray[np.bool_], points: Array) -> tuple[Array, Array]:
    """One multisection round: ``points`` (last axis) lie evenly inside (low, high) and
    ``keep`` holds at a prefix of them; the new bracket is the last kept point to the
    first one not kept."""
    count = points.shape[-1]
    first_out = np.where(np.any(~keep, axis=-1), np.argmax(~keep, axis=-1), count)
    left = np.take_along_axis(points, np.maximum(first_out - 1, 0)[..., None], axis=-1)[..., 0]
    right = np.take_along_axis(points, np.minimum(first_out, count - 1)[..., None], axis=-1)[..., 0]
    return np.where(first_out > 0, left, low), np.where(first_out < count, right, high)


def constrained_mle(
    both: ArrayLike,
    first_only: ArrayLike,
    second_only: ArrayLike,
    neither: ArrayLike,
    h0: ArrayLike,
) -> tuple[Array, Array, Array]:
    """(p1, p2, p11) maximising the multinomial likelihood of the table subject to
    phi(p2) - phi(p1) = h0, elementwise (``h0`` broadcasts with the counts and must lie
    in (-pi, pi)). Over theta = asin(sqrt(p1)): the best of ``_GRID`` points brackets
    the maximum, then multisection on the sign of the profile's slope narrows it
    (``_OUTER_ROUNDS`` rounds of ``_POINTS`` points, all in one array)."""
    *counts_list, h0 = (
        np.asarray(x, dtype=float)
        for x in np.broadcast_arrays(both, first_only, second_only, neither, h0)
    )
    if np.any(np.abs(h0) >= math.pi):
        raise ValueError("h0 must lie in (-pi, pi)")
    k = h0 / 2.0
    start = np.maximum(0.0, -k)
    stop = np.minimum(math.pi / 2.0, math.pi / 2.0 - k)
    wide = tuple(x[..., None] for x in counts_list)
    fractions = (np.arange(_GRID) + 0.5) / _GRID
    grid = start[..., None] + (stop - start)[..., None] * fractions
    grid_ll = _profile(wide, grid, k[..., None])[0]
    best = np.argmax(grid_ll, axis=-1)
    step = (stop - start) / _GRID
    low = np.maximum(start, start + (best - 0.5) * step)
    high = np.minimum(stop, start + (best + 1.5) * step)
    inside = np.arange(1, _POINTS + 1) / (_POINTS + 1)
    for _ in range(_OUTER_ROUNDS):
        points = low[..., None] + (high - low)[..., None] * inside
        slope = _profile(wide, points, k[..., None])[1]
        low, high = narrow(low, high, ~(slope < 0), points)
    theta = (low + high) / 2.0
    p1, p2 = np.sin(theta) ** 2, np.sin(theta + k) ** 2
    p11 = _inner(tuple(counts_list), p1, p2)[0]
    return p1, p2, p11
