"""The registries of bias-gate's extension points, one per kind (see docs/extending.md).

===================  ==========================  =========================================
registry             entry point group           protocol
===================  ==========================  =========================================
:data:`BENCHMARKS`   ``bias_gate.benchmarks``    :class:`bias_gate.benchmarks.Benchmark`
:data:`METRICS`      ``bias_gate.metrics``       :class:`bias_gate.gated_metrics.GatedMetric`
:data:`SCORING_MODES` ``bias_gate.scoring_modes`` :class:`bias_gate.answer.context.ScoringMode`
:data:`REPORTS`      ``bias_gate.reports``       :class:`bias_gate.report.writers.ReportWriter`
:data:`COMPRESSORS`  ``bias_gate.compressors``   :class:`bias_gate.compress.base.Compressor`
===================  ==========================  =========================================

This module imports nothing heavy: listing names reads entry point metadata only, so
model.yaml's names are checked without torch. Compressors carry no ``name`` (a method is
known by the name it is registered under), so theirs is the protocol check alone.
"""

from __future__ import annotations

from typing import Any

from bias_gate.registry import Registry


def _named(name: str, extension: Any) -> str | None:
    """An extension's ``name`` must be the name it is registered under (it is what the
    results and reports record)."""
    own = getattr(extension, "name", None)
    return None if own == name else f"its name is {own!r}, registered as {name!r}"


BENCHMARKS = Registry(
    "bias_gate.benchmarks", "benchmark", "bias_gate.benchmarks:Benchmark", check=_named
)
METRICS = Registry(
    "bias_gate.metrics", "gated metric", "bias_gate.gated_metrics:GatedMetric", check=_named
)
SCORING_MODES = Registry(
    "bias_gate.scoring_modes",
    "scoring mode",
    "bias_gate.answer.context:ScoringMode",
    check=_named,
)
REPORTS = Registry(
    "bias_gate.reports", "report writer", "bias_gate.report.writers:ReportWriter", check=_named
)
COMPRESSORS = Registry(
    "bias_gate.compressors", "compression method", "bias_gate.compress.base:Compressor"
)
