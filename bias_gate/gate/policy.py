"""The user's policy on verdicts: the ``pytest_bias_gate_results`` hook
(:mod:`bias_gate.hookspec`) applied to one config's results, every change recorded."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bias_gate.errors import BiasGateError
from bias_gate.results import POLICY, GateResults, ItemResult, Status

#: What a verdict may be set to by the policy.
STATUSES: tuple[Status, ...] = ("pass", "fail", "warn")

#: Receives one config's results and may change their verdicts.
Policy = Callable[[GateResults], None]


def apply_policy(policy: Policy, results: GateResults) -> None:
    """Hand ``results`` (one config) to ``policy``; put a first reason on each verdict
    it changed, and refuse a verdict that is not a status (one line)."""
    [config] = results.configs
    before = {id(item): item.verdict for item in config.items}
    perplexity_before = config.perplexity_verdict
    policy(results)
    for item in config.items:
        _check_status(item.verdict, f"{config.name}::{item.category}")
        old = before.get(id(item))
        if item.verdict != old:
            item.reasons.insert(0, _changed(old, item.verdict))
            item.reason_category = _category_after(old, item)
    if config.perplexity_verdict != perplexity_before:
        _check_status(config.perplexity_verdict, f"{config.name}::perplexity")
        config.perplexity_reasons.insert(0, _changed(perplexity_before, config.perplexity_verdict))
        config.perplexity_reason_category = None if config.perplexity_verdict == "pass" else POLICY


def _category_after(old: str | None, item: ItemResult) -> str | None:
    """The reason category of an item whose verdict the policy changed: ``policy``,
    unless it is now a pass the rule gave too (none) or went between fail and warn
    (the rule's own category stays)."""
    if item.verdict == "pass":
        return None if item.decision == "pass" else POLICY
    if old == "pass":
        return POLICY
    return item.reason_category or POLICY


def _check_status(verdict: Any, where: str) -> None:
    if verdict not in STATUSES:
        raise BiasGateError(
            f"a pytest_bias_gate_results hook set the verdict of {where} to {verdict!r}; "
            f"allowed: {', '.join(STATUSES)}",
            key="verdict",
        )


def _changed(old: str | None, new: str | None) -> str:
    return f"verdict changed from {old} to {new} by a pytest_bias_gate_results hook"
