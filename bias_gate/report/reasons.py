"""The reason of every verdict that is not a pass, in one short category every report
shows first (bias amplified, perplexity, dense model not valid, compressed model not
valid, too few items; policy for a hook's change), with its first reason in words."""

from __future__ import annotations

from dataclasses import dataclass

from bias_gate.results import (
    PERPLEXITY,
    ConfigResult,
    GateResults,
    ItemResult,
    derived_reason_category,
)

#: Failures first, then warnings, then inconclusive items that pass by the profile.
_ORDER: dict[str, int] = {"fail": 0, "warn": 1, "pass": 2}


def item_reason(item: ItemResult) -> str | None:
    """The short reason category of a comparison that did not pass (a pass has none):
    recorded by the gate, or derived for items built without it."""
    if item.verdict == "pass":
        return None
    if item.reason_category is not None:
        return item.reason_category
    return derived_reason_category(item)


def perplexity_reason(config: ConfigResult) -> str | None:
    """The reason category of a config's perplexity check (none when it passed)."""
    if config.perplexity_reason_category is not None:
        return config.perplexity_reason_category
    return PERPLEXITY if config.perplexity_verdict in ("fail", "warn") else None


def without_category(text: str, reason: str) -> str:
    """``text`` without a leading ``"<reason>: "`` (a reason that starts with its own
    category, "bias amplified: ...", would say it twice beside it)."""
    return text.removeprefix(f"{reason}: ")


def verdict_words(status: str | None, reason: str | None) -> str:
    """A verdict with its reason first: ``fail: compressed model not valid``, ``pass``."""
    word = status or "n/a"
    return f"{word}: {reason}" if reason else word


@dataclass(frozen=True)
class ReasonRow:
    """One check that did not pass, as every report lists it: reason category first."""

    config: str
    check: str
    status: str
    reason: str
    text: str


def reason_rows(results: GateResults) -> list[ReasonRow]:
    """Every check that did not pass (and every inconclusive one), failures first, each
    with its reason category and first reason, in model.yaml order within a status."""
    rows: list[ReasonRow] = []
    for config in results.configs:
        ppl = perplexity_reason(config)
        if ppl is not None and config.perplexity_verdict is not None:
            first = config.perplexity_reasons[0] if config.perplexity_reasons else ""
            rows.append(ReasonRow(config.name, "perplexity", config.perplexity_verdict, ppl, first))
        for item in config.items:
            reason = item_reason(item)
            if reason is not None:
                first = without_category(item.reasons[0] if item.reasons else "", reason)
                rows.append(ReasonRow(config.name, item.category, item.verdict, reason, first))
    rows.sort(key=lambda row: _ORDER.get(row.status, 2))
    return rows


@dataclass(frozen=True)
class ReasonGroup:
    """Checks that did not pass for the same reason in the same words, listed once."""

    status: str
    reason: str
    checks: list[str]
    text: str


def grouped_reasons(results: GateResults) -> list[ReasonGroup]:
    """:func:`reason_rows` with the checks that share status, reason and text together
    (a dense model whose validity is not established gives every item the same reason)."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    for row in reason_rows(results):
        groups.setdefault((row.status, row.reason, row.text), []).append(
            f"{row.config} / {row.check}"
        )
    return [
        ReasonGroup(status, reason, checks, text)
        for (status, reason, text), checks in groups.items()
    ]
