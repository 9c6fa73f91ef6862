"""The hooks of a bias-gate run, registered only when ``--bias-gate`` is given.

State lives on this plugin object, registered under one name and kept in
``config.stash``; every process (the xdist controller and each worker) has its own.
The controller hands each worker what it resolved that a worker must not resolve again
(the data directory) in xdist's ``workerinput``, never through the environment.
Workers compute; each item's results travel back to the controller on
``report.bias_gate`` in the results' own JSON (:meth:`GateRun.record`, which pytest's
report serialisation carries across xdist), and only the controller writes the summary
and the files. Each gate item's reports also carry its JUnit case names
(:mod:`bias_gate.gate.junitxml`) for pytest's ``--junitxml``.
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from bias_gate.config.validated import GateConfig, load_gate_config
from bias_gate.errors import BiasGateError
from bias_gate.gate import junitxml, progress_pytest
from bias_gate.gate.collector import ResultCollector
from bias_gate.gate.nodes import GateFile, GateItem
from bias_gate.gate.options import WORKER_DATA_DIR, GateOptions
from bias_gate.gate.progress import ProgressTracker, ProgressView, Snapshot
from bias_gate.gate.runner import GateRun
from bias_gate.report.outputs import check_outputs
from bias_gate.report.safe_text import safe_line
from bias_gate.results import GateResults

GATE_KEY = pytest.StashKey["GatePlugin"]()


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


class GatePlugin:
    """Wires the gate flow into pytest collection, items and reporting."""

    def __init__(self, config: pytest.Config, options: GateOptions, configs: list[GateConfig]):
        self.config = config
        self.options = options
        worker = _worker_index(config)
        # Live progress (bias_gate.gate.progress): sent from the running item, shown by
        # the controller; nothing under -q.
        self.current_item: pytest.Item | None = None
        quiet = config.get_verbosity() < 0
        # Snapshots at most every 0.5 s, or as often as the lines are asked for
        # (--bias-gate-progress-interval below that).
        gap = min(0.5, float(config.getoption("bias_gate_progress_interval")))
        self.progress = ProgressTracker(None if quiet else self._send_progress, min_gap=gap)
        self._view: ProgressView | None = None
        self.runs: dict[Path, GateRun] = {
            gate.spec.source_path.resolve(): GateRun(
                gate, options, worker, self._policy, progress=self.progress
            )
            for gate in configs
            if gate.spec.source_path is not None
        }
        self.collector = ResultCollector(options, list(self.runs.values()))

    def _policy(self, results: GateResults) -> None:
        """The user's policy: every ``pytest_bias_gate_results`` implementation."""
        self.config.hook.pytest_bias_gate_results(config=self.config, results=results)

    @classmethod
    def from_config(cls, config: pytest.Config) -> GatePlugin:
        """Validate options and every model.yaml now; raises BiasGateError on bad input."""
        options = GateOptions.from_pytest(config)
        configs = [load_gate_config(path, options.thresholds) for path in options.config_paths]
        plugin = cls(config, options, configs)
        for run in plugin.runs.values():
            run.check_baseline()
            check_outputs(options, run.spec, len(plugin.runs))
        config.stash[GATE_KEY] = plugin
        plugin._point_collection_at_configs()
        return plugin

    def _point_collection_at_configs(self) -> None:
        """``pytest --bias-gate m.yaml`` alone collects the gate; with paths, both."""
        paths = [str(path) for path in self.runs]
        if self.config.args_source == pytest.Config.ArgsSource.ARGS:
            self.config.args.extend(p for p in paths if p not in self.config.args)
        else:
            self.config.args[:] = paths

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist controller: give each worker the data directory resolved here."""
        data_dir = self.options.data_dir
        node.workerinput[WORKER_DATA_DIR] = str(data_dir) if data_dir is not None else ""

    # -- collection -------------------------------------------------------------------

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> Any:
        run = self.runs.get(file_path.resolve())
        if run is None:
            return None
        node = GateFile.from_parent(parent, path=file_path)
        node.run = run
        return node

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        from bias_gate.report.safe_text import safe_lines

        return safe_lines(line for run in self.runs.values() for line in run.header_lines())

    # -- running and reporting ----------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        self.current_item = item
        try:
            return (yield)
        finally:
            self.current_item = None

    def _send_progress(self, snapshot: Snapshot) -> None:
        if self.current_item is not None:
            progress_pytest.send(self.current_item, snapshot)

    def _show_progress(self, snapshot: Snapshot) -> None:
        if self._view is None:
            interval = self.config.getoption("bias_gate_progress_interval")
            self._view = progress_pytest.make_view(self.config, interval)
        if self._view is not None:
            self._view.show(snapshot)

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> tuple[str, str, str] | None:
        return progress_pytest.teststatus(report)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if isinstance(item, GateItem):
            attributes = junitxml.case_attributes(item.config_name, item.name)
            setattr(report, junitxml.REPORT_ATTRIBUTE, attributes)
        if isinstance(item, GateItem) and call.when == "call" and item.bias_gate_record:
            report.bias_gate = item.bias_gate_record  # type: ignore[attr-defined]
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        snapshot = progress_pytest.snapshot_of(report)
        if snapshot is not None:
            if not _is_worker(self.config):
                self._show_progress(snapshot)
            return
        if not _is_worker(self.config):
            junitxml.name_case(self.config, report)
        record = getattr(report, "bias_gate", None)
        if record is not None and not _is_worker(self.config):
            self.collector.add(record)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if _is_worker(self.config):
            return
        for run in self.runs.values():
            if run.cache.warning:
                terminalreporter.write_line(run.cache.warning)
        for line in self.collector.summary_lines():
            terminalreporter.write_line(line)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if _is_worker(self.config):
            return
        try:
            self.collector.write_outputs()
        except BiasGateError as exc:
            # The reports could not be written (none was): one line, and a failed run.
            line = safe_line(f"bias-gate: error: {exc}")
            reporter = self.config.pluginmanager.get_plugin("terminalreporter")
            if reporter is not None:
                reporter.write_line(line, red=True)
            else:
                print(line, file=sys.stderr)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Remove the temporary caches of runs whose cache could not be written."""
        for run in self.runs.values():
            run.cache.close(evict_weights=not _is_worker(config))


def _worker_index(config: pytest.Config) -> int | None:
    worker_id = getattr(config, "workerinput", {}).get("workerid", "")
    return int(worker_id[2:]) if worker_id.startswith("gw") else None
