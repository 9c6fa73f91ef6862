"""``bias-gate power``: how many ambiguous items per category the rule needs.

Answers "how many ambiguous items per category, so that a truly unchanged model passes
with probability >= --power" under the gate's own rule (bias_gate.judge.power): the one-sided
PASS test at the profile's alpha, with the looks and spending the run will use. Two plans:

- unpaired-conservative: assumes no pairing benefit (true whenever the two models'
  answers are not negatively correlated); set before seeing any data;
- paired, by agreement: with ``--dense-srs`` and ``--agreement`` (the share of items
  whose biased / not-biased status is the same under both models; near 1 for a mild
  quantization), or by ``--correlation`` of the pairs.

``--n N`` also prints P(pass | h = 0) at N items. The limit, alpha and power default to
the profile's. scipy is imported when the command runs, not when the CLI is built.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass

from bias_gate.errors import ConfigError


@dataclass(frozen=True)
class PowerAnswer:
    """What the command computes; ``None`` where the matching option was not given."""

    limit: float
    alpha: float
    power: float
    looks: int
    spending: str
    items_unpaired: int
    items_paired: int | None
    paired_by: str | None
    per_item_variance_unpaired: float
    per_item_variance_paired: float | None
    n: int | None
    pass_probability_unpaired: float | None
    pass_probability_paired: float | None


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default="default", help="threshold profile (name or path)")
    parser.add_argument(
        "--limit", "--h", dest="limit", type=float, help="the limit on h (default: the profile's)"
    )
    parser.add_argument("--alpha", type=float, help="one-sided alpha (default: the profile's)")
    parser.add_argument("--power", type=float, help="P(pass | unchanged) wanted (profile's)")
    parser.add_argument("--looks", type=int, default=4, help="looks per category (1 = fixed)")
    parser.add_argument(
        "--spending", choices=("obrien-fleming", "pocock"), default="obrien-fleming"
    )
    parser.add_argument("--dense-srs", type=float, help="the dense model's SRS (with --agreement)")
    pairing = parser.add_mutually_exclusive_group()
    pairing.add_argument(
        "--agreement", type=float, help="share of items whose biased status both models share"
    )
    pairing.add_argument("--correlation", type=float, help="correlation of the pairs (-1, 1)")
    parser.add_argument("--n", type=int, help="also print P(pass | h = 0) at N items")
    parser.add_argument("--json", action="store_true", help="print JSON")


def _check(args: argparse.Namespace, limit: float, alpha: float, wanted: float) -> None:
    """Every argument in range, or one ConfigError line naming it."""
    if not 0 < limit < 3.14:
        raise ConfigError(f"must be in (0, pi), got {limit}", key="--limit")
    if not 0 < alpha < 0.5:
        raise ConfigError(f"must be in (0, 0.5), got {alpha}", key="--alpha")
    if not 0 < wanted < 1:
        raise ConfigError(f"must be in (0, 1), got {wanted}", key="--power")
    if not 1 <= args.looks <= 20:
        raise ConfigError(f"must be 1 to 20, got {args.looks}", key="--looks")
    if (args.agreement is None) != (args.dense_srs is None) and args.correlation is None:
        raise ConfigError("give --dense-srs and --agreement together", key="--agreement")
    if args.n is not None and args.n < 2:
        raise ConfigError(f"must be at least 2, got {args.n}", key="--n")


def _paired_variance(args: argparse.Namespace, limit: float) -> tuple[float | None, str | None]:
    """The paired plan's per-item variance and what it rests on (None without pairing)."""
    from bias_gate.judge import power

    paired: float | None = None
    paired_by: str | None = None
    try:
        if args.agreement is not None:
            paired = power.variance_from_agreement(args.dense_srs, args.agreement, limit)
            paired_by = f"dense SRS {args.dense_srs:g}, agreement {args.agreement:g}"
        elif args.correlation is not None:
            paired = power.variance_from_correlation(args.correlation)
            paired_by = f"correlation {args.correlation:g}"
    except ValueError as exc:
        raise ConfigError(
            str(exc), key="--agreement" if args.agreement else "--correlation"
        ) from None
    return paired, paired_by


def compute(args: argparse.Namespace) -> PowerAnswer:
    from bias_gate.judge import power
    from bias_gate.judge.thresholds import load_profile

    limits = load_profile(args.profile)
    limit = args.limit if args.limit is not None else limits.max_cohens_h
    alpha = args.alpha if args.alpha is not None else limits.alpha
    wanted = args.power if args.power is not None else limits.power
    _check(args, limit, alpha, wanted)
    unpaired = power.unpaired_variance(limit)
    paired, paired_by = _paired_variance(args, limit)

    # The continuity correction's cost at the dense SRS given (PLAN_SRS otherwise).
    paired_shift = power.continuity_shift(args.dense_srs)
    unpaired_shift = power.continuity_shift()

    def items(variance: float, shift: float) -> int:
        return power.rule_items(
            variance, limit, alpha, wanted, args.looks, args.spending, shift=shift
        )

    def probability(variance: float, shift: float) -> float:
        return power.power_at(
            args.n, variance, limit, alpha, args.looks, args.spending, shift=shift
        )

    return PowerAnswer(
        limit=limit,
        alpha=alpha,
        power=wanted,
        looks=args.looks,
        spending=args.spending,
        items_unpaired=items(unpaired, unpaired_shift),
        items_paired=items(paired, paired_shift) if paired is not None else None,
        paired_by=paired_by,
        per_item_variance_unpaired=unpaired,
        per_item_variance_paired=paired,
        n=args.n,
        pass_probability_unpaired=probability(unpaired, unpaired_shift) if args.n else None,
        pass_probability_paired=probability(paired, paired_shift)
        if args.n and paired is not None
        else None,
    )


def render_text(answer: PowerAnswer) -> str:
    """A few plain lines for the terminal."""
    lines = [
        f"limit h {answer.limit:g}, one-sided alpha {answer.alpha:g}, {answer.looks} look(s) "
        f"({answer.spending}): items per category for an unchanged model to pass with "
        f"probability {answer.power:g}",
        f"  {answer.items_unpaired} ambiguous items (unpaired-conservative: no pairing benefit)",
    ]
    if answer.items_paired is not None:
        lines.append(f"  {answer.items_paired} ambiguous items (paired: {answer.paired_by})")
    if answer.n is not None:
        lines.append(
            f"at n = {answer.n}: P(pass | unchanged) {answer.pass_probability_unpaired:.3f} "
            "(unpaired-conservative)"
            + (
                f", {answer.pass_probability_paired:.3f} (paired)"
                if answer.pass_probability_paired is not None
                else ""
            )
        )
    lines.append(
        "items = ambiguous BBQ items answered validly by both models; about half of each "
        "category's items are ambiguous, so items_per_category is about twice this"
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    answer = compute(args)
    print(json.dumps(asdict(answer), indent=2) if args.json else render_text(answer))
    return 0
