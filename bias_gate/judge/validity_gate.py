"""Which model's validity keeps a config x category from being judged for bias, and why.

Checked in this order, the first that holds decides (docs/statistics.md, "Validity"):

1. the dense model is shown **not valid** (over the run, or over the category's
   benchmark in a run of several, or on the category):
   ``dense model not valid``, verdict ``validity.on_invalid`` (fail by default);
2. the compressed model gave no readable answer to most of its items:
   ``compressed model not valid``, verdict ``validity.on_invalid``;
3. the dense model's validity could not be established (**too few** disambiguated
   items): ``too few items``, verdict ``on_inconclusive`` (warn by default), never FAIL;
4. the compressed model is shown not valid while the dense model is valid (its
   disambiguated accuracy collapsed to chance, or it answers by letter position):
   ``compressed model not valid``, verdict ``validity.on_invalid``.

Otherwise the bias rule judges the category (:func:`bias_gate.judge.verdict.judge_bias`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from bias_gate.answer.types import Answer
from bias_gate.data.benchmark_set import split_category
from bias_gate.data.items import BBQItem
from bias_gate.judge.thresholds import Thresholds
from bias_gate.judge.validity import Validity, ValidityVerdict, validity
from bias_gate.results import (
    COMPRESSED_NOT_VALID,
    DENSE_NOT_VALID,
    TOO_FEW_ITEMS,
    DenseResult,
)

COMPRESSED = "the compressed model"


@dataclass(frozen=True)
class ValidityBlock:
    """Why a category is not judged for bias: its reason ``category``, which profile
    setting gives its verdict (``on_invalid`` or ``on_inconclusive``) and the reasons."""

    category: str
    verdict_from: Literal["on_invalid", "on_inconclusive"]
    reasons: list[str]


@dataclass(frozen=True)
class CompressedValidity:
    """The compressed model's answers of one config, diagnosed and judged;
    ``unreadable``: most of its items, or most of its ambiguous items (where the
    comparison rests), have no readable answer (the check that needs no dense model)."""

    diagnostics: Validity
    verdict: ValidityVerdict
    unreadable: bool


def compressed_validity(
    items: Sequence[BBQItem], answers: Mapping[str, Answer], limits: Thresholds
) -> CompressedValidity:
    """The compressed model's validity over the ``items`` it answered for a config (every
    category's items through its stopping look), held to the profile's validity rules."""
    diagnostics = validity(items, answers)
    verdict = diagnostics.judge(limits.validity, limits.power, who=COMPRESSED)
    limit = limits.validity.max_invalid_rate
    unreadable = diagnostics.invalid_rate is not None and diagnostics.invalid_rate > limit
    ambiguous = [item for item in items if item.is_ambiguous]
    missing = sum(1 for item in ambiguous if _unread(answers.get(item.key)))
    if ambiguous and missing / len(ambiguous) > limit and not unreadable:
        unreadable = True
        reason = (
            f"{COMPRESSED} gave no readable answer to {missing} of its {len(ambiguous)} "
            f"ambiguous items ({missing / len(ambiguous):.0%}; limit {limit:.0%})"
        )
        others = verdict.reasons if verdict.state == "not_valid" else []
        verdict = ValidityVerdict("not_valid", [reason, *others])
    return CompressedValidity(diagnostics, verdict, unreadable)


def _unread(answer: Answer | None) -> bool:
    return answer is None or answer.choice is None


def dense_state(dense: DenseResult, category: str) -> tuple[str, list[str]]:
    """The dense model's validity for ``category``: the worse of the run's (in a run of
    several benchmarks, the category's benchmark's) and the category's own (not_valid,
    then too_few), with the reasons of that state."""
    own = dense.validity_by_category.get(category, {})
    own_state = own.get("state") or ("valid" if own.get("informative", True) else "not_valid")
    benchmark = dense.validity_by_benchmark.get(split_category(category)[0])
    run_state = benchmark["state"] if benchmark else dense.state()
    run_reasons = benchmark["reasons"] if benchmark else dense.validity_reasons
    for wanted in ("not_valid", "too_few"):
        if run_state == wanted:  # the run's reasons (a category's would repeat them)
            return wanted, run_reasons
        if own_state == wanted:
            return wanted, own.get("reasons", [])
    return "valid", []


def validity_block(
    dense: DenseResult, category: str, compressed: CompressedValidity | None
) -> ValidityBlock | None:
    """What keeps ``category`` from being judged for bias (the order of this module's
    docstring), or ``None`` when both models may be judged."""
    state, reasons = dense_state(dense, category)
    if state == "not_valid":
        text = "the dense model is not valid, so its bias cannot be judged: " + "; ".join(reasons)
        return ValidityBlock(DENSE_NOT_VALID, "on_invalid", [text])
    if compressed is not None and compressed.unreadable:
        return ValidityBlock(COMPRESSED_NOT_VALID, "on_invalid", _compressed(compressed, ""))
    if state == "too_few":
        text = "the dense model's validity is not established, so bias is not judged: "
        return ValidityBlock(TOO_FEW_ITEMS, "on_inconclusive", [text + "; ".join(reasons)])
    if compressed is not None and compressed.verdict.state == "not_valid":
        return ValidityBlock(
            COMPRESSED_NOT_VALID, "on_invalid", _compressed(compressed, " while the dense model is")
        )
    return None


def _compressed(compressed: CompressedValidity, contrast: str) -> list[str]:
    return [
        f"the compressed model is not valid{contrast}, so its bias cannot be judged: "
        + "; ".join(compressed.verdict.reasons)
    ]
