"""One formatter for every printed number (bias_gate.numbers, docs/decisions.md #23)."""

from __future__ import annotations

import math

from bias_gate import numbers
from bias_gate.judge import verdict
from bias_gate.report import junit, summary


def test_the_formats():
    assert [numbers.fmt(0.12345), numbers.fmt(0.12345, 1), numbers.fmt(None)] == [
        "0.123",
        "0.1",
        "n/a",
    ]
    assert [numbers.fmt_p(0.00001), numbers.fmt_p(0.01234), numbers.fmt_p(None)] == [
        "<0.0001",
        "0.0123",
        "n/a",
    ]
    assert numbers.fmt_ci((-0.1, 0.25)) == "[-0.100, 0.250]"
    assert numbers.fmt_ci(None) == "n/a"
    assert [numbers.fmt_ratio(r) for r in (1.0344, 12.66, 30980035.95, None)] == [
        "1.034",
        "12.7",
        "3.1e7",
        "n/a",
    ]
    assert [numbers.fmt_finite(math.nan), numbers.fmt_finite(0.5, 2)] == ["n/a", "0.50"]
    assert [numbers.fmt_as(0.123, ".1%"), numbers.fmt_as(1024, "d")] == ["12.3%", "1024"]
    assert numbers.fmt_as(None, ".1%") == "n/a"
    assert [numbers.fmt_value(3), numbers.fmt_value(0.1234567), numbers.fmt_value(None)] == [
        "3",
        "0.123457",
        "",
    ]


def test_the_reports_and_the_verdict_print_with_the_same_functions():
    assert summary.fmt is numbers.fmt and summary.fmt_p is numbers.fmt_p
    assert summary.fmt_ci is numbers.fmt_ci and summary.fmt_ratio is numbers.fmt_ratio
    assert verdict.fmt_ratio is numbers.fmt_ratio
    assert junit._num is numbers.fmt_value
