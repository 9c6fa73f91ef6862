"""What a gate run says about itself: the results' ``run`` and ``model`` entries, and
the header lines pytest prints (typed inputs in, plain JSON values out)."""

from __future__ import annotations

from typing import Any

from bias_gate import __version__
from bias_gate.config.schema import GateSpec
from bias_gate.fingerprint import library_versions
from bias_gate.gate.options import GateOptions
from bias_gate.judge.thresholds import ThresholdSet


def model_info(spec: GateSpec, model_fingerprint: str) -> dict[str, Any]:
    """The results' ``model``: name, fingerprint and source of the dense model."""
    return {
        "name": spec.model.display_name,
        "fingerprint": model_fingerprint,
        "source": spec.model.model_dump(mode="json", exclude_none=True),
    }


def run_info(
    spec: GateSpec,
    options: GateOptions,
    thresholds: ThresholdSet,
    items_fingerprint: str,
    model_fingerprint: str,
    in_place_reason: str,
) -> dict[str, Any]:
    """The results' ``run`` (docs/results.md). ``in_place_reason``: why the dense model's
    weights could not be compressed in place ("" when they were)."""
    data = spec.data
    return {
        "config_path": str(spec.source_path),
        "bias_gate_version": __version__,
        "benchmark": data.benchmark,
        "benchmarks": list(data.benchmarks or [data.benchmark]),
        "categories": list(data.categories),
        "conditions": list(data.conditions),
        "items_per_category": data.items_per_category,
        "seed": data.seed,
        "scoring_mode": spec.scoring.mode,
        "items_fingerprint": items_fingerprint,
        "model_fingerprint": model_fingerprint,
        "baseline": str(options.baseline) if options.baseline else None,
        "mode": options.mode,
        "shard": f"{options.shard.index}/{options.shard.count}" if options.shard else None,
        "thresholds": {
            "profile": thresholds.profile,
            "base": thresholds.base.model_dump(mode="json"),
            "per_category": {
                name: limits.model_dump(mode="json")
                for name, limits in thresholds.per_category.items()
            },
        },
        "sequential": spec.sequential.model_dump(mode="json"),
        "libraries": library_versions(("torch", "transformers", "pytest-bias-gate")),
        "compressed_in_place": not in_place_reason,
        "in_place_reason": in_place_reason or None,
    }


def header_lines(spec: GateSpec, options: GateOptions, thresholds: ThresholdSet) -> list[str]:
    """The lines of pytest's header that describe the run."""
    data = spec.data
    names = ", ".join(c.name for c in spec.compressions)
    per_category = data.items_per_category if data.items_per_category else "all"
    baseline = options.baseline or "answer cache (no --bias-gate-baseline)"
    runtimes = sorted({spec.runtime_of(c.name) for c in spec.compressions})
    if runtimes != ["torch"]:
        names += f" | runtime {', '.join(runtimes)} (each config beside the dense model in its own)"
    return [
        f"bias-gate: {spec.source_path} | model {spec.model.display_name}",
        f"bias-gate: categories {', '.join(data.categories)} x {per_category} items "
        f"({', '.join(data.conditions)}), scoring {spec.scoring.mode}, "
        f"thresholds {thresholds.profile}, mode {options.mode}, "
        f"looks {spec.sequential.looks} ({spec.sequential.spending})",
        f"bias-gate: configs {names} | baseline {baseline}",
    ]
