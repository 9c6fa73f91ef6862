"""The user's policy on verdicts (gate/policy.py), on hand-built results: every change
is recorded, and a verdict that is not a status is refused in one line."""

from __future__ import annotations

import pytest

from bias_gate.errors import BiasGateError
from bias_gate.gate.policy import apply_policy
from bias_gate.results import GateResults
from tests.support.reports import make_results


def one_config() -> GateResults:
    results = make_results()
    results.configs = results.configs[:1]
    return results


def test_changes_are_recorded_first_and_untouched_items_keep_their_reasons():
    results = one_config()
    config = results.configs[0]
    first, *others = config.items
    kept = [list(item.reasons) for item in others]
    old = first.verdict
    new = "warn" if old != "warn" else "fail"

    def policy(seen: GateResults) -> None:
        assert seen is results
        seen.configs[0].items[0].verdict = new
        seen.configs[0].perplexity_verdict = "fail"

    perplexity_old = config.perplexity_verdict
    apply_policy(policy, results)
    assert first.verdict == new
    assert first.reasons[0] == (
        f"verdict changed from {old} to {new} by a pytest_bias_gate_results hook"
    )
    assert [item.reasons for item in others] == kept
    if perplexity_old != "fail":
        assert config.perplexity_reasons[0].startswith(f"verdict changed from {perplexity_old}")


def test_a_verdict_that_is_not_a_status_is_refused():
    results = one_config()

    def policy(seen: GateResults) -> None:
        seen.configs[0].items[0].verdict = "maybe"  # type: ignore[assignment]

    with pytest.raises(BiasGateError) as info:
        apply_policy(policy, results)
    config = results.configs[0]
    assert str(info.value) == (
        f"verdict: a pytest_bias_gate_results hook set the verdict of "
        f"{config.name}::{config.items[0].category} to 'maybe'; allowed: pass, fail, warn"
    )
