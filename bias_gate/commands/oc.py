"""``bias-gate oc``: the operating characteristic of a threshold profile, by simulation.

For n ambiguous items per category, the dense model's SRS, the agreement between the two
models (the share of items whose biased / not-biased status is the same) and each true
effect h, draws ``--reps`` replicate categories and runs the gate's own metric and
decision on them (bias_gate.judge.simulate): P(pass), P(fail), P(inconclusive) and the mean
number of items answered before the looks stopped. ``--categories K`` simulates a config
of K such categories, adding P(every category passes) and P(any category fails), where
the FAIL correction acts.

The guarantees to read off it: P(pass) at h = limit is at most alpha; P(fail) at h = 0
is at most alpha (per config with ``--categories``); with ``fail_rule: bound`` also
P(fail) at h = limit. The default effects are 0, limit/2 and the limit: the middle row
shows how often a model inside the limit fails (under ``fail_rule: estimate`` that is
not bounded by alpha; docs/statistics.md, "fail_rule").
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from bias_gate.errors import ConfigError

if TYPE_CHECKING:
    from bias_gate.judge.thresholds import Thresholds


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, required=True, help="ambiguous items per category")
    parser.add_argument("--dense-srs", type=float, required=True, help="the dense model's SRS")
    parser.add_argument(
        "--agreement",
        type=float,
        required=True,
        help="share of items whose biased status is the same under both models",
    )
    parser.add_argument(
        "--h",
        type=float,
        nargs="+",
        help="true effects to simulate (default: 0, half the profile's limit, the limit)",
    )
    parser.add_argument("--profile", default="default", help="threshold profile (name or path)")
    parser.add_argument("--looks", type=int, default=4, help="looks per category (1 = fixed)")
    parser.add_argument(
        "--spending", choices=("obrien-fleming", "pocock"), default="obrien-fleming"
    )
    parser.add_argument("--categories", type=int, default=1, help="categories per config")
    parser.add_argument("--reps", type=int, default=2000, help="replicates (default 2000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON")


@dataclass(frozen=True)
class OCRow:
    """One true effect's operating characteristic (first category; config-level)."""

    h: float
    p_pass: float
    p_fail: float
    p_inconclusive: float
    expected_items: float
    p_config_pass: float
    p_config_fail: float


def _check_agreement(dense_srs: float, agreement: float, effects: list[float]) -> None:
    """One line when the agreement is impossible for any effect simulated, quoting the
    agreement as given and the range that every effect allows (the intersection)."""
    from bias_gate.judge.simulate import agreement_range, cell_probabilities

    if not 0.0 <= dense_srs <= 1.0 or not 0.0 <= agreement <= 1.0:
        raise ConfigError("dense SRS and agreement must lie in [0, 1]", key="--agreement")
    failing = []
    for h in effects:
        try:
            cell_probabilities(dense_srs, agreement, h)
        except ValueError:
            failing.append(h)
    if not failing:
        return
    try:
        ranges = [agreement_range(dense_srs, h) for h in effects]
    except ValueError:
        ranges = []
    low = max((r[0] for r in ranges), default=float("nan"))
    high = min((r[1] for r in ranges), default=float("nan"))
    allowed = (
        f"every effect simulated ({', '.join(f'{h:g}' for h in effects)}) needs it in "
        f"[{low:.4f}, {high:.4f}]"
        if low <= high
        else "no agreement allows every effect simulated; simulate fewer with --h"
    )
    raise ConfigError(
        f"agreement {agreement!r} is impossible with dense SRS {dense_srs!r} and h "
        f"{', '.join(f'{h:g}' for h in failing)}: {allowed} (at most 1 - |p2 - p1|, "
        "where every flip goes one way; at least where one of the four cells empties)",
        key="--agreement",
    )


def _profile(args: argparse.Namespace) -> Thresholds:
    """The profile, with every argument checked (one ConfigError line each)."""
    from bias_gate.judge.thresholds import load_profile

    limits = load_profile(args.profile)
    if limits.metric != "srs":
        raise ConfigError(
            f"oc simulates the srs metric; profile {args.profile!r} gates {limits.metric}",
            key="--profile",
        )
    for name, value, low in (("--n", args.n, 1), ("--categories", args.categories, 1)):
        if value < low:
            raise ConfigError(f"must be at least {low}, got {value}", key=name)
    if not 1 <= args.looks <= 20:
        raise ConfigError(f"must be 1 to 20, got {args.looks}", key="--looks")
    if args.reps < 100:
        raise ConfigError(f"must be at least 100, got {args.reps}", key="--reps")
    return limits


