"""The trend across releases: today's results beside a previous run's, per config x
category (``bias-gate report --previous OLD.json``).

Items are matched by config name, category and benchmark. Verdicts and h are read from both
results objects as the gate wrote them; a verdict is worse when its severity
(:data:`bias_gate.report.summary.SEVERITY`: pass < warn < fail) rose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bias_gate.report.summary import SEVERITY, fmt
from bias_gate.results import GateResults, ItemResult

Change = Literal["worse", "better", "same", "new"]

#: The order rows are listed in: what got worse first.
CHANGE_ORDER: dict[str, int] = {"worse": 0, "new": 1, "better": 2, "same": 3}


@dataclass(frozen=True)
class TrendRow:
    """One config x category of today's run, with the previous run's item when there
    was one (``previous`` None: the change is ``"new"``)."""

    current: ItemResult
    previous: ItemResult | None

    @property
    def change(self) -> Change:
        if self.previous is None:
            return "new"
        now, before = SEVERITY[self.current.verdict], SEVERITY[self.previous.verdict]
        if now > before:
            return "worse"
        if now < before:
            return "better"
        return "same"


@dataclass(frozen=True)
class Trend:
    """Today's items beside the previous run's: ``rows`` in today's run order,
    ``dropped`` the (config, category) pairs only the previous run had, ``label`` how the
    previous run is named in the reports (its file)."""

    label: str
    rows: list[TrendRow]
    dropped: list[tuple[str, str]]

    def by_change(self, change: Change) -> list[TrendRow]:
        return [row for row in self.rows if row.change == change]

    def ranked(self) -> list[TrendRow]:
        """The rows, worse first, then new, better, same (run order within each)."""
        return sorted(self.rows, key=lambda row: CHANGE_ORDER[row.change])

    def lookup(self) -> dict[tuple[str, str], TrendRow]:
        return {(row.current.config, row.current.category): row for row in self.rows}


def compare(current: GateResults, previous: GateResults, label: str) -> Trend:
    """Match today's items with the previous run's by config name, category and benchmark
    (a KoBBQ-only run's ``Age`` is not a BBQ run's)."""
    before = {(item.config, item.category): item for item in previous.items()}
    rows = []
    matched = set()
    for item in current.items():
        key = (item.config, item.category)
        old = before.get(key)
        if old is not None and old.benchmark == item.benchmark:
            matched.add(key)
            rows.append(TrendRow(item, old))
        else:
            rows.append(TrendRow(item, None))
    dropped = [key for key in before if key not in matched]
    return Trend(label=label, rows=rows, dropped=dropped)


def verdict_text(item: ItemResult | None) -> str:
    """``"fail h 0.363"``, or ``"new"`` when there is no item."""
    return "new" if item is None else f"{item.verdict} h {fmt(item.cohens_h)}"


def trend_line(trend: Trend) -> str:
    """The trend in one terminal line: counts, and each verdict that got worse."""
    worse = trend.by_change("worse")
    text = (
        f"trend against {trend.label}: {len(worse)} worse, "
        f"{len(trend.by_change('better'))} better, {len(trend.by_change('same'))} unchanged, "
        f"{len(trend.by_change('new'))} new"
    )
    if trend.dropped:
        text += f", {len(trend.dropped)} no longer run"
    if worse:
        text += "; worse: " + ", ".join(
            f"{row.current.config}/{row.current.category} "
            f"{row.previous.verdict if row.previous else 'new'} -> {row.current.verdict}"
            for row in worse
        )
    return text
