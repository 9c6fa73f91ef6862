"""``bias-gate report``'s command line: its options, and the GitHub Actions outputs
refused outside a GitHub Actions step."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

from bias_gate.errors import BiasGateError

#: The shipped writers with an option of their own, in writing order.
OWN_OPTIONS = ("json", "junit", "markdown", "html", "plots")


def configure(parser: argparse.ArgumentParser) -> None:
    """The inputs, the report files, then the GitHub Actions outputs and the views."""
    parser.add_argument(
        "results",
        nargs="+",
        type=Path,
        metavar="RESULTS.json",
        help="results JSON written by --bias-gate-json or bias-gate compare --json (several "
        "with --merge)",
    )
    parser.add_argument(
        "--merge", action="store_true", help="join shards of one run (configs must not repeat)"
    )
    _add_files(parser)
    _add_github(parser)
    _add_views(parser)


def _add_files(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the (merged) results JSON")
    parser.add_argument("--html", type=Path, metavar="OUT", help="write the HTML report")
    parser.add_argument("--markdown", type=Path, metavar="OUT", help="write the markdown summary")
    parser.add_argument("--junit", type=Path, metavar="OUT", help="write standalone JUnit XML")
    parser.add_argument("--plots", type=Path, metavar="DIR", help="write PNG plots into DIR")
    parser.add_argument(
        "--report",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="write the report of writer NAME (also one registered in the entry point "
        "group bias_gate.reports) at PATH (repeatable)",
    )
    parser.add_argument(
        "--comment",
        type=Path,
        metavar="OUT",
        help="write a compact markdown pull-request comment body at OUT",
    )


def _add_github(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--step-summary",
        action="store_true",
        help="append the summary to $GITHUB_STEP_SUMMARY (GitHub Actions only: "
        "elsewhere a usage error)",
    )
    parser.add_argument(
        "--github-outputs",
        action="store_true",
        help="write the step outputs verdict, failed-configs, paradox-count and "
        "results-json to $GITHUB_OUTPUT (GitHub Actions only)",
    )
    parser.add_argument(
        "--annotations",
        action="store_true",
        help="print ::error annotations for failing configs (GitHub Actions only: "
        "elsewhere a usage error, like --step-summary and --github-outputs)",
    )


def _add_views(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--previous",
        type=Path,
        metavar="OLD.json",
        help="a previous release's results JSON: the markdown (and the step summary) and "
        "the HTML gain its h and verdict beside today's per config x category, worse ones "
        "flagged",
    )
    parser.add_argument(
        "--flips",
        metavar="CONFIG::CATEGORY",
        help="print the items of one config x category that turned biased or lost their "
        "bias (from the side file RESULTS.flips.jsonl when it is this run's, else the "
        "results JSON's first 20 of each)",
    )


def check_actions_only(args: argparse.Namespace, env: Mapping[str, str]) -> None:
    """The GitHub Actions outputs, asked for outside a GitHub Actions step, are one usage
    error each way (exit 2), never silently nothing (docs/decisions.md #65)."""
    in_actions = env.get("GITHUB_ACTIONS") == "true"
    # Each needs what it writes to; the summary and the annotations (which GitHub reads
    # from a step's output) also need GITHUB_ACTIONS, as the plugin does.
    needs = [
        ("--github-outputs", args.github_outputs, "GITHUB_OUTPUT", False),
        ("--step-summary", args.step_summary, "GITHUB_STEP_SUMMARY", True),
        ("--annotations", args.annotations, None, True),
    ]
    for flag, asked, variable, actions in needs:
        if not asked:
            continue
        if variable is not None and not env.get(variable):
            raise BiasGateError(
                f"${variable} is not set (it is only inside a GitHub Actions step); leave "
                "the flag out elsewhere",
                key=flag,
            )
        if actions and not in_actions:
            raise BiasGateError(
                "GITHUB_ACTIONS is not 'true' (this output is read only inside a GitHub "
                "Actions step); leave the flag out elsewhere",
                key=flag,
            )
