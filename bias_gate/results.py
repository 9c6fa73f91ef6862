"""The results of a gate run: plain typed values, and their JSON form.

This is what every report (terminal, JUnit, JSON, markdown, plots, HTML) reads.
docs/results.md documents the JSON shape; :data:`SCHEMA_VERSION` changes with it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from bias_gate.cache import atomic_write_json, atomic_write_text
from bias_gate.errors import BiasGateError
from bias_gate.metrics.flips import (
    FLIP_LIMIT,
    Flips,
    digest,
    read_side_file,
    side_file,
    side_file_text,
    with_lists,
)
from bias_gate.results_schema import check_results

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
    """One compression config x one BBQ category, dense vs compressed on the same items.

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
        version = obj.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"results schema_version {version!r}; expected {SCHEMA_VERSION}")
        return cls(
            model=obj["model"],
            run=obj["run"],
            dense=_build(DenseResult, obj["dense"]),
            configs=[config_from_json(raw) for raw in obj.get("configs", [])],
        )

    def write(self, path: Path) -> None:
        """Write the results JSON at ``path``, then the full flip lists beside it
        (:func:`bias_gate.metrics.flips.side_file`), each atomically. The JSON goes first and
        records the side file's SHA-256, so a crash between the two loses nothing the
        JSON holds, and a stale or torn side file is never read as this run's."""
        path = Path(path)
        data = self.to_json()
        cells = [((i.config, i.category), i.flips) for i in self.items() if i.flips is not None]
        text = side_file_text(cells) if cells else None
        if text is not None:
            data["flips_file"] = {"name": side_file(path).name, "sha256": digest(text)}
        atomic_write_json(path, data)
        if text is not None:
            atomic_write_text(side_file(path), text)

    @classmethod
    def read(cls, path: Path) -> GateResults:
        """The results at ``path``, with the full flip lists of its side file when that
        is the one the JSON recorded (``flips_file`` says so). The file is checked
        against :mod:`bias_gate.results_schema` first: a bad one is a one-line
        :class:`BiasGateError` naming the file and the field."""
        path = Path(path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except RecursionError:
            raise BiasGateError("nested too deeply; not a results file", file=path) from None
        except ValueError as exc:  # not JSON, not UTF-8, an integer of 5000 digits
            raise BiasGateError(f"not a results JSON file ({exc})", file=path) from None
        try:
            check_results(raw)
        except BiasGateError as exc:
            raise BiasGateError(exc.message, file=path, key=exc.key) from None
        results = cls.from_json(raw)
        recorded = raw.get("flips_file")
        lists = read_side_file(path, recorded)
        if lists is not None:
            for item in results.items():
                if item.flips is not None:
                    item.flips = with_lists(item.flips, lists.get((item.config, item.category), {}))
            results.flips_file = path.with_name(Path(recorded["name"]).name)
        return results


def item_from_json(raw: dict[str, Any]) -> ItemResult:
    """An :class:`ItemResult` from its JSON form (``flips`` optional; a
    ``reason_category`` missing in older results is derived)."""
    item = _build(ItemResult, raw)
    if item.flips is not None:
        item.flips = Flips.from_json(item.flips)
    if item.reason_category is None:  # results written before it was recorded
        item.reason_category = derived_reason_category(item)
    return item


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


def config_from_json(raw: dict[str, Any]) -> ConfigResult:
    """A :class:`ConfigResult` (with its items) from its JSON form."""
    items = [item_from_json(item) for item in raw.get("items", [])]
    config = _build(ConfigResult, {**raw, "items": items})
    if config.perplexity_reason_category is None and config.perplexity_verdict in ("fail", "warn"):
        config.perplexity_reason_category = PERPLEXITY  # written before it was recorded
    return config


def _build(cls: type, raw: dict[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in raw.items() if k in names}
    if "h_ci" in values and values["h_ci"] is not None:
        values["h_ci"] = tuple(values["h_ci"])
    return cls(**values)
