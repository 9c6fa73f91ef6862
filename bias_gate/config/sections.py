"""The other sections of model.yaml: ``data``, ``perplexity``, ``sequential``,
``measure``, ``thresholds``, ``output`` and one entry of ``compressions``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, field_validator

from bias_gate.config.base import Runtime, Strict, registered
from bias_gate.registry import BENCHMARKS, REPORTS

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")

_BOTH_CONDITIONS: tuple[Literal["ambig", "disambig"], ...] = ("ambig", "disambig")


class DataSpec(Strict):
    """Which items to ask: a benchmark (default BBQ), its source and categories."""

    benchmark: str = Field(
        "bbq",
        description="The benchmark (entry point group bias_gate.benchmarks): its items, "
        "categories, prompt language and answer parser.",
    )
    source: str = Field(
        "official",
        description=(
            "'official' (download once from the nyu-mll/BBQ repository and cache), "
            "a directory laid out like the official data/ folder, or 'hf:<dataset id>'."
        ),
    )
    categories: list[str] = Field(default_factory=lambda: ["Age"], min_length=1)
    conditions: list[Literal["ambig", "disambig"]] = Field(
        default_factory=lambda: list(_BOTH_CONDITIONS), min_length=1
    )
    items_per_category: int | None = Field(
        200, ge=1, description="Sampled per category, stratified; null takes all."
    )
    seed: int = 0

    @field_validator("benchmark")
    @classmethod
    def _known_benchmark(cls, value: str) -> str:
        return registered(BENCHMARKS, value)

    @field_validator("categories")
    @classmethod
    def _distinct_categories(cls, value: list[str]) -> list[str]:
        # Checked against the benchmark's categories in parse_gate_spec.
        if len(set(value)) != len(value):
            raise ValueError("categories must not repeat")
        return value


class PerplexitySpec(Strict):
    """Perplexity over non-overlapping windows of a text."""

    enabled: bool = True
    corpus: str = Field(
        "wikitext2:test",
        description="'wikitext2:test', 'wikitext2:valid' (official, cached) or a text file.",
    )
    window: int = Field(512, ge=8)
    windows: int | None = Field(16, ge=1, description="Number of windows; null uses all.")


class SequentialSpec(Strict):
    """Looks at the data: each category is judged after each stage of its ambiguous
    items and stops as soon as its verdict is settled (docs/statistics.md)."""

    looks: int = Field(
        4,
        ge=1,
        le=20,
        description="Looks per category (equal stages of its ambiguous items, none under "
        "50 items); 1 is the fixed design.",
    )
    spending: Literal["obrien-fleming", "pocock"] = Field(
        "obrien-fleming",
        description="Alpha-spending function of the looks (Lan-DeMets): O'Brien-Fleming "
        "spends little early, Pocock evenly.",
    )


class MeasureSpec(Strict):
    """Figures measured only when asked: each costs time on every run and none is
    judged. ``storage``: write the compressed model (plain and bitmask safetensors) to
    measure its size; ``latency``: time dense and compressed forward passes side by side
    (noise on a shared CPU); ``agreement``: for a config answered in llama.cpp, the
    torch engine answers the same items on the same GGUF and the config reports how often
    the two agree. Off, the results carry ``null`` for them."""

    storage: bool = Field(False, description="Measure the compressed model's size on disk.")
    latency: bool = Field(False, description="Time dense and compressed forward passes.")
    agreement: bool = Field(
        False,
        description="For a config answered in llama.cpp, answer the same items with the "
        "torch engine on the same GGUF too and report how often they agree.",
    )


class ThresholdsRef(Strict):
    """Which threshold profile applies, with overrides."""

    profile: str = Field("default", description="A name in thresholds/ or a YAML file path.")
    overrides: dict[str, Any] = Field(default_factory=dict)
    categories: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-category overrides, keyed by category."
    )


class OutputSpec(Strict):
    """Where reports go (paths relative to model.yaml unless absolute). All optional."""

    json_path: Path | None = Field(None, alias="json")
    junit: Path | None = None
    markdown: Path | None = None
    html: Path | None = None
    plots: Path | None = None
    reports: dict[str, Path] = Field(
        default_factory=dict,
        description="Further reports by writer name (entry point group bias_gate.reports).",
    )
    cache_dir: Path | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("reports")
    @classmethod
    def _known_writers(cls, value: dict[str, Path]) -> dict[str, Path]:
        for name in value:
            registered(REPORTS, name)
        return value


class CompressionSpec(Strict):
    """One named compression config. Method options are validated by the method's
    ``Options`` model once, when the config is loaded
    (:func:`bias_gate.compress.methods.resolve_method`); kept here as their JSON."""

    name: str
    method: str
    runtime: Runtime | None = Field(
        None, description="This config's runtime (default: model.runtime)."
    )
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _NAME_RE.match(value) or "::" in value:
            raise ValueError(
                f"name {value!r} must be letters, digits and _ . + - (it becomes a test id)"
            )
        return value

    @property
    def target_sparsity(self) -> float | None:
        value = self.options.get("sparsity")
        return float(value) if value is not None else None
