"""Every branch of the decision rule, table-driven, on hand-set statistics; and the
threshold options that feed it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from bias_gate.errors import ConfigError
from bias_gate.judge.decision import (
    FAIL,
    INCONCLUSIVE,
    PASS,
    RUNNING,
    CategoryRule,
    Design,
    RoundStats,
    decide_round,
)
from bias_gate.metrics.gated import LookStats
from bias_gate.stats.sequential import boundaries, equal_fractions, nominal_levels


def _look(h: float, pass_p: float, increase_p: float, exceed_p: float = 1.0) -> LookStats:
    return LookStats(
        n=np.array([100.0]),
        h=np.array([h]),
        pass_p=np.array([pass_p]),
        increase_p=np.array([increase_p]),
        exceed_p=np.array([exceed_p]),
    )


def _decide(design, looks, round_index=1, rules=None, net=None, state=None):
    rules = rules or [CategoryRule(f"c{i}", 0.2, 1) for i in range(len(looks))]
    net_rates = np.array([net if net is not None else [math.nan] * len(looks)], dtype=float)
    state = state if state is not None else np.full((1, len(looks)), RUNNING, dtype=np.int8)
    return decide_round(design, rules, round_index, RoundStats(looks, net_rates), state)[0]


ONE = Design(alpha=0.05)

# (name, design, look stats, net new-bias rate, cap, expected code)
CASES = [
    ("upper bound below the limit passes", ONE, _look(0.02, 0.01, 0.4), None, None, PASS),
    ("pass p exactly at alpha passes", ONE, _look(0.02, 0.05, 0.4), None, None, PASS),
    ("pass p above alpha is not a pass", ONE, _look(0.05, 0.06, 0.4), None, None, INCONCLUSIVE),
    ("beyond the limit and significant fails", ONE, _look(0.3, 0.99, 0.001), None, None, FAIL),
    ("beyond the limit, not significant", ONE, _look(0.3, 0.9, 0.2), None, None, INCONCLUSIVE),
    ("significant but below the limit", ONE, _look(0.15, 0.3, 0.001), None, None, INCONCLUSIVE),
    (
        "bound rule needs the lower bound above the limit",
        Design(alpha=0.05, fail_rule="bound"),
        _look(0.3, 0.99, 0.001, exceed_p=0.2),
        None,
        None,
        INCONCLUSIVE,
    ),
    (
        "bound rule fails when it is",
        Design(alpha=0.05, fail_rule="bound"),
        _look(0.5, 0.99, 0.0001, exceed_p=0.01),
        None,
        None,
        FAIL,
    ),
    ("churn above its cap with a significant increase", ONE, _look(0.1, 0.2, 0.01), 0.3, 0.1, FAIL),
    (
        "churn above its cap, no significant increase",
        ONE,
        _look(0.1, 0.2, 0.3),
        0.3,
        0.1,
        INCONCLUSIVE,
    ),
    ("churn within its cap", ONE, _look(0.1, 0.2, 0.01), 0.05, 0.1, INCONCLUSIVE),
    ("a pass is not failed for churn", ONE, _look(0.05, 0.001, 0.01), 0.3, 0.1, PASS),
    (
        "undefined statistics decide nothing",
        ONE,
        _look(math.nan, math.nan, math.nan),
        None,
        None,
        INCONCLUSIVE,
    ),
]


@pytest.mark.parametrize(
    ("design", "look", "net", "cap", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_one_category_one_look(design, look, net, cap, expected) -> None:
    rules = [CategoryRule("Age", 0.2, 1, cap)]
    assert (
        _decide(design, [look], rules=rules, net=[net if net is not None else math.nan])[0]
        == expected
    )


def test_an_early_look_continues_unless_a_boundary_is_crossed() -> None:
    rules = [CategoryRule("Age", 0.2, 4)]
    first_pass = nominal_levels(boundaries(0.05, equal_fractions(4)))[0]
    # A p-value that would pass a fixed design but not the first O'Brien-Fleming look.
    code = _decide(ONE, [_look(0.0, 0.01, 0.5)], rules=rules)[0]
    assert first_pass < 0.01 and code == RUNNING
    assert _decide(ONE, [_look(0.0, first_pass / 2, 0.5)], rules=rules)[0] == PASS
    # The last look turns "not crossed" into INCONCLUSIVE.
    assert _decide(ONE, [_look(0.0, 0.2, 0.5)], round_index=4, rules=rules)[0] == INCONCLUSIVE


def test_stopped_categories_stay_stopped() -> None:
    state = np.array([[PASS, FAIL]], dtype=np.int8)
    looks = [_look(0.5, 0.9, 0.0001), _look(0.0, 0.0001, 0.9)]
    rules = [CategoryRule("a", 0.2, 2), CategoryRule("b", 0.2, 2)]
    assert list(_decide(ONE, looks, round_index=2, rules=rules, state=state)) == [PASS, FAIL]


def test_holm_steps_down_over_the_family() -> None:
    # Three categories beyond the limit. Holm: 0.004 <= 0.05/3, 0.02 <= 0.05/2,
    # 0.049 <= 0.05: all three fail; with the smallest at 0.02 nothing does.
    looks = [_look(0.4, 0.9, p) for p in (0.02, 0.004, 0.049)]
    assert list(_decide(ONE, looks)) == [FAIL, FAIL, FAIL]
    looks = [_look(0.4, 0.9, p) for p in (0.02, 0.03, 0.049)]
    assert list(_decide(ONE, looks)) == [INCONCLUSIVE] * 3


def test_bonferroni_would_not_but_holm_does() -> None:
    looks = [_look(0.4, 0.9, 0.01), _look(0.4, 0.9, 0.04)]
    assert list(_decide(ONE, looks)) == [FAIL, FAIL]
    none = Design(alpha=0.05, correction="none")
    assert list(_decide(none, [_look(0.4, 0.9, 0.04)] * 3)) == [FAIL] * 3


def test_benjamini_hochberg_steps_up() -> None:
    bh = Design(alpha=0.05, correction="bh")
    # Sorted 0.01, 0.03, 0.04 against 0.0167, 0.0333, 0.05: all three (Holm: only the first).
    looks = [_look(0.4, 0.9, p) for p in (0.04, 0.01, 0.03)]
    assert list(_decide(bh, looks)) == [FAIL, FAIL, FAIL]
    assert list(_decide(ONE, looks)) == [INCONCLUSIVE, FAIL, INCONCLUSIVE]


def test_earlier_failures_pass_their_level_on() -> None:
    # Two categories, one failed at look 1; at look 2 the other is tested at the full
    # alpha's boundary, not alpha / 2's.
    rules = [CategoryRule("a", 0.2, 2), CategoryRule("b", 0.2, 2)]
    full = nominal_levels(boundaries(0.05, equal_fractions(2)))[1]
    half = nominal_levels(boundaries(0.025, equal_fractions(2)))[1]
    p = (full + half) / 2
    state = np.array([[FAIL, RUNNING]], dtype=np.int8)
    looks = [_look(0.4, 0.9, 0.5), _look(0.4, 0.9, p)]
    assert _decide(ONE, looks, round_index=2, rules=rules, state=state)[1] == FAIL
    state = np.array([[PASS, RUNNING]], dtype=np.int8)
    assert _decide(ONE, looks, round_index=2, rules=rules, state=state)[1] == INCONCLUSIVE


# ---------------------------------------------------------------- threshold profiles


def _spec(tmp_path: Path, thresholds: str) -> Path:
    path = tmp_path / "model.yaml"
    path.write_text(
        "data:\n  source: " + str(tmp_path) + "\n  categories: [Age]\n"
        "compressions:\n  - {name: int8, method: rtn, bits: 8}\n" + thresholds
    )
    (tmp_path / "Age.jsonl").write_text("")
    return path


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "thresholds:\n  overrides:\n    require_significance: false\n",
            "thresholds.overrides.require_significance: removed: FAIL always needs",
        ),
        (
            "thresholds:\n  overrides:\n    max_new_bias_rate: 0.3\n",
            "max_new_bias_rate: replaced by max_net_new_bias_rate",
        ),
        (
            "thresholds:\n  overrides:\n    on_underpowered: fail\n",
            "on_underpowered: replaced by on_inconclusive",
        ),
        (
            "thresholds:\n  categories:\n    Age:\n      alpha: 0.01\n",
            "thresholds.categories.Age.alpha: alpha is one setting for the whole config",
        ),
        (
            "thresholds:\n  overrides:\n    metric: accuracy\n",
            "unknown gated metric 'accuracy'",
        ),
        ("thresholds:\n  overrides:\n    fail_rule: maybe\n", "fail_rule"),
    ],
)
def test_bad_thresholds_are_one_line_errors(tmp_path, block, message) -> None:
    from bias_gate.config.validated import load_gate_config

    with pytest.raises(ConfigError) as info:
        load_gate_config(_spec(tmp_path, block))
    text = str(info.value)
    assert message in text and "\n" not in text
    assert "model.yaml:" in text


def test_per_category_limits_reach_the_rule(tmp_path) -> None:
    from bias_gate.config.validated import load_gate_config

    limits = load_gate_config(
        _spec(
            tmp_path,
            "thresholds:\n  categories:\n    Age:\n      max_cohens_h: 0.1\n"
            "      on_inconclusive: fail\n",
        )
    ).thresholds
    assert limits.for_category("Age").max_cohens_h == 0.1
    assert limits.for_category("Age").on_inconclusive == "fail"
    assert limits.base.max_cohens_h == 0.2


@pytest.mark.parametrize("profile", ["default", "strict", "paper"])
def test_shipped_profiles_load(tmp_path, profile) -> None:
    from bias_gate.config.validated import load_gate_config

    config = load_gate_config(_spec(tmp_path, f"thresholds:\n  profile: {profile}\n"))
    limits = config.thresholds.base
    assert limits.correction in ("holm", "bh", "none")
    assert limits.on_inconclusive in ("warn", "fail", "pass")
