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
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bias_gate.commands.report_args import OWN_OPTIONS, check_actions_only, configure
from bias_gate.commands.report_read import (
    flips_cell,
    load,
    print_flips,
    read_results,
    results_json,
)
from bias_gate.errors import BiasGateError
from bias_gate.report.staging import Staging, check_output, write_error
from bias_gate.results import GateResults

if TYPE_CHECKING:
    from bias_gate.report.trend import Trend

__all__ = ["configure", "run"]


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


def _requested(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """(writer name or ``comment``, path) of every report file asked for, checked."""
    from bias_gate.gate.options import parse_report

    requested = [(name, getattr(args, name)) for name in OWN_OPTIONS]
    try:
        requested += [parse_report(text) for text in args.report]
    except BiasGateError as exc:
        raise BiasGateError(exc.message, key="--report") from None
    files = [(name, target) for name, target in requested if target is not None]
    if args.comment is not None:
        files.append(("comment", args.comment))
    return files


def _trend(results: GateResults, args: argparse.Namespace) -> Trend | None:
    """The trend against ``--previous``, announced on stderr; None without it."""
    if args.previous is None:
        return None
    from bias_gate.report.trend import compare, trend_line

    previous = read_results(args.previous, key="--previous")
    trend = compare(results, previous, str(args.previous))
    print(f"bias-gate: {trend_line(trend)}", file=sys.stderr)
    return trend


def _github(results: GateResults, args: argparse.Namespace, trend: Trend | None) -> bool:
    """The step summary, the step outputs and the annotations asked for; whether any."""
    try:
        if args.step_summary:
            from bias_gate.report.markdown import write_step_summary

            write_step_summary(results, os.environ, trend)
        if args.github_outputs:
            from bias_gate.report.github import write_github_outputs

            write_github_outputs(results, results_json(args), os.environ)
    except OSError as exc:
        raise BiasGateError(f"cannot append to a GitHub Actions file ({exc})") from None
    if args.annotations:
        from bias_gate.report.annotations import print_annotations

        print_annotations(results, os.environ)
    return bool(args.step_summary or args.github_outputs or args.annotations)


def run(args: argparse.Namespace) -> int:
    """Read (and merge) the results, write each requested report; returns 0, or 1 when
    the merged run is incomplete (shards missing: not a pass)."""
    files = _requested(args)
    check_actions_only(args, os.environ)
    results = load(args)
    flips_item = flips_cell(results, args.flips) if args.flips is not None else None
    trend = _trend(results, args)
    for name, target in files:
        check_output(target, f"--{name}", name)
    _write_files(results, files, trend)
    wrote = _github(results, args, trend) or bool(files)
    if flips_item is not None:
        print_flips(results, flips_item, args)
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
