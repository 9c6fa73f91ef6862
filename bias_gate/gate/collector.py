"""Gather item records on the controller into :class:`GateResults`, then report.

A record is a :class:`GateResults` in its own JSON form (one config, holding the item
that sent it), so what crosses the xdist boundary is read back by the results' own
``from_json``, never rebuilt field by field here. Records arrive in any order (xdist);
results are laid out in model.yaml order, so a parallel run writes the same JSON as a
serial one.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bias_gate.results import ConfigResult, GateResults, ItemResult

if TYPE_CHECKING:
    from bias_gate.gate.options import GateOptions
    from bias_gate.gate.runner import GateRun


class ResultCollector:
    """Holds what the items reported (each the results of one config holding one item,
    as :meth:`GateRun.record` sends them), by model.yaml path."""

    def __init__(self, options: GateOptions, runs: list[GateRun]):
        self.options = options
        self.runs = {str(run.spec.source_path): run for run in runs}
        self._parts: dict[str, list[GateResults]] = {}
        self._final: list[GateResults] | None = None

    def add(self, record: dict[str, Any]) -> None:
        """One item's record: the results' own JSON (:meth:`GateResults.from_json`)."""
        part = GateResults.from_json(record)
        self._parts.setdefault(part.run["config_path"], []).append(part)

    def results(self) -> list[GateResults]:
        """One :class:`GateResults` per model.yaml that reported anything: its configs in
        model.yaml order, each config's items in ``data.categories`` order, and every
        item's ``p_adjusted_run`` over the run (:func:`bias_gate.judge.item_results.adjust`)."""
        out = []
        for path, parts in self._parts.items():
            run = self.runs.get(path)
            order = [c.name for c in run.spec.compressions] if run else []
            categories = run.spec.data.categories if run else []
            configs: dict[str, ConfigResult] = {}
            items: dict[str, dict[str, ItemResult]] = {}
            for part in parts:
                for config in part.configs:
                    configs.setdefault(config.name, config)
                    for item in config.items:
                        items.setdefault(config.name, {})[item.category] = item
            ordered = []
            for name in sorted(configs, key=lambda n: order.index(n) if n in order else 1 << 30):
                by_category = items.get(name, {})
                ordered.append(
                    replace(
                        configs[name],
                        items=[by_category[c] for c in categories if c in by_category]
                        + [by_category[c] for c in sorted(by_category) if c not in categories],
                    )
                )
            results = replace(parts[0], configs=ordered)
            if run is not None:
                from bias_gate.judge.item_results import adjust  # scipy: not at configure time

                adjust(results.items(), run.thresholds.base.correction, "p_adjusted_run")
            out.append(results)
        return out

    def summary_lines(self) -> list[str]:
        """The terminal summary; in GitHub Actions also the error annotations, which must
        reach the real stdout (pytest captures print() during the session). Each line is
        safe to print (:mod:`bias_gate.report.safe_text`): only the gate's own
        annotations start with ``::``."""
        from bias_gate.report.annotations import annotation_lines
        from bias_gate.report.safe_text import command_line, safe_lines
        from bias_gate.report.terminal import summary_table

        lines: list[str] = []
        for results in self._final if self._final is not None else self.results():
            lines.extend(safe_lines(summary_table(results)))
            if os.environ.get("GITHUB_ACTIONS") == "true":
                lines.extend(command_line(line) for line in annotation_lines(results))
        return lines

    def write_outputs(self) -> None:
        from bias_gate.report.outputs import write_outputs

        self._final = all_results = self.results()  # the terminal summary reuses them
        for results in all_results:
            run = self.runs.get(results.run.get("config_path", ""))
            write_outputs(results, self.options, run.spec if run else None, len(all_results))
