"""A computed compression config: what its measurements were (:class:`Measured`), and
its :class:`~bias_gate.results.ConfigResult` built from them (:func:`config_result`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bias_gate.config.schema import GateSpec, Runtime
from bias_gate.models.runtimes import LLAMA_CPP
from bias_gate.results import ConfigResult, ItemResult, Verdict

if TYPE_CHECKING:
    from bias_gate.compress.measure import CompressionReport
    from bias_gate.llama.agreement import Agreement


@dataclass
class ConfigOutcome:
    """A computed compression config."""

    result: ConfigResult
    by_category: dict[str, ItemResult] = field(default_factory=dict)

    def item(self, category: str) -> ItemResult:
        return self.by_category[category]


@dataclass(frozen=True)
class Measured:
    """What one config's compressed model gave, once the model is released: the
    compression's report, its perplexity (and ratio and verdict against the dense one),
    its item results, and the torch/llama.cpp agreement when measured."""

    report: CompressionReport
    perplexity: float | None
    ratio: float | None
    ppl_verdict: Verdict | None
    items: list[ItemResult]
    agreement: Agreement | None


def storage(report: CompressionReport) -> dict[str, int | None]:
    """The sizes a config's result shows: the plain and bitmask saves, and the real size
    of the file that ships when the method wrote one (``artifact_bytes``)."""
    sizes = {"dense_bytes": report.dense_bytes, "sparse_bytes": report.sparse_bytes}
    if report.artifact_bytes is not None:
        sizes["artifact_bytes"] = report.artifact_bytes
    return sizes


def config_result(
    spec: GateSpec,
    name: str,
    runtime: Runtime,
    dense_perplexity: float | None,
    measured: Measured,
    seconds: float,
) -> ConfigResult:
    """Config ``name``'s result: its settings from ``spec``, its measurements, and notes
    (the compression's, the agreement's, how long it took)."""
    report, verdict, agreement = measured.report, measured.ppl_verdict, measured.agreement
    compression = spec.compression(name)
    return ConfigResult(
        name=name,
        method=compression.method,
        options=dict(compression.options),
        line=spec.line_of_compression(name),
        target_sparsity=report.target_sparsity,
        achieved_sparsity=report.achieved_sparsity,
        compress_seconds=report.compress_seconds,
        storage=storage(report),
        latency_ms={
            "dense": report.latency_dense_ms,
            "compressed": report.latency_compressed_ms,
        },
        perplexity=measured.perplexity,
        perplexity_ratio=measured.ratio,
        perplexity_verdict=verdict.status if verdict else None,
        perplexity_reasons=verdict.reasons if verdict else [],
        perplexity_reason_category=verdict.category if verdict else None,
        notes=[
            *report.notes,
            *([agreement.note()] if agreement is not None else []),
            f"computed in {seconds:.1f}s" + (" in llama.cpp" if runtime == LLAMA_CPP else ""),
        ],
        items=measured.items,
        runtime=runtime,
        dense_perplexity=dense_perplexity,
        agreement=agreement.to_dict() if agreement is not None else None,
    )
