"""How numbers are printed, in one place (docs/decisions.md #23): every report, the
verdict's reasons, the command line and the benchmarks print figures with these."""

from __future__ import annotations

import math


def fmt(value: float | None, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals, or ``"n/a"`` for None."""
    return "n/a" if value is None else f"{value:.{digits}f}"


def fmt_as(value: float | None, spec: str) -> str:
    """``value`` in a format ``spec`` (``".1%"``, ``"d"``), or ``"n/a"`` for None."""
    return "n/a" if value is None else format(value, spec)


def fmt_finite(value: float | None, digits: int = 3) -> str:
    """As :func:`fmt`, with NaN (a figure of no items) also ``"n/a"``."""
    return fmt(None if value is not None and math.isnan(value) else value, digits)


def fmt_p(value: float | None) -> str:
    """A p-value: 4 decimals, ``<0.0001`` below that, ``n/a`` for None."""
    if value is None:
        return "n/a"
    return "<0.0001" if value < 1e-4 else f"{value:.4f}"


def fmt_ci(ci: tuple[float, float] | None) -> str:
    """A confidence interval as ``[lo, hi]`` (3 decimals) or ``n/a``."""
    return "n/a" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def fmt_ratio(ratio: float | None) -> str:
    """A perplexity ratio readably: 1.034, 12.7, 3.1e7 (n/a for None); every report
    prints ratios with this."""
    if ratio is None:
        return "n/a"
    if ratio >= 1000:
        mantissa, exponent = f"{ratio:.1e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return f"{ratio:.3f}" if ratio < 10 else f"{ratio:.1f}"


def fmt_value(value: float | None) -> str:
    """A number for a machine to read back (a JUnit property): an int as it is, a float
    to 6 significant digits, ``""`` for None."""
    if value is None:
        return ""
    return str(value) if isinstance(value, int) else f"{value:.6g}"
