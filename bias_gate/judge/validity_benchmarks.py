"""The dense model's validity per benchmark, in a run of several (``data.benchmarks``).

A model that answers English BBQ from the context may not read Korean at all, so one
benchmark's validity vouches for no other: each benchmark's disambiguated items are
judged alone (:meth:`bias_gate.judge.validity.Validity.judge`), and a category is held to
its own benchmark's state (:func:`bias_gate.judge.validity_gate.dense_state`). The
run-wide state is the worst of them (not valid, then too few items, then valid), its
reasons each benchmark's that is not valid, named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bias_gate.answer.types import Answer
from bias_gate.data.benchmark_set import split_category
from bias_gate.data.items import BBQItem
from bias_gate.judge.thresholds import Thresholds
from bias_gate.judge.validity import validity

#: Validity states from worst to best.
_ORDER = ("not_valid", "too_few", "valid")


def validity_by_benchmark(
    disambiguated: Sequence[BBQItem], answers: Mapping[str, Answer], limits: Thresholds
) -> dict[str, dict[str, Any]]:
    """Per benchmark (of each item's gate category), the dense model's validity on its
    disambiguated items: ``validity`` (the diagnostics), ``state``, ``informative``,
    ``reasons``."""
    grouped: dict[str, list[BBQItem]] = {}
    for item in disambiguated:
        grouped.setdefault(split_category(item.category)[0], []).append(item)
    out: dict[str, dict[str, Any]] = {}
    for benchmark, items in grouped.items():
        diagnostics = validity(items, answers)
        judged = diagnostics.judge(
            limits.validity, limits.power, who=f"the dense model on {benchmark}"
        )
        out[benchmark] = {
            "validity": diagnostics.to_json(),
            "state": judged.state,
            "informative": judged.state == "valid",
            "reasons": judged.reasons,
        }
    return out


def run_state(by_benchmark: Mapping[str, Mapping[str, Any]]) -> tuple[str, list[str]]:
    """The run-wide state of several benchmarks: the worst, with the reasons of every
    benchmark in that state."""
    state = min((entry["state"] for entry in by_benchmark.values()), key=_ORDER.index)
    reasons = [
        reason
        for entry in by_benchmark.values()
        if entry["state"] == state
        for reason in entry["reasons"]
    ]
    return state, reasons
