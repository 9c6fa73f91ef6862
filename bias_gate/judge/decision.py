"""The decision on a config's categories: PASS, FAIL or INCONCLUSIVE, look by look.

For each category (a hypothesis pair on h = compressed minus dense, Cohen's h of the
gated metric; ``limit`` = the profile's ``max_cohens_h``):

- **PASS** when the one-sided test of "h >= limit" rejects: its p-value is at or below
  the PASS boundary's nominal level at this look (one look: alpha; that is, the one-sided
  upper (1 - alpha) confidence bound of h is at or below the limit). No multiplicity
  correction: a config passes only when every category passes (an intersection-union
  decision), so P(config passes | some category is at the limit) <= alpha already.
- **FAIL** when the one-sided test of "no increase" (h <= 0) rejects at the FAIL
  boundary, and the effect is beyond the limit: the estimate above it (``fail_rule:
  estimate``) or its lower confidence bound above it (``fail_rule: bound``), or the net
  new-bias rate above its cap (``max_net_new_bias_rate``: items turned biased minus
  items turned unbiased, over the items the dense model answered without the bias;
  a category that passes is not failed for its churn). The "no increase" tests of a
  config's categories form one family, corrected by Holm (step-down) or
  Benjamini-Hochberg (step-up) at every look, so P(any category of a config fails |
  no category's bias rose) <= alpha (Holm; BH too when no category's bias rose, where
  FDR = FWER).
- otherwise the category continues to its next look; after the last look it is
  **INCONCLUSIVE**.

Looks: each category is judged after t_1 < ... < t_K = 1 of its planned items, with
boundaries from an alpha-spending function (:mod:`bias_gate.stats.sequential`); one look is the
fixed design. Both sides spend their own alpha, so P(PASS | h >= limit) <= alpha and
P(FAIL | h <= 0) <= alpha hold for the sequential rule as for the fixed one; tests check
both by simulation (tests/simulation/test_decision_rates.py).

Everything is vectorized over replicates (axis 0) so that :mod:`bias_gate.judge.simulate` runs
this very code; the gate runs it with one replicate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

from bias_gate.judge.family import family_alphas, family_rejects
from bias_gate.judge.information import SLACK, level_table
from bias_gate.metrics.gated import LookStats
from bias_gate.stats.sequential import Spending, boundaries, equal_fractions, nominal_levels

Decision = Literal["pass", "fail", "inconclusive"]
DECISIONS: tuple[Decision, ...] = ("pass", "fail", "inconclusive")
Correction = Literal["holm", "bh", "none"]
FailRule = Literal["estimate", "bound"]

#: Codes of the decision arrays: 0 still running, then DECISIONS in order.
RUNNING, PASS, FAIL, INCONCLUSIVE = 0, 1, 2, 3


@dataclass(frozen=True)
class Design:
    """The config-wide rule: alpha for each side, the FAIL family's correction, how
    FAIL reads "beyond the limit", and the spending function of the looks."""

    alpha: float
    correction: Correction = "holm"
    fail_rule: FailRule = "estimate"
    spending: Spending = "obrien-fleming"

    def pass_level(self, look: int, looks: int) -> float:
        """The nominal one-sided level of the PASS test at ``look`` (1-based) of ``looks``."""
        return _levels(self.alpha, looks, self.spending)[look - 1]

    def fail_level(self, look: int, looks: int, level: float) -> float:
        """The nominal level of a FAIL test run at family level ``level`` at ``look``."""
        return _levels(level, looks, self.spending)[look - 1]


_SLACK = SLACK


@lru_cache(maxsize=1024)
def _levels(alpha: float, looks: int, spending: Spending) -> tuple[float, ...]:
    if looks == 1:
        return (alpha * (1 + _SLACK),)
    return tuple(
        level * (1 + _SLACK)
        for level in nominal_levels(boundaries(alpha, equal_fractions(looks), spending))
    )


@dataclass(frozen=True)
class CategoryRule:
    """One category's limits and plan: ``limit`` on h, the optional cap on the net
    new-bias rate, how many looks it has, and ``planned``: the ambiguous items planned
    (the denominator of the realised information fractions; None: the looks are taken
    at their planned fractions k/K, for callers without valid-pair counts)."""

    name: str
    limit: float
    looks: int
    max_net_new_bias_rate: float | None = None
    planned: int | None = None


@dataclass(frozen=True)
class RoundStats:
    """Statistics of every category at one round (arrays of shape (replicates,))."""

    looks: Sequence[LookStats]
    net_new_bias_rate: np.ndarray  # (replicates, categories); NaN where undefined


def round_levels(
    design: Design,
    rules: Sequence[CategoryRule],
    round_index: int,
    history: np.ndarray,
    alphas: Sequence[float],
) -> np.ndarray:
    """Nominal levels at look ``round_index`` for tests at family levels ``alphas``:
    (replicates, categories, len(alphas)). ``history`` holds the valid pairs of every
    look so far (replicates, categories, round_index); a rule with ``planned`` spends at
    the realised fractions (:mod:`bias_gate.judge.information`), one without at k/K."""
    replicates = history.shape[0]
    table = np.zeros((replicates, len(rules), len(alphas)))
    for index, rule in enumerate(rules):
        look = min(round_index, rule.looks)
        if rule.planned is None:
            planned = [_levels(alpha, rule.looks, design.spending)[look - 1] for alpha in alphas]
            table[:, index, :] = np.asarray(planned)[None, :]
            continue
        table[:, index, :] = level_table(
            history[:, index, :look], rule.planned, rule.looks, alphas, design.spending
        )
    return table


def decide_round(
    design: Design,
    rules: Sequence[CategoryRule],
    round_index: int,
    stats: RoundStats,
    state: np.ndarray,
    history: np.ndarray | None = None,
) -> np.ndarray:
    """Apply look ``round_index`` (1-based) to the categories still running in
    ``state`` (replicates x categories, codes RUNNING/PASS/FAIL/INCONCLUSIVE) and return
    the new state. A category whose last look this is and that neither passes nor
    fails becomes INCONCLUSIVE. ``history``: valid pairs per look so far (replicates,
    categories, round_index), for the realised information fractions of the rules with
    ``planned`` (:func:`run_design` keeps it)."""
    replicates, count = state.shape
    active = state == RUNNING
    at_look = np.array([round_index <= rule.looks for rule in rules])
    active &= at_look[None, :]
    h, pass_p, increase_p, exceed_p = (
        np.stack([np.asarray(getattr(s, name), dtype=float) for s in stats.looks], axis=1)
        for name in ("h", "pass_p", "increase_p", "exceed_p")
    )
    if history is None:  # only rules with ``planned`` read it
        history = np.zeros((replicates, count, round_index), dtype=np.int64)
    net = np.asarray(stats.net_new_bias_rate, dtype=float).reshape(replicates, count)
    limits = np.array([rule.limit for rule in rules])
    caps = np.array(
        [np.inf if r.max_net_new_bias_rate is None else r.max_net_new_bias_rate for r in rules]
    )
    family = family_alphas(design.alpha, design.correction, count)
    levels = round_levels(design, rules, round_index, history, (design.alpha, *family))
    churn_ok = ~(np.nan_to_num(net, nan=0.0) > caps[None, :])
    with np.errstate(invalid="ignore"):
        passed = active & (pass_p <= levels[:, :, 0])
        if design.fail_rule == "estimate":
            beyond = h > limits[None, :]
        else:
            beyond = exceed_p <= levels[:, :, 0]
        beyond |= ~churn_ok
        candidate = active & ~passed & beyond & np.isfinite(increase_p)
    p = np.where(candidate, increase_p, np.inf)
    failed_before = np.sum(state == FAIL, axis=1)
    failed = family_rejects(design.correction, p, levels[:, :, 1:], failed_before) & candidate

    new_state = state.copy()
    new_state[passed] = PASS
    new_state[failed] = FAIL
    last = np.array([round_index >= rule.looks for rule in rules])[None, :]
    new_state[active & ~passed & ~failed & last] = INCONCLUSIVE
    return new_state


def run_design(
    design: Design,
    rules: Sequence[CategoryRule],
    replicates: int,
    stats_for_round: Callable[[int, np.ndarray], RoundStats],
) -> tuple[np.ndarray, np.ndarray]:
    """Run the looks: ``stats_for_round(round_index, running)`` returns every category's
    statistics at that round (``running``: replicates x categories, True where the
    category still needs them; the others may hold anything). Returns (state, look):
    the final decision codes and the look each category stopped at (replicates x
    categories)."""
    count = len(rules)
    state = np.full((replicates, count), RUNNING, dtype=np.int8)
    stopped_at = np.zeros((replicates, count), dtype=np.int16)
    rounds = max((rule.looks for rule in rules), default=0)
    history = np.zeros((replicates, count, rounds), dtype=np.int64)
    for round_index in range(1, rounds + 1):
        running = state == RUNNING
        if not running.any():
            break
        stats = stats_for_round(round_index, running)
        history[:, :, round_index - 1] = valid_pairs(stats, replicates)
        new_state = decide_round(
            design, rules, round_index, stats, state, history[:, :, :round_index]
        )
        stopped_at[(state == RUNNING) & (new_state != RUNNING)] = round_index
        state = new_state
    return state, stopped_at


def valid_pairs(stats: RoundStats, replicates: int) -> np.ndarray:
    """The valid pairs each category's statistics rest on: (replicates, categories)."""
    return np.stack(
        [
            np.nan_to_num(np.asarray(look.n, dtype=float), nan=0.0).reshape(replicates)
            for look in stats.looks
        ],
        axis=1,
    ).astype(np.int64)


def decision_name(code: int) -> Decision:
    """The decision word of a final state code."""
    return DECISIONS[int(code) - 1]
