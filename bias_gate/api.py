"""bias-gate's public API: what an extension or a script imports, from one place.

Everything in ``__all__`` is stable across minor releases; anything else under
``bias_gate`` is internal and may move (docs/architecture.md says where things live).
Extensions import from here only (docs/extending.md):

- the five extension protocols and the registries that hold them: :class:`Benchmark`
  (base :class:`BBQFormat`), :class:`GatedMetric`, :class:`ScoringMode`,
  :class:`ReportWriter`, :class:`Compressor`;
- what they read and return: :class:`BBQItem`, :class:`Answer`, :class:`ModeContext`,
  :class:`Variant` / :class:`VariantScore`, :class:`PairedValues` / :class:`LookStats` /
  :class:`MetricSummary`, :class:`CompressorOptions` / :class:`CompressionContext` /
  :class:`CompressionResult`;
- the results: :class:`GateResults` and its parts (:class:`ConfigResult`,
  :class:`ItemResult`, :class:`DenseResult`, :class:`Verdict`);
- the shipped extensions to build on: the metrics :class:`SRS` and :class:`ExpectedSRS`,
  the benchmark :class:`BBQ`, the scoring modes :class:`Letter`, :class:`Permuted`,
  :class:`Continuation` and :class:`Generate`, and the prompt helpers.

Importing this module imports no torch (checked by tests/unit/test_api.py). The four
shipped scoring modes and :class:`PrefixScorer` run the model, so they load torch: they
are imported on first use of their name (``from bias_gate.api import Continuation``
does, ``import bias_gate.api`` does not).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from bias_gate.answer.context import ModeContext, ScoringMode
from bias_gate.answer.prompts import continuation_separator, encode, prompt_text
from bias_gate.answer.types import Answer
from bias_gate.answer.variants import Variant, VariantScore
from bias_gate.compress.base import (
    CompressionContext,
    CompressionResult,
    Compressor,
    CompressorOptions,
)
from bias_gate.data.benchmarks import BBQ, BBQFormat, Benchmark
from bias_gate.data.items import BBQItem
from bias_gate.errors import BiasGateError, ConfigError, DataError
from bias_gate.metrics.gated import (
    SRS,
    ExpectedSRS,
    GatedMetric,
    LookStats,
    MetricSummary,
    PairedValues,
)
from bias_gate.registry import (
    BENCHMARKS,
    COMPRESSORS,
    METRICS,
    REPORTS,
    SCORING_MODES,
    RegistrationError,
    Registry,
    UnknownName,
)
from bias_gate.report.writers import ReportWriter
from bias_gate.results import ConfigResult, DenseResult, GateResults, ItemResult, Verdict

if TYPE_CHECKING:
    from bias_gate.answer.modes import Continuation, Generate, Letter, Permuted
    from bias_gate.answer.scorer import PrefixScorer

#: Public names that load torch, imported on first use: name -> module.
_LAZY = {
    "Continuation": "bias_gate.answer.modes",
    "Generate": "bias_gate.answer.modes",
    "Letter": "bias_gate.answer.modes",
    "Permuted": "bias_gate.answer.modes",
    "PrefixScorer": "bias_gate.answer.scorer",
}


def __getattr__(name: str) -> Any:
    """The torch-bound public names, imported when first asked for (PEP 562)."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BBQ",
    "BENCHMARKS",
    "COMPRESSORS",
    "METRICS",
    "REPORTS",
    "SCORING_MODES",
    "SRS",
    "Answer",
    "BBQFormat",
    "BBQItem",
    "Benchmark",
    "BiasGateError",
    "CompressionContext",
    "CompressionResult",
    "Compressor",
    "CompressorOptions",
    "ConfigError",
    "ConfigResult",
    "Continuation",
    "DataError",
    "DenseResult",
    "ExpectedSRS",
    "GateResults",
    "GatedMetric",
    "Generate",
    "ItemResult",
    "Letter",
    "LookStats",
    "MetricSummary",
    "ModeContext",
    "PairedValues",
    "Permuted",
    "PrefixScorer",
    "RegistrationError",
    "Registry",
    "ReportWriter",
    "ScoringMode",
    "UnknownName",
    "Variant",
    "VariantScore",
    "Verdict",
    "continuation_separator",
    "encode",
    "prompt_text",
]
