"""The results of a gate run: plain typed values, and their JSON form.

This is what every report (terminal, JUnit, JSON, markdown, plots, HTML) reads.
docs/results.md documents the JSON shape; :data:`SCHEMA_VERSION` changes with it.
Reading and writing the JSON is :mod:`bias_gate.results_io`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from bias_gate.metrics.flips import FLIP_LIMIT, Flips

SCHEMA_VERSION = 2

Status = Literal["pass", "fail", "warn"]

#: The reason categories: one per FAIL or INCONCLUSIVE, shown first by every report
#: (docs/results.md, ``reason_category``).
BIAS_AMPLIFIED = "bias amplified"
PERPLEXITY = "perplexity"
DENSE_NOT_VALID = "dense model not valid"
COMPRESSED_NOT_VALID = "compressed model not valid"
TOO_FEW_ITEMS = "too few items"
POLICY = "policy"
REASON_CATEGORIES = (
    BIAS_AMPLIFIED,
    PERPLEXITY,
    DENSE_NOT_VALID,
    COMPRESSED_NOT_VALID,
    TOO_FEW_ITEMS,
    POLICY,
)

#: ``ItemResult.decision`` of an item the bias rule did not judge: a model is not valid,
#: or the dense model's validity could not be established (``reason_category`` says which).
NOT_JUDGED = "not_judged"


@dataclass
class Verdict:
    """pass / fail / warn, with the reasons in plain words (first reason first) and,
    unless it is a pass, the short reason category (:data:`REASON_CATEGORIES`)."""

    status: Status
    reasons: list[str] = field(default_factory=list)
    category: str | None = None


@dataclass
class ItemResult:
    """One compression config x one category of a benchmark (``benchmark``), dense vs
    compressed on the same items.

    The decision (docs/statistics.md, "The decision") is taken on the gated ``metric``:
    ``decision`` is pass / fail / inconclusive; ``verdict`` is what the item reports
    (pass / fail / warn: an inconclusive decision maps through the profile's
    ``on_inconclusive``, an uninformative dense model through ``validity.on_invalid``).
    ``value_dense`` / ``value_compressed``: the gated metric on the paired items (``n``);
    ``cohens_h``: compressed minus dense (positive = more biased), with ``h_ci`` the
    one-sided lower and upper confidence bounds at level 1 - ``bound_alpha`` (together a
    (1 - 2 bound_alpha) interval): with one look ``alpha``, with several the deciding
    look's nominal PASS level ``pass_level`` (the repeated confidence bound), so PASS
    exactly when the upper bound is at or below ``limit``; ``limit``: this category's
    ``max_cohens_h``.
    ``p_pass``: one-sided p of "h >= limit" (PASS when at or below ``pass_level``);
    ``p_value``: one-sided p of "no increase" (FAIL needs it at or below ``fail_level``,
    the family's boundary); ``p_adjusted``: ``p_value`` Holm/BH-adjusted over the config's
    categories, ``p_adjusted_run`` over the run (both for reading).
    Sequential looks: the item stopped at ``look`` of ``looks`` after ``n_used`` of
    ``n_max`` planned ambiguous items. ``n_required``: ambiguous items at which an
    unchanged model passes with the profile's power, assuming no pairing benefit (set
    before the data); ``n_required_observed``: the same from the observed variance;
    ``n_to_settle``: for an inconclusive item, about how many items would settle it.
    Rates are fractions; the SRS and flip figures are on valid answers of both models.
    For comparison with the 2026 study: ``srs_study_*`` its polarity-blind SRS (each
    model's own valid answers), ``p_chi2_unpaired`` its unpaired test, and with several
    seeds the dense model's seed-to-seed ``dense_noise_new_bias_rate`` and
    ``dense_noise_flip_rate`` (the noise floor flip rates are read against).
    ``flips``: the flipped items themselves (:mod:`bias_gate.metrics.flips`); ``None`` in results
    written before they were recorded.
    """

    config: str
    category: str
    metric: str
    decision: str
    verdict: Status
    n: int
    n_used: int
    n_max: int
    look: int
    looks: int
    limit: float
    alpha: float
    value_dense: float | None
    value_compressed: float | None
    cohens_h: float | None
    h_ci: tuple[float, float] | None
    p_pass: float | None
    p_value: float | None
    pass_level: float | None
    fail_level: float | None
    p_adjusted: float | None
    p_adjusted_run: float | None
    n_required: int | None
    n_required_observed: int | None
    n_to_settle: int | None
    srs_dense: float | None
    srs_compressed: float | None
    expected_srs_dense: float | None
    expected_srs_compressed: float | None
    unknown_rate_dense: float | None
    unknown_rate_compressed: float | None
    bias_score_ambig_dense: float | None
    bias_score_ambig_compressed: float | None
    bias_score_disambig_dense: float | None
    bias_score_disambig_compressed: float | None
    accuracy_disambig_dense: float | None
    accuracy_disambig_compressed: float | None
    new_bias_rate: float | None
    bias_removed_rate: float | None
    net_new_bias_rate: float | None
    max_net_new_bias_rate: float | None
    p_chi2_unpaired: float | None
    reasons: list[str] = field(default_factory=list)
    srs_study_dense: float | None = None
    srs_study_compressed: float | None = None
    dense_noise_new_bias_rate: float | None = None
    dense_noise_flip_rate: float | None = None
    transitions: dict[str, dict[str, int]] = field(default_factory=dict)
    paradox: bool = False
    flips: Flips | None = None
    reason_category: str | None = None
    #: The benchmark the category's items are from (``bbq``, ``kobbq``, ...).
    benchmark: str = "bbq"

    @property
    def bound_alpha(self) -> float:
        """The one-sided level of ``h_ci``: ``pass_level`` with several looks (the
        deciding look's repeated confidence bound), ``alpha`` with one."""
        if self.looks > 1 and self.pass_level is not None and math.isfinite(self.pass_level):
            return self.pass_level
        return self.alpha


@dataclass
class ConfigResult:
    """One compression config: what compression achieved, its perplexity, its items."""

    name: str
    method: str
    options: dict[str, Any]
    line: int | None
    target_sparsity: float | None
    achieved_sparsity: float | None
    compress_seconds: float | None
    storage: dict[str, int | None]
    latency_ms: dict[str, float | None]
    perplexity: float | None
    perplexity_ratio: float | None
    perplexity_verdict: Status | None
    perplexity_reasons: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    items: list[ItemResult] = field(default_factory=list)
    #: What answered and computed perplexity (``torch`` or ``llama_cpp``); the config is
    #: compared with the dense model in the same runtime.
    runtime: str = "torch"
    #: The dense model's perplexity in this config's runtime (its ratio's denominator).
    dense_perplexity: float | None = None
    #: ``measure.agreement`` for a config answered in llama.cpp: the torch engine on the
    #: same GGUF (:class:`bias_gate.llama.agreement.Agreement`), else ``None``.
    agreement: dict[str, Any] | None = None
    #: ``perplexity`` when the perplexity check did not pass (``policy`` when a hook
    #: changed it), else ``None``.
    perplexity_reason_category: str | None = None


@dataclass
class DenseResult:
    """The dense baseline: perplexity and validity diagnostics, over the run and per
    category (``validity_by_category[c]``: ``informative``, ``reasons``,
    ``disambig_accuracy``, ``disambig_n``, ``disambig_pvalue``): a category whose
    disambiguated questions the dense model cannot answer is not judged for bias even
    when the run as a whole is informative."""

    perplexity: float | None
    validity: dict[str, Any]
    informative: bool
    validity_reasons: list[str] = field(default_factory=list)
    fingerprint: str = ""
    validity_by_category: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: ``valid``, ``not_valid`` or ``too_few`` (items to tell); results written before
    #: it was recorded read as ``valid`` / ``not_valid`` from ``informative``.
    validity_state: str | None = None
    #: In a run of several benchmarks, the dense model's validity on each one's
    #: disambiguated items, by benchmark (``validity``, ``informative``, ``reasons``,
    #: ``state``): a benchmark's categories are judged against their own benchmark's
    #: (the run-wide fields are then the first benchmark's); empty otherwise.
    validity_by_benchmark: dict[str, dict[str, Any]] = field(default_factory=dict)

    def state(self) -> str:
        """The run-wide validity state (derived from ``informative`` in old results)."""
        if self.validity_state is not None:
            return self.validity_state
        return "valid" if self.informative else "not_valid"


@dataclass
class GateResults:
    """Everything a gate run found.

    ``flips_file``: the side file the flip lists were read from by :meth:`read` (None
    when only the results JSON's bounded lists were there); not written."""

    model: dict[str, Any]
    run: dict[str, Any]
    dense: DenseResult
    configs: list[ConfigResult] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION
    flips_file: Path | None = field(default=None, compare=False)

    def items(self) -> list[ItemResult]:
        return [item for config in self.configs for item in config.items]

    def to_json(self, flip_limit: int | None = FLIP_LIMIT) -> dict[str, Any]:
        """The JSON form, each cell's flip lists bounded to ``flip_limit`` items per
        direction (``None``: all of them, as a worker's record to the controller)."""
        data = asdict(self)
        del data["flips_file"]
        for config, raw_config in zip(self.configs, data["configs"], strict=True):
            for item, raw in zip(config.items, raw_config["items"], strict=True):
                raw["flips"] = item.flips.to_json(flip_limit) if item.flips is not None else None
        return data

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> GateResults:
        """Results from their JSON form (:func:`bias_gate.results_io.results_from_json`)."""
        from bias_gate.results_io import results_from_json

        return results_from_json(obj)

    def write(self, path: Path) -> None:
        """Write the results JSON and its flips side file
        (:func:`bias_gate.results_io.write_results`)."""
        from bias_gate.results_io import write_results

        write_results(self, path)

    @classmethod
    def read(cls, path: Path) -> GateResults:
        """The results at ``path``, checked against the schema, with their side file's
        flip lists (:func:`bias_gate.results_io.read_results`)."""
        from bias_gate.results_io import read_results

        return read_results(path)


def derived_reason_category(item: ItemResult) -> str | None:
    """The reason category of an item from results written before it was recorded:
    read from its decision, verdict and first reason."""
    if item.verdict == "pass":
        return None  # a pass has no reason category
    first = item.reasons[0] if item.reasons else ""
    if "pytest_bias_gate_results hook" in first:
        return POLICY if item.verdict != "pass" else None
    if "dense model is not informative" in first:
        return DENSE_NOT_VALID
    if item.decision == "fail":
        return BIAS_AMPLIFIED
    if item.decision == "inconclusive":
        return TOO_FEW_ITEMS
    return None
