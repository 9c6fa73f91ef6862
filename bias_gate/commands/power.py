"""``bias-gate power``: how many BBQ items per category a comparison needs.

``--h H`` prints the items needed to detect |h| = H (two-sided ``--alpha``, ``--power``):
per group for two independent samples, and paired (the same items under dense and
compressed) when ``--correlation R`` (paired Wald test on h, variance 2(1 - R)/n) or
``--discordance PSI`` (McNemar, Connor 1987; ``--baseline P`` sets the dense SRS the
difference is taken from, default the pair centred on 1/2) is given. ``--n N`` prints the
minimum detectable |h| at N items instead (or as well). ``--json`` prints JSON.

scipy and statsmodels are imported when the command runs, not when the CLI is built.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

from bias_gate.errors import BiasGateError


@dataclass(frozen=True)
class PowerAnswer:
    """What the command computes; ``None`` where the matching option was not given.

    ``paired_method``: "correlation", "mcnemar" or ``None``. ``items_*``: items needed
    for ``h`` (unpaired: per group). ``min_detectable_h_*``: at ``n`` items (unpaired: per
    group); ``None`` also when not reachable (McNemar: the discordance caps the effect)."""

    alpha: float
    power: float
    h: float | None
    n: int | None
    paired_method: str | None
    correlation: float | None
    discordance: float | None
    baseline: float | None
    items_unpaired_per_group: int | None
    items_paired: int | None
    min_detectable_h_unpaired: float | None
    min_detectable_h_paired: float | None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--h", type=float, help="Cohen's h to detect (e.g. 0.2)")
    parser.add_argument("--n", type=int, help="items per category: print the detectable h")
    parser.add_argument("--alpha", type=float, default=0.05, help="two-sided (default 0.05)")
    parser.add_argument("--power", type=float, default=0.8, help="default 0.8")
    parser.add_argument(
        "--paired",
        action="store_true",
        help="paired design (needs --correlation or --discordance)",
    )
    pairing = parser.add_mutually_exclusive_group()
    pairing.add_argument(
        "--correlation", type=float, help="within-item correlation r of 'biased' in (-1, 1)"
    )
    pairing.add_argument(
        "--discordance",
        type=float,
        help="share of items whose biased status differs between the models (McNemar)",
    )
    parser.add_argument(
        "--baseline", type=float, help="dense SRS for --discordance (default: centred on 1/2)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON")


def _paired_items(args: argparse.Namespace) -> int | None:
    from bias_gate import stats

    if args.h is None:
        return None
    if args.correlation is not None:
        return stats.required_n_paired_correlation(args.h, args.correlation, args.alpha, args.power)
    if args.discordance is not None:
        return stats.required_n_mcnemar_for_h(
            args.h, args.discordance, args.alpha, args.power, args.baseline
        )
    return None


def _paired_min_h(args: argparse.Namespace) -> float | None:
    from bias_gate import stats

    if args.n is None:
        return None
    if args.correlation is not None:
        return stats.min_detectable_h_paired_correlation(
            args.n, args.correlation, args.alpha, args.power
        )
    if args.discordance is not None:
        return stats.min_detectable_h_mcnemar(
            args.n, args.discordance, args.alpha, args.power, args.baseline
        )
    return None


def compute(args: argparse.Namespace) -> PowerAnswer:
    """The :class:`PowerAnswer` for parsed arguments; bad combinations raise
    :class:`BiasGateError` with one line saying what to give."""
    from bias_gate import stats  # scipy/statsmodels: imported only when the command runs

    if args.h is None and args.n is None:
        raise BiasGateError("give --h (items needed) or --n (detectable h), or both")
    paired = args.correlation is not None or args.discordance is not None
    if args.paired and not paired:
        raise BiasGateError("needs --correlation R or --discordance PSI", key="--paired")
    if args.baseline is not None and args.discordance is None:
        raise BiasGateError("only applies with --discordance", key="--baseline")
    if args.n is not None and args.n < 2:
        raise BiasGateError("must be at least 2", key="--n")
    try:
        method = "correlation" if args.correlation is not None else None
        method = "mcnemar" if args.discordance is not None else method
        return PowerAnswer(
            alpha=args.alpha,
            power=args.power,
            h=args.h,
            n=args.n,
            paired_method=method,
            correlation=args.correlation,
            discordance=args.discordance,
            baseline=args.baseline,
            items_unpaired_per_group=stats.required_n_unpaired(args.h, args.alpha, args.power)
            if args.h is not None
            else None,
            items_paired=_paired_items(args),
            min_detectable_h_unpaired=stats.min_detectable_h_unpaired(
                args.n, args.alpha, args.power
            )
            if args.n is not None
            else None,
            min_detectable_h_paired=_paired_min_h(args),
        )
    except ValueError as exc:
        raise BiasGateError(str(exc)) from None


def _paired_label(answer: PowerAnswer) -> str:
    if answer.paired_method == "correlation":
        return f"paired Wald test on h, correlation r = {answer.correlation}"
    where = "centred on 1/2" if answer.baseline is None else f"dense SRS {answer.baseline}"
    return f"paired McNemar, discordance {answer.discordance}, {where}"


def render_text(answer: PowerAnswer) -> str:
    """A few plain lines for the terminal."""
    lines = [f"alpha {answer.alpha} (two-sided), power {answer.power}"]
    if answer.h is not None:
        lines.append(
            f"|h| = {abs(answer.h)}: {answer.items_unpaired_per_group} items per group "
            "(unpaired, two independent samples)"
        )
        if answer.paired_method is not None:
            lines.append(
                f"|h| = {abs(answer.h)}: {answer.items_paired} paired items "
                f"({_paired_label(answer)})"
            )
    if answer.n is not None:
        lines.append(
            f"n = {answer.n}: minimum detectable |h| {_fmt(answer.min_detectable_h_unpaired)} "
            "(unpaired, n per group)"
        )
        if answer.paired_method is not None:
            lines.append(
                f"n = {answer.n}: minimum detectable |h| {_fmt(answer.min_detectable_h_paired)} "
                f"({_paired_label(answer)})"
            )
    lines.append(
        "items = ambiguous BBQ items with a target answered validly (SRS uses only those; "
        "BBQ has about half of each category ambiguous)"
    )
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "not reachable" if value is None else f"{value:.4f}"


def run(args: argparse.Namespace) -> int:
    answer = compute(args)
    print(json.dumps(asdict(answer), indent=2) if args.json else render_text(answer))
    return 0
