"""Write every output a gate run asked for (options override model.yaml's output:)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from bias_gate.results import GateResults

if TYPE_CHECKING:
    from bias_gate.config import GateSpec
    from bias_gate.gate.options import GateOptions


def _target(option: Path | None, configured: Path | None, stem: str, count: int) -> Path | None:
    if option is not None:
        if count <= 1:
            return option
        return option.with_name(f"{option.stem}-{stem}{option.suffix}")
    return configured


def write_outputs(
    results: GateResults, options: GateOptions, spec: GateSpec | None, count: int
) -> list[Path]:
    """Write JSON, standalone JUnit, markdown, HTML, plots, and the GitHub step summary
    when running in GitHub Actions. Returns the files written. (Annotations go to the
    terminal summary, where pytest does not capture them.)"""
    output = spec.output if spec is not None else None
    stem = Path(results.run.get("config_path", "model")).stem
    written: list[Path] = []

    json_path = _target(options.json_path, output.json_path if output else None, stem, count)
    if json_path is not None:
        results.write(json_path)
        written.append(json_path)
    junit = _target(options.junit, output.junit if output else None, stem, count)
    if junit is not None:
        from bias_gate.report.junit import write_junit

        write_junit(results, junit)
        written.append(junit)
    markdown = _target(options.markdown, output.markdown if output else None, stem, count)
    if markdown is not None:
        from bias_gate.report.markdown import render_markdown

        markdown.parent.mkdir(parents=True, exist_ok=True)
        markdown.write_text(render_markdown(results), encoding="utf-8")
        written.append(markdown)
    plots = _target(options.plots, output.plots if output else None, stem, count)
    if plots is not None:
        from bias_gate.report.plots import write_plots

        written.extend(write_plots(results, plots))
    html = _target(options.html, output.html if output else None, stem, count)
    if html is not None:
        from bias_gate.report.html import write_html

        write_html(results, html)
        written.append(html)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from bias_gate.report.markdown import write_step_summary

        write_step_summary(results)
    return written
