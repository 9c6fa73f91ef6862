"""Report writers: one per report format, registered by name in the entry point group
``bias_gate.reports`` (:data:`bias_gate.registry.REPORTS`).

A writer is selected with ``--bias-gate-report NAME=PATH`` or ``output.reports`` in
model.yaml (the shipped ones also with their own options, ``--bias-gate-json`` and so
on). Each renderer is imported only when its writer writes, so listing or checking the
writers costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Protocol

from bias_gate.results import GateResults


class ReportWriter(Protocol):
    """Writes one report of a gate run's results; a class instantiated without
    arguments, registered as an entry point of ``bias_gate.reports``."""

    name: ClassVar[str]
    description: ClassVar[str]

    def write(self, results: GateResults, path: Path) -> list[Path]:
        """Write the report at ``path`` (a file, or a folder for several files);
        returns the files written."""
        ...


class JsonWriter:
    name: ClassVar[str] = "json"
    description: ClassVar[str] = "all results as JSON (docs/results.md)"

    def write(self, results: GateResults, path: Path) -> list[Path]:
        results.write(path)
        return [path]


class JunitWriter:
    name: ClassVar[str] = "junit"
    description: ClassVar[str] = "a standalone JUnit XML report"

    def write(self, results: GateResults, path: Path) -> list[Path]:
        from bias_gate.report.junit import write_junit

        return [write_junit(results, path)]


class MarkdownWriter:
    name: ClassVar[str] = "markdown"
    description: ClassVar[str] = "a markdown summary"

    def write(self, results: GateResults, path: Path) -> list[Path]:
        from bias_gate.cache import atomic_write_text
        from bias_gate.report.markdown import render_markdown

        atomic_write_text(path, render_markdown(results))
        return [path]


class PlotsWriter:
    name: ClassVar[str] = "plots"
    description: ClassVar[str] = "PNG plots in a folder"

    def write(self, results: GateResults, path: Path) -> list[Path]:
        from bias_gate.report.plots import write_plots

        return write_plots(results, path)


class HtmlWriter:
    name: ClassVar[str] = "html"
    description: ClassVar[str] = "a standalone HTML report"

    def write(self, results: GateResults, path: Path) -> list[Path]:
        from bias_gate.report.html import write_html

        return [write_html(results, path)]
