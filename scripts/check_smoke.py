"""The CI demo gate's success criterion: the gate ran to its verdicts, and no check FAILed
for lack of data.

    python scripts/check_smoke.py reports/results.json --allow-fail perplexity

Prints every check that did not pass, reason category first. Exits 1 when a FAIL's
reason category is ``too few items`` (not enough evidence is not evidence of failure:
the gate must say INCONCLUSIVE), has none, or is not one of ``--allow-fail`` (the demo's
pruned configs fail perplexity by design, README "Two commands": a FAIL of another kind
is news the job must not hide); 0 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bias_gate.report.reasons import reason_rows
from bias_gate.results import TOO_FEW_ITEMS, GateResults


def problems(results: GateResults, allowed: Sequence[str]) -> list[str]:
    """Why the run does not meet the criterion (empty when it does)."""
    out = []
    for row in reason_rows(results):
        if row.status != "fail":
            continue
        name = f"{row.config}::{row.check}"
        if row.reason == TOO_FEW_ITEMS:
            out.append(f"{name} FAILed for lack of data ({row.reason}): {row.text}")
        elif row.reason not in allowed:
            out.append(
                f"{name} FAILed on {row.reason!r}, not an expected kind ({', '.join(allowed)})"
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the gate's results JSON")
    parser.add_argument(
        "--allow-fail",
        action="append",
        default=[],
        metavar="CATEGORY",
        help="a reason category whose FAILs are expected (repeatable)",
    )
    args = parser.parse_args(argv)
    results = GateResults.read(args.results)
    for row in reason_rows(results):
        print(f"{row.status.upper():<5} {row.reason:<28} {row.config}::{row.check}")
    found = problems(results, args.allow_fail)
    for problem in found:
        print(f"check_smoke: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