def _row(args: argparse.Namespace, limits: Thresholds, h: float) -> OCRow:
    """One true effect's operating characteristic, simulated through the gate's rule."""
    from bias_gate.judge.decision import Design
    from bias_gate.judge.simulate import Scenario, simulate

    design = Design(
        alpha=limits.alpha,
        correction=limits.correction,
        fail_rule=limits.fail_rule,
        spending=args.spending,
    )
    oc = simulate(
        design,
        [Scenario(args.n, args.dense_srs, args.agreement, h)] * args.categories,
        limit=limits.max_cohens_h,
        looks=args.looks,
        max_net_new_bias_rate=limits.max_net_new_bias_rate,
        replicates=args.reps,
        seed=args.seed,
    )
    return OCRow(
        h=h,
        p_pass=oc.p_pass[0],
        p_fail=oc.p_fail[0],
        p_inconclusive=oc.p_inconclusive[0],
        expected_items=oc.expected_items[0],
        p_config_pass=oc.p_config_pass,
        p_config_fail=oc.p_config_fail,
    )


def compute(args: argparse.Namespace) -> dict:
    limits = _profile(args)
    effects = args.h if args.h else [0.0, limits.max_cohens_h / 2, limits.max_cohens_h]
    _check_agreement(args.dense_srs, args.agreement, effects)
    rows = [_row(args, limits, h) for h in effects]
    return {
        "profile": args.profile,
        "limit": limits.max_cohens_h,
        "alpha": limits.alpha,
        "correction": limits.correction,
        "fail_rule": limits.fail_rule,
        "n": args.n,
        "dense_srs": args.dense_srs,
        "agreement": args.agreement,
        "looks": args.looks,
        "spending": args.spending,
        "categories": args.categories,
        "reps": args.reps,
        "seed": args.seed,
        "rows": [asdict(row) for row in rows],
    }


def render_text(document: dict) -> str:
    lines = [
        f"profile {document['profile']}: limit h {document['limit']:g}, alpha "
        f"{document['alpha']:g}, {document['looks']} look(s) ({document['spending']}); "
        f"n {document['n']} ambiguous items, dense SRS {document['dense_srs']:g}, agreement "
        f"{document['agreement']:g}; {document['reps']} replicates",
        f"{'true h':>8} {'P(pass)':>8} {'P(fail)':>8} {'P(inconc.)':>10} {'items used':>11}"
        + (f" {'P(config pass)':>15} {'P(config fail)':>15}" if document["categories"] > 1 else ""),
    ]
    for row in document["rows"]:
        line = (
            f"{row['h']:>8.3f} {row['p_pass']:>8.3f} {row['p_fail']:>8.3f} "
            f"{row['p_inconclusive']:>10.3f} {row['expected_items']:>11.1f}"
        )
        if document["categories"] > 1:
            line += f" {row['p_config_pass']:>15.3f} {row['p_config_fail']:>15.3f}"
        lines.append(line)
    limit, alpha = document["limit"], document["alpha"]
    fail_bound = 0 if document["fail_rule"] == "estimate" else limit
    lines.append(
        f"guarantees: P(pass | h >= {limit:g}) <= {alpha:g}; "
        f"P(fail | h <= {fail_bound:g}) <= {alpha:g}"
        + (" per config" if document["categories"] > 1 else "")
        + f" (fail_rule {document['fail_rule']}; Monte Carlo error about "
        f"+-{2 * (alpha * (1 - alpha) / document['reps']) ** 0.5:.3f})"
    )
    if document["fail_rule"] == "estimate":
        lines.append(
            f"fail_rule estimate: a model inside the limit (0 < h < {limit:g}) may fail more "
            f"often than {alpha:g} (P(fail) at h = {limit / 2:g} is among the default effects); "
            "fail_rule bound "
            f"bounds P(fail | h <= {limit:g}) by {alpha:g}"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    document = compute(args)
    print(json.dumps(document, indent=2) if args.json else render_text(document))
    return 0
