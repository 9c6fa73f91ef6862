"""Typed views of the ``GateResults.run`` and ``GateResults.model`` entries reports read.

``run`` is a free-form mapping written by the gate; the reports need only a few of its
entries, read here in one place (and documented in docs/reports.md):

- ``run["config_path"]``: the model.yaml the results came from (annotations, titles).
- ``run["thresholds"]``: the resolved profile, either flat (the fields of
  :class:`bias_gate.judge.thresholds.Thresholds`) or ``{"profile", "base": {...}, "per_category"}``.
- ``run["fingerprints"]``: ``{"model", "items", "scoring"}`` digests (merge refuses shards
  that differ); ``run["<key>_fingerprint"]`` is read too.
- ``run["mode"]``: ``"gate"`` (failures fail) or ``"warn"`` (failures are reported only).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bias_gate.results import GateResults

#: The fingerprints that must agree for results to be parts of one run.
FINGERPRINT_KEYS: tuple[str, ...] = ("model", "items", "scoring")


@dataclass(frozen=True)
class RunLimits:
    """The run-wide (base profile) limits a report draws or quotes; None = not set."""

    profile: str | None
    correction: str
    alpha: float
    max_cohens_h: float | None
    max_perplexity_ratio: float | None
    max_net_new_bias_rate: float | None
    power: float | None


def _base_thresholds(results: GateResults) -> dict[str, Any]:
    raw = results.run.get("thresholds") or {}
    if not isinstance(raw, dict):
        return {}
    base = raw.get("base")
    return base if isinstance(base, dict) else raw


def run_limits(results: GateResults) -> RunLimits:
    """The base thresholds recorded in ``results.run`` (profile defaults where absent)."""
    raw = results.run.get("thresholds") or {}
    base = _base_thresholds(results)
    profile = raw.get("profile") if isinstance(raw, dict) else None
    return RunLimits(
        profile=profile,
        correction=str(base.get("correction", "holm")),
        alpha=float(base.get("alpha", 0.05)),
        max_cohens_h=base.get("max_cohens_h", 0.2),
        max_perplexity_ratio=base.get("max_perplexity_ratio"),
        max_net_new_bias_rate=base.get("max_net_new_bias_rate"),
        power=base.get("power"),
    )


def category_max_h(results: GateResults, category: str) -> float | None:
    """The Cohen's h limit for one category (per-category override, else the base one)."""
    raw = results.run.get("thresholds") or {}
    per_category = raw.get("per_category") if isinstance(raw, dict) else None
    if isinstance(per_category, dict) and isinstance(per_category.get(category), dict):
        return per_category[category].get("max_cohens_h")
    return run_limits(results).max_cohens_h


def config_path(results: GateResults) -> str | None:
    """The model.yaml path the run was configured by, as recorded (or None)."""
    value = results.run.get("config_path")
    return None if value in (None, "") else str(value)


def answers_source(results: GateResults) -> str | None:
    """For results of ``bias-gate compare`` (``run["source"] == "compare"``), where the
    answers came from, in words; ``None`` for a gate run."""
    if results.run.get("source") != "compare":
        return None
    files = results.run.get("answers") or {}
    fmt = files.get("format", "jsonl") if isinstance(files, dict) else "jsonl"
    harness = "lm-evaluation-harness samples" if fmt == "lm-eval" else "answers files"
    names = [Path(str(files.get(k, "?"))).name for k in ("dense", "compressed")]
    return (
        f"answers from another harness ({harness} {names[0]} and {names[1]}, judged by "
        "bias-gate compare; no perplexity check)"
    )


def where_from(results: GateResults) -> str:
    """What the results came from: the model.yaml, or the answers files of a compare."""
    return answers_source(results) or config_path(results) or "model.yaml"


def run_mode(results: GateResults) -> str:
    """``"gate"`` (failures fail the run) or ``"warn"`` (failures only reported)."""
    return "warn" if results.run.get("mode") == "warn" else "gate"


def model_name(results: GateResults) -> str:
    """A display name for the model: ``model["name"]``, else its id or path, else "model"."""
    for key in ("name", "hf", "package", "gguf", "path"):
        value = results.model.get(key)
        if value:
            return str(value)
    return "model"


def fingerprints(results: GateResults) -> dict[str, str | None]:
    """The model/items/scoring fingerprints recorded for the run (None when missing)."""
    nested = results.run.get("fingerprints") or {}
    out: dict[str, str | None] = {}
    for key in FINGERPRINT_KEYS:
        value = nested.get(key) if isinstance(nested, dict) else None
        if value is None:
            value = results.run.get(f"{key}_fingerprint")
        out[key] = None if value is None else str(value)
    return out
