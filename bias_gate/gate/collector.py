"""Gather item records on the controller into :class:`GateResults`, then report.

Records arrive in any order (xdist); results are laid out in model.yaml order, so a
parallel run writes the same JSON as a serial one.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from bias_gate.results import (
    ConfigResult,
    GateResults,
    ItemResult,
    config_from_json,
    dense_from_json,
    item_from_json,
)

if TYPE_CHECKING:
    from bias_gate.gate.options import GateOptions
    from bias_gate.gate.runner import GateRun


class ResultCollector:
    """Holds what the items reported, keyed by model.yaml path."""

    def __init__(self, options: GateOptions, runs: list[GateRun]):
        self.options = options
        self.runs = {str(run.spec.source_path): run for run in runs}
        self._records: dict[str, list[dict[str, Any]]] = {}
        self._final: list[GateResults] | None = None

    def add(self, record: dict[str, Any]) -> None:
        self._records.setdefault(record["config_path"], []).append(record)

    def results(self) -> list[GateResults]:
        """One :class:`GateResults` per model.yaml that reported anything."""
        out = []
        for path, records in self._records.items():
            run = self.runs.get(path)
            order = [c.name for c in run.spec.compressions] if run else []
            first = records[0]
            configs: dict[str, ConfigResult] = {}
            items: dict[str, dict[str, ItemResult]] = {}
            for record in records:
                name = record["config"]["name"]
                if name not in configs:
                    configs[name] = config_from_json(record["config"])
                if record["item"] is not None:
                    item = item_from_json(record["item"])
                    items.setdefault(name, {})[item.category] = item
            categories = run.spec.data.categories if run else []
            ordered = []
            for name in sorted(configs, key=lambda n: order.index(n) if n in order else 1 << 30):
                config = configs[name]
                by_category = items.get(name, {})
                config.items = [by_category[c] for c in categories if c in by_category] + [
                    by_category[c] for c in sorted(by_category) if c not in categories
                ]
                ordered.append(config)
            results = GateResults(
                model=first["model"],
                run=first["run"],
                dense=dense_from_json(first["dense"]),
                configs=ordered,
            )
            if run is not None:
                run.adjust_run_wide(results)
            out.append(results)
        return out

    def summary_lines(self) -> list[str]:
        """The terminal summary; in GitHub Actions also the error annotations, which must
        reach the real stdout (pytest captures print() during the session)."""
        from bias_gate.report.annotations import annotation_lines
        from bias_gate.report.terminal import summary_table

        lines: list[str] = []
        for results in self._final if self._final is not None else self.results():
            lines.extend(summary_table(results))
            if os.environ.get("GITHUB_ACTIONS") == "true":
                lines.extend(annotation_lines(results))
        return lines

    def write_outputs(self) -> None:
        from bias_gate.report.outputs import write_outputs

        self._final = all_results = self.results()  # the terminal summary reuses them
        for results in all_results:
            run = self.runs.get(results.run.get("config_path", ""))
            write_outputs(results, self.options, run.spec if run else None, len(all_results))
