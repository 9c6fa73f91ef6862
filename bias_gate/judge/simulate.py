"""The operating characteristic of the gate's rule, by simulation through its own code.

A scenario fixes, for one category, the number of ambiguous items, the dense model's SRS,
the agreement between the models (the share of items whose biased / not-biased status is
the same under both) and the true effect h. Items are drawn as independent pairs from the
four-cell distribution those imply; the gate's own gated metric
(:mod:`bias_gate.metrics.gated`) computes each look's statistics and the gate's own
decision (:func:`bias_gate.judge.decision.run_design`) decides, over many replicates at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bias_gate.judge.decision import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    CategoryRule,
    Design,
    RoundStats,
    run_design,
)
from bias_gate.metrics.gated import SRS
from bias_gate.stats.sequential import stage_sizes


@dataclass(frozen=True)
class Scenario:
    """One category: ``n`` ambiguous items, dense SRS, agreement, true h; ``unreadable``:
    the share of the compressed model's answers that cannot be read (their pairs drop
    out, so the looks rest on fewer valid pairs than items); ``stages``: the items
    answered by each look, when they differ from the plan's equal stages (realised
    information fractions far from planned; the last must be ``n``)."""

    n: int
    dense_srs: float
    agreement: float
    h: float
    unreadable: float = 0.0
    stages: tuple[int, ...] | None = None


def cell_probabilities(dense_srs: float, agreement: float, h: float) -> tuple[float, ...]:
    """(both biased, dense only, compressed only, neither) for a scenario: p2 from h,
    discordance psi = 1 - agreement split so that compressed-only minus dense-only is
    p2 - p1. ``ValueError`` when no distribution has these values."""
    if not 0.0 <= dense_srs <= 1.0 or not 0.0 <= agreement <= 1.0:
        raise ValueError("dense SRS and agreement must lie in [0, 1]")
    angle = math.asin(math.sqrt(dense_srs)) + h / 2.0
    if not 0.0 <= angle <= math.pi / 2.0:
        raise ValueError(f"h = {h} from a dense SRS of {dense_srs} leaves [0, 1]")
    p2 = math.sin(angle) ** 2
    delta = p2 - dense_srs
    psi = 1.0 - agreement
    compressed_only = (psi + delta) / 2.0
    dense_only = (psi - delta) / 2.0
    both = dense_srs - dense_only
    neither = 1.0 - both - dense_only - compressed_only
    cells = (both, dense_only, compressed_only, neither)
    if min(cells) < -1e-12:
        low, high = agreement_range(dense_srs, h)
        raise ValueError(
            f"agreement {agreement:g} is impossible with dense SRS {dense_srs:g} and h {h:g}: "
            f"it must lie in [{low:.4f}, {high:.4f}] (at most 1 - |p2 - p1| = {high:.4f}, "
            f"where every flip goes one way; at least {low:.4f}, where one of the four "
            "cells empties)"
        )
    return tuple(max(0.0, x) for x in cells)


def agreement_range(dense_srs: float, h: float) -> tuple[float, float]:
    """The agreements possible with this dense SRS and h: discordance psi = 1 - agreement
    needs psi >= |p2 - p1| (both one-way cells non-negative) and psi <= min(p1 + p2,
    2 - p1 - p2) (both concordant cells non-negative)."""
    angle = min(max(math.asin(math.sqrt(dense_srs)) + h / 2.0, 0.0), math.pi / 2.0)
    p1, p2 = dense_srs, math.sin(angle) ** 2
    return 1.0 - min(p1 + p2, 2.0 - p1 - p2), 1.0 - abs(p2 - p1)


def _cumulative_counts(
    rng: np.random.Generator, scenario: Scenario, replicates: int
) -> tuple[np.ndarray, ...]:
    """Draw the scenario's items; per cell, its count among the valid pairs of the
    first j items, j = 0..n (a pair is valid when the compressed answer is readable)."""
    probabilities = cell_probabilities(scenario.dense_srs, scenario.agreement, scenario.h)
    cells = rng.choice(4, size=(replicates, scenario.n), p=probabilities)
    readable = rng.random((replicates, scenario.n)) >= scenario.unreadable
    zero = np.zeros((replicates, 1), dtype=np.int64)
    return tuple(
        np.concatenate([zero, np.cumsum((cells == cell) & readable, axis=1)], axis=1)
        for cell in range(4)
    )


@dataclass(frozen=True)
class OperatingCharacteristic:
    """Per category: P(pass), P(fail), P(inconclusive) and the mean items answered;
    for the config: P(every category passes), P(any category fails)."""

    p_pass: tuple[float, ...]
    p_fail: tuple[float, ...]
    p_inconclusive: tuple[float, ...]
    expected_items: tuple[float, ...]
    p_config_pass: float
    p_config_fail: float
    replicates: int


def simulate(
    design: Design,
    scenarios: Sequence[Scenario],
    *,
    limit: float,
    looks: int = 1,
    max_net_new_bias_rate: float | None = None,
    replicates: int = 2000,
    seed: int = 0,
) -> OperatingCharacteristic:
    """Simulate the gate's rule on one config whose categories follow ``scenarios``
    (independent items, the ``srs`` metric)."""
    rng = np.random.default_rng(seed)
    plans = [s.stages or stage_sizes(s.n, looks) for s in scenarios]
    rules = [
        CategoryRule(f"c{i}", limit, len(plan), max_net_new_bias_rate, planned=s.n)
        for i, (s, plan) in enumerate(zip(scenarios, plans, strict=True))
    ]
    # Per scenario: the cumulative counts (both, dense only, compressed only, neither)
    # of the valid pairs, (replicates, n + 1), so each look reads its counts directly.
    cumulative = [_cumulative_counts(rng, s, replicates) for s in scenarios]

    def stats_for_round(round_index: int, running: np.ndarray) -> RoundStats:
        looks_stats = []
        net = np.full((replicates, len(scenarios)), np.nan)
        for index, (counts, plan) in enumerate(zip(cumulative, plans, strict=True)):
            size = plan[min(round_index, len(plan)) - 1]
            a, b, c, d = (cell[:, size] for cell in counts)
            looks_stats.append(SRS.look_counts(a, b, c, d, limit))
            with np.errstate(invalid="ignore", divide="ignore"):
                net[:, index] = (c - b) / (c + d)
        return RoundStats(looks_stats, net)

    state, stopped = run_design(design, rules, replicates, stats_for_round)
    used = np.zeros(state.shape)
    for index, plan in enumerate(plans):
        used[:, index] = np.asarray(plan)[np.maximum(stopped[:, index], 1) - 1]
    return OperatingCharacteristic(
        p_pass=tuple(float(x) for x in np.mean(state == PASS, axis=0)),
        p_fail=tuple(float(x) for x in np.mean(state == FAIL, axis=0)),
        p_inconclusive=tuple(float(x) for x in np.mean(state == INCONCLUSIVE, axis=0)),
        expected_items=tuple(float(x) for x in used.mean(axis=0)),
        p_config_pass=float(np.mean(np.all(state == PASS, axis=1))),
        p_config_fail=float(np.mean(np.any(state == FAIL, axis=1))),
        replicates=replicates,
    )
