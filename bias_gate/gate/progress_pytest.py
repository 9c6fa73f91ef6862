"""Live progress through pytest: snapshots travel as reports of the running item, and the
controller's terminal reporter shows them (:mod:`bias_gate.gate.progress`).

A snapshot is sent with ``item.ihook.pytest_runtest_logreport`` on a
:class:`pytest.TestReport` whose ``when`` is :data:`~bias_gate.gate.progress.REPORT_WHEN`:
in one process the hook reaches :class:`~bias_gate.gate.hooks.GatePlugin` at once; on an
xdist worker, xdist serialises it (the snapshot is JSON) and the controller calls the same
hook, so workers report through the controller. :func:`teststatus` gives these reports no
outcome letter, so the terminal, JUnit and ``--lf`` pass over them.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest

from bias_gate.gate.progress import REPORT_ATTRIBUTE, REPORT_WHEN, ProgressView, Snapshot


def send(item: pytest.Item, snapshot: Snapshot) -> None:
    """Report ``snapshot`` as a progress report of the running ``item``."""
    report = pytest.TestReport(
        nodeid=item.nodeid,
        location=item.location,
        keywords={},
        outcome="passed",
        longrepr=None,
        when=REPORT_WHEN,  # type: ignore[arg-type]
    )
    setattr(report, REPORT_ATTRIBUTE, snapshot.to_json())
    item.ihook.pytest_runtest_logreport(report=report)


def snapshot_of(report: Any) -> Snapshot | None:
    """The snapshot a progress report carries; ``None`` for any other report."""
    if getattr(report, "when", None) != REPORT_WHEN:
        return None
    data = getattr(report, REPORT_ATTRIBUTE, None)
    return Snapshot.from_json(data) if isinstance(data, dict) else None


def teststatus(report: Any) -> tuple[str, str, str] | None:
    """``pytest_report_teststatus`` of a progress report: no category, letter or word."""
    return ("", "", "") if getattr(report, "when", None) == REPORT_WHEN else None


class PytestTerminal:
    """The terminal reporter as the view's :class:`~bias_gate.gate.progress.Terminal`,
    writing past pytest's output capture (a snapshot may arrive while an item runs).
    A line pytest has begun (a file's dots; under xdist the dots alone) is ended first;
    on a terminal, our own progress line is overwritten in place."""

    def __init__(self, config: pytest.Config, reporter: Any):
        self.reporter = reporter
        self.capture = config.pluginmanager.get_plugin("capturemanager")
        self.own_width: int | None = None  # the width of our open progress line

    def _uncaptured(self) -> Any:
        if self.capture is None:
            return nullcontext()
        return self.capture.global_and_fixture_disabled()

    def _width(self) -> int:
        return int(getattr(self.reporter._tw, "width_of_current_line", 0))

    def _start(self) -> None:
        """End pytest's line, if it began one, so ours starts at the left margin."""
        self.reporter.ensure_newline()
        width = self._width()
        if width and width != self.own_width:
            self.reporter.write("\n")

    def rewrite(self, text: str) -> None:
        with self._uncaptured():
            self._start()
            self.reporter.rewrite(text, erase=True)
            self.reporter.flush()
            self.own_width = self._width()

    def line(self, text: str) -> None:
        with self._uncaptured():
            self._start()
            if self.own_width is not None:
                self.reporter.rewrite(text, erase=True)
                self.reporter.write("\n", flush=True)
            else:
                self.reporter.write_line(text)
                self.reporter.flush()
            self.own_width = None


def make_view(config: pytest.Config, interval: float) -> ProgressView | None:
    """The controller's view, or ``None`` under ``-q`` or without a terminal reporter."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None or config.get_verbosity() < 0:
        return None
    return ProgressView(PytestTerminal(config, reporter), bool(reporter.isatty), interval)
