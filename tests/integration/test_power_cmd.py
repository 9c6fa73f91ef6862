"""``bias-gate power`` and ``bias-gate oc`` run for real: the rule's own sample sizes,
and its operating characteristic by simulation."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from scipy import stats as sps

from bias_gate.cli import main
from bias_gate.judge import power

ROOT = Path(__file__).resolve().parents[2]


def run_json(command: str, args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main([command, *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_fixed_design_items_by_the_formula(capsys) -> None:
    result = run_json("power", ["--looks", "1"], capsys)
    z = sps.norm.isf(0.05) + sps.norm.isf(0.2)
    variance = result["per_item_variance_unpaired"]
    # (0.2 - s / n) sqrt(n / V) = z, s the continuity correction's shift at SRS 0.1:
    # a quadratic in sqrt(n); without the correction, V z^2 / 0.2^2.
    s = 2 * 0.5 / math.sqrt(0.1 * 0.9)
    root = (z * math.sqrt(variance) + math.sqrt(z * z * variance + 4 * 0.2 * s)) / (2 * 0.2)
    assert result["items_unpaired"] == math.ceil(root * root)
    assert result["items_unpaired"] > math.ceil(variance * z * z / 0.2**2)
    assert 2.0 < result["per_item_variance_unpaired"] < 2.05  # just above the Wald 2
    assert (result["limit"], result["alpha"], result["power"]) == (0.2, 0.05, 0.8)


def test_looks_cost_a_few_items_and_pairing_saves_many(capsys) -> None:
    fixed = run_json("power", ["--looks", "1"], capsys)["items_unpaired"]
    looks = run_json("power", ["--looks", "4"], capsys)["items_unpaired"]
    assert fixed < looks < fixed * 1.1
    paired = run_json("power", ["--dense-srs", "0.3", "--agreement", "0.9"], capsys)
    assert paired["items_paired"] < looks / 2
    by_r = run_json("power", ["--correlation", "0.5"], capsys)
    assert by_r["per_item_variance_paired"] == 1.0


def test_profile_and_pass_probability_at_n(capsys) -> None:
    strict = run_json("power", ["--profile", "strict", "--looks", "1"], capsys)
    assert strict["limit"] == 0.1 and strict["items_unpaired"] > 1000
    at_n = run_json("power", ["--looks", "1", "--n", str(strict["items_unpaired"])], capsys)
    assert at_n["pass_probability_unpaired"] > 0.99  # the default limit is twice as wide
    text_args = ["power", "--agreement", "0.85", "--dense-srs", "0.3", "--n", "200"]
    assert main(text_args) == 0
    out = capsys.readouterr().out
    assert "ambiguous items (paired: dense SRS 0.3, agreement 0.85)" in out
    assert "at n = 200: P(pass | unchanged)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agreement", "0.9"], "give --dense-srs and --agreement together"),
        (["--dense-srs", "0.3", "--agreement", "0.2"], "impossible"),
        (["--alpha", "0.7"], "--alpha: must be in (0, 0.5)"),
        (["--profile", "nope"], "unknown threshold profile 'nope'"),
    ],
)
def test_bad_power_input_is_one_line(capsys, args, message) -> None:
    assert main(["power", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_oc_reads_off_both_guarantees(capsys) -> None:
    document = run_json(
        "oc", ["--n", "300", "--dense-srs", "0.3", "--agreement", "0.8", "--reps", "600"], capsys
    )
    by_h = {row["h"]: row for row in document["rows"]}
    assert set(by_h) == {0.0, 0.1, 0.2}  # 0, half the limit (inside it), the limit
    assert document["fail_rule"] == "estimate"
    assert by_h[0.2]["p_pass"] <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 600)
    assert by_h[0.0]["p_fail"] <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 600)
    assert by_h[0.0]["p_pass"] > 0.8
    for row in document["rows"]:
        assert row["p_pass"] + row["p_fail"] + row["p_inconclusive"] == pytest.approx(1.0)
        assert 0 < row["expected_items"] <= 300


def test_oc_config_level_and_text(capsys) -> None:
    args = ["oc", "--n", "200", "--dense-srs", "0.3", "--agreement", "0.8", "--h", "0"]
    assert main([*args, "--categories", "3", "--reps", "300"]) == 0
    out = capsys.readouterr().out
    assert "P(config fail)" in out and "guarantees: P(pass | h >= 0.2) <= 0.05" in out
    assert "fail_rule estimate: a model inside the limit" in out
    assert "caution" not in out
    # The small category: the guarantee holds there now, no caution line.
    small = ["--n", "10", "--dense-srs", "0.05", "--agreement", "0.85", "--h", "0.2"]
    assert main(["oc", *small, "--looks", "1", "--reps", "300", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"][0]["p_pass"] <= 0.05
    assert "P(fail | h <= 0) <= 0.05" in out
    assert main([*args[:-2], "--h", "0.9", "--agreement", "0.95"]) == 2
    err = capsys.readouterr().err
    # The feasible agreements quoted: at most 1 - |p2 - p1| (one-way flips).
    assert "impossible" in err and "[0.0346, 0.5654]" in err
    # The agreement as given (not rounded), and the range every effect allows: the
    # default effects 0, 0.1, 0.2 at SRS 0.3 need [0.4000, 0.9050] (h = 0's lower end,
    # h = 0.2's upper); 0.95 fits h = 0 and 0.1, not 0.2.
    assert main(["oc", "--n", "100", "--dense-srs", "0.3", "--agreement", "0.949999999"]) == 2
    err = capsys.readouterr().err
    assert "agreement 0.949999999 is impossible with dense SRS 0.3 and h 0.2:" in err
    assert "every effect simulated (0, 0.1, 0.2) needs it in [0.4000, 0.9050]" in err


def test_oc_states_the_bound_rule_guarantee(tmp_path, capsys) -> None:
    profile = tmp_path / "bound.yaml"
    default = (ROOT / "thresholds" / "default.yaml").read_text(encoding="utf-8")
    profile.write_text(default.replace("fail_rule: estimate", "fail_rule: bound"), "utf-8")
    args = ["oc", "--n", "200", "--dense-srs", "0.3", "--agreement", "0.8", "--h", "0.2"]
    assert main([*args, "--reps", "200", "--profile", str(profile)]) == 0
    out = capsys.readouterr().out
    assert "P(fail | h <= 0.2) <= 0.05" in out and "fail_rule bound" in out


def test_power_planning_matches_the_fixed_formula() -> None:
    variance = power.variance_from_correlation(0.0)
    assert power.fixed_items(variance, 0.2, 0.05, 0.8) == math.ceil(
        2 * (sps.norm.isf(0.05) + sps.norm.isf(0.2)) ** 2 / 0.04
    )
    assert power.power_at(
        power.fixed_items(variance, 0.2, 0.05, 0.8), variance, 0.2, 0.05
    ) == pytest.approx(0.8, abs=0.005)
