"""The score test and score interval for Cohen's h on paired binary outcomes.

The gate's PASS decision asks "is h = phi(p2) - phi(p1) below the limit?" from one
sample of paired items (dense, compressed). The Wald interval h +- z sqrt(2(1 - r^)/n)
estimates its variance at the observed table, and is anti-conservative exactly where the
gate needs it most: when the models mostly agree and the few flips go one way, a sample
that happens to show fewer flips also shows a smaller variance. The score test evaluates
the variance at the parameters the null hypothesis allows instead:

    Z(h0) = (h^ -+ cc - h0) / sqrt(2 (1 - r~) / n),

where r~ is the phi correlation of the four-cell multinomial that maximises the
likelihood of the observed table subject to phi(p2) - phi(p1) = h0
(:func:`bias_gate.stats.paired_mle.constrained_mle`).

**Continuity correction** (``CONTINUITY``, half an item): the asymptotic score test is
anti-conservative on small tables and at extreme base rates, where the counts are few
and discrete (a nominal 5% PASS test's worst-case size: 0.19 at n = 5 and 0.107 at 20,
exactly; 0.069 by simulation at dense SRS 0.01, n = 150, four looks). Each one-sided
statistic is therefore taken on the estimate moved half an item towards its null: for
the upper side (the PASS test, evidence that h is small) h^ is computed as if the
compressed model's rate were half an item higher and the dense model's half an item
lower, phi(p2^ + 1/(2n)) - phi(p1^ - 1/(2n)) (clipped to [0, 1]); the lower side moves
the other way. The shift is a count, so it vanishes against the standard error (1/n
against 1/sqrt(n)) where the asymptotics hold, and it is steepest where phi is (near 0
and 1), which is where the uncorrected test fails. The size it gives is checked by exact
enumeration of every table for n = 1-80 (bias_gate.judge.exact; the tests hold n = 1-30)
over a grid of dense SRS and agreements, and by simulation of the sequential rule at
extreme SRS (docs/statistics.md, decision #77).

The one-sided bounds are the h0 at which Z(h0) = -+z, found by multisection
(``score_interval``), with the side's own correction, so the upper bound is at or below
the limit exactly when the PASS test rejects. No Python loop runs per table:
tests/support/paired_score_reference.py keeps the first, slower implementation, and
tests/unit/stats/test_paired_score_fast.py checks the uncorrected statistic against it.

Every function takes numpy arrays of counts (or scalars) and works elementwise, so the
simulations that check the gate's error rates run exactly this code, many tables at once.
Counts: ``both`` (biased under both), ``first_only`` (dense only), ``second_only``
(compressed only), ``neither`` -- the layout of :class:`bias_gate.stats.core.PairedTable`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from bias_gate.stats.paired_mle import constrained_mle, narrow

Array = NDArray[np.float64]

__all__ = [
    "CONTINUITY",
    "constrained_mle",
    "no_increase_p",
    "null_variance",
    "observed_h",
    "score_bound",
    "score_interval",
    "score_variance",
    "score_z",
    "shifted_h",
]

#: Items the one-sided statistics move the estimate towards their null (see module doc).
CONTINUITY = 0.5
_POINTS = 31  # interior points per multisection round (the bracket shrinks 32-fold)
_BOUND_ROUNDS = 5  # on Z(h0) for the bounds: pi * 32^-5 / 2 (< 5e-8 in h)


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
    h: Array = 2.0 * np.arcsin(np.sqrt(p2)) - 2.0 * np.arcsin(np.sqrt(p1))
    return h


def shifted_h(
    both: ArrayLike,
    first_only: ArrayLike,
    second_only: ArrayLike,
    neither: ArrayLike,
    shift: ArrayLike,
) -> Array:
    """phi(p2^ + shift/n) - phi(p1^ - shift/n), each rate clipped to [0, 1]: h^ with the
    compressed model's biased answers ``shift`` items more and the dense model's
    ``shift`` fewer (a negative shift moves the other way; 0 is :func:`observed_h`).
    NaN where n = 0."""
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, first_only, second_only, neither))
    n = a + b + c + d
    s = np.asarray(shift, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1 = np.clip((a + b - s) / n, 0.0, 1.0)
        p2 = np.clip((a + c + s) / n, 0.0, 1.0)
    h: Array = 2.0 * np.arcsin(np.sqrt(p2)) - 2.0 * np.arcsin(np.sqrt(p1))
    return h


def score_z(
    both: ArrayLike,
    first_only: ArrayLike,
    second_only: ArrayLike,
    neither: ArrayLike,
    h0: ArrayLike,
    shift: ArrayLike = 0.0,
) -> Array:
    """Z(h0) = (h^ - h0) / sqrt(2 (1 - r~) / n), r~ at the constrained MLE (module doc),
    h^ moved by ``shift`` items (:func:`shifted_h`; ``CONTINUITY`` for the PASS side,
    ``-CONTINUITY`` for the lower side, 0 for the plain statistic).
    Large positive values are evidence that h > h0, large negative that h < h0.
    NaN where n = 0; +-inf where the constrained variance is 0 (r~ = 1)."""
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, first_only, second_only, neither))
    n = a + b + c + d
    h = shifted_h(a, b, c, d, shift)
    p1, p2, p11 = constrained_mle(a, b, c, d, h0)
    variance = 2.0 * (1.0 - _phi(p1, p2, p11))
    with np.errstate(divide="ignore", invalid="ignore"):
        z: Array = (h - np.asarray(h0, dtype=float)) / np.sqrt(variance / n)
    return z


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


def null_variance(
    both: ArrayLike, first_only: ArrayLike, second_only: ArrayLike, neither: ArrayLike
) -> Array:
    """:func:`score_variance` at h0 = 0 in closed form: under p1 = p2 the constrained
    MLE gives each discordant cell (b + c) / 2n and keeps a / n and d / n. (Tables with
    no discordant pair and a margin at 0 or 1 get 2 here; the shifted estimate of such a
    table is below 0, so :func:`no_increase_p` is above 1/2 either way.)"""
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, first_only, second_only, neither))
    n = a + b + c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        p11 = a / n
        p1 = p11 + (b + c) / (2.0 * n)
    return 2.0 * (1.0 - _phi(p1, p1, p11))


def no_increase_p(
    both: ArrayLike,
    first_only: ArrayLike,
    second_only: ArrayLike,
    neither: ArrayLike,
    continuity: float = CONTINUITY,
) -> Array:
    """One-sided score p-value of "no increase" (h <= 0): P(Z >= Z(0)) with Z(0) the
    lower side's statistic at h0 = 0 (h^ moved ``continuity`` items down). It is at most
    a level L exactly when :func:`score_interval`'s lower bound at L lies above 0, the
    bound the reports print. NaN where n = 0."""
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, first_only, second_only, neither))
    n = a + b + c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        z = shifted_h(a, b, c, d, -continuity) / np.sqrt(null_variance(a, b, c, d) / n)
        p: Array = np.where(n > 0, special.ndtr(-z), np.nan)
    return p


def score_bound(
    both: ArrayLike,
    first_only: ArrayLike,
    second_only: ArrayLike,
    neither: ArrayLike,
    z: float,
    side: str,
    continuity: float = CONTINUITY,
) -> Array:
    """The one-sided score confidence bound for h at critical value ``z`` (e.g. 1.645 for
    95%): ``side="upper"`` gives the largest h0 >= h^ with Z(h0) >= -z, ``"lower"`` the
    smallest h0 <= h^ with Z(h0) <= z, each side's Z with its own continuity correction
    (``continuity`` items towards its null; 0: the plain score bound). NaN where n = 0;
    never outside [-pi, pi]."""
    if side not in ("upper", "lower"):
        raise ValueError(f"side must be 'upper' or 'lower', got {side!r}")
    lower, upper = score_interval(both, first_only, second_only, neither, z, (side,), continuity)
    return upper if side == "upper" else lower


def score_interval(
    both: ArrayLike,
    first_only: ArrayLike,
    second_only: ArrayLike,
    neither: ArrayLike,
    z: float,
    sides: tuple[str, ...] = ("lower", "upper"),
    continuity: float = CONTINUITY,
) -> tuple[Array, Array]:
    """(lower, upper) one-sided score bounds at critical value ``z`` (see
    :func:`score_bound`), the sides asked for in one array (the other is NaN). Found by
    multisection from h^ towards +-pi: ``_BOUND_ROUNDS`` rounds of ``_POINTS`` points,
    each round keeping the points where Z is on the accepted side (Z(h0) >= -z above h^,
    Z(h0) <= z below; the upper side's Z shifted by +``continuity`` items, the lower's
    by -``continuity``, so each starts where its corrected estimate is, at or beyond h^)."""
    a, b, c, d = (np.asarray(x, dtype=float) for x in (both, first_only, second_only, neither))
    h = observed_h(a, b, c, d)
    upward = np.array([side == "upper" for side in sides])
    edge = math.pi * (1 - 1e-9)
    inside = np.broadcast_to(np.nan_to_num(h, nan=0.0)[..., None], (*h.shape, len(sides)))
    outside = np.broadcast_to(np.where(upward, edge, -edge), inside.shape)
    fractions = np.arange(1, _POINTS + 1) / (_POINTS + 1)
    wa, wb, wc, wd = (x[..., None, None] for x in (a, b, c, d))
    shift = np.where(upward, continuity, -continuity)[:, None]
    with np.errstate(invalid="ignore"):
        for _ in range(_BOUND_ROUNDS):
            points = inside[..., None] + (outside - inside)[..., None] * fractions
            zs = score_z(wa, wb, wc, wd, points, shift)
            accepted = np.where(upward[:, None], zs >= -z, zs <= z)
            inside, outside = narrow(inside, outside, accepted, points)
    bounds = np.where(np.isnan(h)[..., None], np.nan, (inside + outside) / 2.0)
    found = dict(zip(sides, np.moveaxis(bounds, -1, 0), strict=True))
    missing = np.full(h.shape, np.nan)
    return found.get("lower", missing), found.get("upper", missing)
