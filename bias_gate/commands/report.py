"""``bias-gate report RESULTS.json... [--merge] [--json OUT] [--html OUT] [--markdown OUT]
[--junit OUT] [--plots DIR] [--report NAME=PATH] [--step-summary] [--annotations]
[--previous OLD.json] [--github-outputs] [--comment OUT] [--flips CONFIG::CATEGORY]``:
render or merge results. Every report is written by its registered writer
(:data:`bias_gate.registry.REPORTS`), as in a gate run; ``--previous`` adds the trend
against an earlier run to the markdown and the HTML, ``--github-outputs`` and
``--comment`` are the pull-request surface (:mod:`bias_gate.report.github`), ``--flips``
prints one cell's flipped items (:mod:`bias_gate.report.flips`).

Several results files need ``--merge`` (shards of one run, joined with the run-wide
correction recomputed). Without any output option the markdown summary goes to stdout.
Exit status 0 when the reports were written (whatever the verdicts; the gate run itself
is what fails a build), 2 for unusable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from bias_gate.errors import BiasGateError
from bias_gate.report.staging import Staging, check_output, write_error
from bias_gate.results import GateResults, ItemResult

if TYPE_CHECKING:
    from bias_gate.report.trend import Trend

#: The shipped writers with an option of their own, in writing order.
OWN_OPTIONS = ("json", "junit", "markdown", "html", "plots")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results",
        nargs="+",
        type=Path,
        metavar="RESULTS.json",
        help="results JSON written by --bias-gate-json (several with --merge)",
    )
    parser.add_argument(
        "--merge", action="store_true", help="join shards of one run (configs must not repeat)"
    )
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
        "--step-summary",
        action="store_true",
        help="append the summary to $GITHUB_STEP_SUMMARY (GitHub Actions only: "
        "elsewhere a usage error)",
    )
    parser.add_argument(
        "--previous",
        type=Path,
        metavar="OLD.json",
        help="a previous release's results JSON: the markdown (and the step summary) and "
        "the HTML gain its h and verdict beside today's per config x category, worse ones "
        "flagged",
    )
    parser.add_argument(
        "--github-outputs",
        action="store_true",
        help="write the step outputs verdict, failed-configs, paradox-count and "
        "results-json to $GITHUB_OUTPUT (GitHub Actions only)",
    )
    parser.add_argument(
        "--comment",
        type=Path,
        metavar="OUT",
        help="write a compact markdown pull-request comment body at OUT",
    )
    parser.add_argument(
        "--flips",
        metavar="CONFIG::CATEGORY",
        help="print the items of one config x category that turned biased or lost their "
        "bias (from the side file RESULTS.flips.jsonl when it is this run's, else the "
        "results JSON's first 20 of each)",
    )
    parser.add_argument(
        "--annotations",
        action="store_true",
        help="print ::error annotations for failing configs (GitHub Actions only: "
        "elsewhere a usage error, like --step-summary and --github-outputs)",
    )


def _check_actions_only(args: argparse.Namespace, env: Mapping[str, str]) -> None:
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


def _read(path: Path, key: str | None = None) -> GateResults:
    try:
        return GateResults.read(path)
    except (FileNotFoundError, IsADirectoryError):
        raise BiasGateError("results file not found", file=path, key=key) from None
    except BiasGateError as exc:  # the schema's line: name the option it came through
        keys = [part for part in (key, exc.key) if part]
        key_text = " ".join(keys) or None
        raise BiasGateError(exc.message, file=exc.file, line=exc.line, key=key_text) from None
    except PermissionError:
        raise BiasGateError("results file cannot be read (permission denied)", file=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BiasGateError(f"not a results JSON file ({exc})", file=path, key=key) from None
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise BiasGateError(
            f"not a bias-gate results file ({type(exc).__name__}: {exc}); write one with "
            "pytest --bias-gate ... --bias-gate-json PATH",
            file=path,
            key=key,
        ) from None


def _load(args: argparse.Namespace) -> GateResults:
    shards = [_read(path) for path in args.results]
    if len(shards) == 1 and not args.merge:
        return shards[0]
    if not args.merge:
        raise BiasGateError(
            f"{len(shards)} results files given; pass --merge to join shards of one run, "
            "or report them one at a time"
        )
    from bias_gate.report.merge import merge_results

    return merge_results(shards, [str(path) for path in args.results])


def _results_json(args: argparse.Namespace) -> Path | None:
    """The results JSON the outputs point at: ``--json OUT`` when written, else the one
    input file of an unmerged report; None for a merge without ``--json``."""
    if args.json is not None:
        return args.json
    if len(args.results) == 1 and not args.merge:
        return args.results[0]
    return None


def _flips_cell(results: GateResults, cell: str) -> ItemResult:
    """The item named ``CONFIG::CATEGORY``; one usage line listing the cells if none."""
    items = {f"{item.config}::{item.category}": item for item in results.items()}
    item = items.get(cell)
    if item is None:
        raise BiasGateError(
            f"no cell {cell!r} in the results; the cells are: {', '.join(items) or 'none'}",
            key="--flips",
        )
    if item.flips is None:
        raise BiasGateError(
            f"{cell} has no flipped items recorded (results written before bias-gate "
            "recorded them); rerun the gate",
            key="--flips",
        )
    return item


def _print_flips(results: GateResults, item: ItemResult, args: argparse.Namespace) -> None:
    from bias_gate.metrics.flips import FLIP_LIMIT, side_file
    from bias_gate.report.flips import flips_text

    assert item.flips is not None
    inputs = ", ".join(map(str, args.results))
    if results.flips_file is not None:
        source = f"from {results.flips_file} (every flipped item)"
    elif item.flips.complete:
        source = f"from {inputs} (every flipped item is listed there)"
    else:
        expected = ", ".join(str(side_file(path)) for path in args.results)
        source = (
            f"from {inputs}: the first {FLIP_LIMIT} of each direction only ({expected} "
            "is missing or not the one this results file was written with)"
        )
    sys.stdout.write(f"flipped items of {item.config}::{item.category} {source}\n")
    sys.stdout.write(flips_text(item))


def _write_files(results: GateResults, files: list[tuple[str, Path]], trend: Trend | None) -> None:
    """Write every report of ``files`` (writer name or ``comment``, path), all or none
    (:class:`bias_gate.report.staging.Staging`)."""
    from bias_gate.registry import REPORTS

    with Staging() as staging:
        for name, target in files:
            staged = staging.path(target, f"--{name}")
            try:
                if name == "markdown" and trend is not None:
                    # The trend is a view of this command, not part of the results: the
                    # shipped markdown and HTML renderers draw it (decisions #33, #35).
                    from bias_gate.cache import atomic_write_text
                    from bias_gate.report.markdown import render_markdown

                    atomic_write_text(staged, render_markdown(results, trend))
                elif name == "html" and trend is not None:
                    from bias_gate.report.html import write_html

                    write_html(results, staged, trend)
                elif name == "comment":
                    from bias_gate.report.github import write_comment

                    write_comment(results, staged, os.environ, trend)
                else:
                    REPORTS.get(name)().write(results, staged)
            except OSError as exc:
                raise write_error(name, target, exc) from None
        try:
            staging.commit()
        except OSError as exc:
            raise write_error("staged", files[0][1], exc) from None
    for name, target in files:
        print(f"bias-gate: wrote {name}: {target}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Read (and merge) the results, write each requested report; returns 0, or 1 when
    the merged run is incomplete (shards missing: not a pass)."""
    from bias_gate.gate.options import parse_report

    requested = [(name, getattr(args, name)) for name in OWN_OPTIONS]
    try:
        requested += [parse_report(text) for text in args.report]
    except BiasGateError as exc:
        raise BiasGateError(exc.message, key="--report") from None
    _check_actions_only(args, os.environ)
    results = _load(args)
    flips_item = _flips_cell(results, args.flips) if args.flips is not None else None
    trend = None
    if args.previous is not None:
        from bias_gate.report.trend import compare, trend_line

        previous = _read(args.previous, key="--previous")
        trend = compare(results, previous, str(args.previous))
        print(f"bias-gate: {trend_line(trend)}", file=sys.stderr)
    files = [(name, target) for name, target in requested if target is not None]
    if args.comment is not None:
        files.append(("comment", args.comment))
    for name, target in files:
        check_output(target, f"--{name}", name)
    _write_files(results, files, trend)
    wrote = bool(files)
    try:
        if args.step_summary:
            from bias_gate.report.markdown import write_step_summary

            write_step_summary(results, os.environ, trend)
            wrote = True
        if args.github_outputs:
            from bias_gate.report.github import write_github_outputs

            write_github_outputs(results, _results_json(args), os.environ)
            wrote = True
    except OSError as exc:
        raise BiasGateError(f"cannot append to a GitHub Actions file ({exc})") from None
    if flips_item is not None:
        _print_flips(results, flips_item, args)
        wrote = True
    if args.annotations:
        from bias_gate.report.annotations import print_annotations

        print_annotations(results, os.environ)
        wrote = True
    if not wrote:
        from bias_gate.report.markdown import render_markdown

        sys.stdout.write(render_markdown(results, trend))
    missing = results.run.get("missing_shards") or []
    if missing:
        print(
            f"bias-gate: INCOMPLETE: shards {', '.join(map(str, missing))} missing; "
            "the reports were written but this run is not a pass",
            file=sys.stderr,
        )
        return 1
    return 0
