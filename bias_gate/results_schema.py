"""The results JSON's schema, checked before a results file is read (``bias-gate report``,
``--merge``, ``--previous``): a file edited by hand or by an attacker is refused in one
line naming the field (``r.json: configs[0].items[2].cohens_h: expected a number or
null, got 'x'``), never a traceback halfway through the reports.

Versioned with :data:`bias_gate.results.SCHEMA_VERSION`; docs/results.md documents the
fields. Numbers are finite (a perplexity may be infinite, never NaN); verdicts, decisions
and answer indices take only their values; every list and text is of its type. Keys the
gate does not read are allowed (a later version may add some); nesting deeper than
:data:`MAX_DEPTH` is refused before anything else looks at it.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, ValidationError

from bias_gate.errors import BiasGateError
from bias_gate.schema_errors import kind, schema_error, shown

#: The deepest nesting a results file may have (the gate writes 7 levels).
MAX_DEPTH = 32

# Scalars are strict (no "1" for 1, no true for 1); containers take JSON's lists.
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Probability = Annotated[float, Strict(), Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Integer = Annotated[int, Strict()]
Count = Annotated[int, Strict(), Field(ge=0)]
Index = Annotated[int, Strict(), Field(ge=0, le=2)]
Text = Annotated[str, Strict()]
Flag = Annotated[bool, Strict()]
Status = Literal["pass", "fail", "warn"]
#: bias_gate.results.REASON_CATEGORIES (a test keeps the two lists equal).
ReasonCategory = Literal[
    "bias amplified",
    "perplexity",
    "dense model not valid",
    "compressed model not valid",
    "too few items",
    "policy",
]


def _not_nan(value: float) -> float:
    if math.isnan(value):
        raise ValueError("expected a number or null, got nan")
    return value


#: A perplexity or its ratio: infinite when the compressed model is broken, never NaN.
Perplexity = Annotated[float, Strict(), AfterValidator(_not_nan)]


class _Schema(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Open(BaseModel):
    """A section whose other keys are free (``model``, ``run``, thresholds)."""

    model_config = ConfigDict(extra="allow")


class FlipSchema(_Schema):
    example_id: Integer
    context: Text
    question: Text
    options: tuple[Text, Text, Text]
    biased_index: Index
    unknown_index: Index
    dense_choice: Index
    compressed_choice: Index
    dense_probs: tuple[Probability, Probability, Probability] | None = None
    compressed_probs: tuple[Probability, Probability, Probability] | None = None


class SideRowSchema(FlipSchema):
    """One line of the flips side file (``results.flips.jsonl``)."""

    config: Text
    category: Text
    direction: Literal["new_bias", "bias_removed"]


class FlipsSchema(_Schema):
    new_bias: list[FlipSchema] = []
    bias_removed: list[FlipSchema] = []
    new_bias_total: Count
    bias_removed_total: Count


class ItemSchema(_Schema):
    config: Text
    category: Text
    metric: Text
    decision: Literal["pass", "fail", "inconclusive", "not_judged"]
    verdict: Status
    n: Count
    n_used: Count
    n_max: Count
    look: Count
    looks: Count
    limit: Number
    alpha: Probability
    value_dense: Number | None
    value_compressed: Number | None
    cohens_h: Number | None
    h_ci: tuple[Number, Number] | None
    p_pass: Probability | None
    p_value: Probability | None
    pass_level: Probability | None
    fail_level: Probability | None
    p_adjusted: Probability | None
    p_adjusted_run: Probability | None
    n_required: Count | None
    n_required_observed: Count | None
    n_to_settle: Count | None
    srs_dense: Number | None
    srs_compressed: Number | None
    expected_srs_dense: Number | None
    expected_srs_compressed: Number | None
    unknown_rate_dense: Number | None
    unknown_rate_compressed: Number | None
    bias_score_ambig_dense: Number | None
    bias_score_ambig_compressed: Number | None
    bias_score_disambig_dense: Number | None
    bias_score_disambig_compressed: Number | None
    accuracy_disambig_dense: Number | None
    accuracy_disambig_compressed: Number | None
    new_bias_rate: Number | None
    bias_removed_rate: Number | None
    net_new_bias_rate: Number | None
    max_net_new_bias_rate: Number | None
    p_chi2_unpaired: Probability | None
    reasons: list[Text] = []
    srs_study_dense: Number | None = None
    srs_study_compressed: Number | None = None
    dense_noise_new_bias_rate: Number | None = None
    dense_noise_flip_rate: Number | None = None
    transitions: dict[str, dict[str, Count]] = {}
    paradox: Flag = False
    flips: FlipsSchema | None = None
    reason_category: ReasonCategory | None = None
    benchmark: Text | None = None


class ConfigSchema(_Schema):
    name: Text
    method: Text
    options: dict[str, Any]
    line: Annotated[Integer, Field(ge=1)] | None
    target_sparsity: Number | None
    achieved_sparsity: Number | None
    compress_seconds: Number | None
    storage: dict[str, Count | None]
    latency_ms: dict[str, Number | None]
    perplexity: Perplexity | None
    perplexity_ratio: Perplexity | None
    perplexity_verdict: Status | None
    perplexity_reasons: list[Text] = []
    notes: list[Text] = []
    items: list[ItemSchema] = []
    runtime: Text = "torch"
    dense_perplexity: Perplexity | None = None
    agreement: dict[str, Any] | None = None
    perplexity_reason_category: ReasonCategory | None = None


class DenseSchema(_Schema):
    perplexity: Perplexity | None
    validity: dict[str, Any]
    informative: Flag
    validity_reasons: list[Text] = []
    fingerprint: Text = ""
    validity_by_category: dict[str, dict[str, Any]] = {}
    validity_state: Literal["valid", "not_valid", "too_few"] | None = None
    validity_by_benchmark: dict[str, dict[str, Any]] = {}


class ModelSchema(_Open):
    name: Text | None = None


class ThresholdsSchema(_Open):
    profile: Text | None = None
    base: dict[str, Any] | None = None
    per_category: dict[str, Any] | None = None


class RunSchema(_Open):
    config_path: Text | None = None
    thresholds: ThresholdsSchema | None = None
    mode: Literal["gate", "warn"] | None = None
    missing_shards: list[Text] | None = None
    shard: Text | None = None
    categories: list[Text] | None = None
    limit: Annotated[Integer, Field(ge=1)] | None = None
    fingerprints: dict[str, Text | None] | None = None


class FlipsFileSchema(_Schema):
    name: Text
    sha256: Text


class ResultsSchema(_Schema):
    schema_version: Literal[2]
    model: ModelSchema
    run: RunSchema
    dense: DenseSchema
    configs: list[ConfigSchema] = []
    flips_file: FlipsFileSchema | None = None


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deeply ``value`` (parsed JSON) nests, counted without recursion and up to
    ``limit + 1`` at most."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        current, level = stack.pop()
        if not isinstance(current, dict | list):
            continue
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        children = current.values() if isinstance(current, dict) else current
        stack.extend((child, level + 1) for child in children)
    return deepest


def check_results(raw: Any) -> None:
    """Raise a one-line :class:`BiasGateError` (``key``: the field's path) unless ``raw``
    is a results JSON of this version."""
    if not isinstance(raw, dict):
        raise BiasGateError(
            f"not a bias-gate results file (expected a JSON object, got {kind(raw)})"
        )
    if depth(raw) > MAX_DEPTH:
        raise BiasGateError(f"nested deeper than {MAX_DEPTH} levels; not a results file")
    version = raw.get("schema_version")
    if version != 2:
        raise BiasGateError(
            f"schema_version {shown(version)}; expected 2: not a bias-gate results file of "
            "this version (write one with pytest --bias-gate ... --bias-gate-json PATH)"
        )
    try:
        ResultsSchema.model_validate(raw)
    except ValidationError as exc:
        raise schema_error(exc, ResultsSchema) from None


def check_side_row(row: Any) -> None:
    """Raise a one-line :class:`BiasGateError` unless ``row`` is a side-file line."""
    if not isinstance(row, dict) or depth(row) > MAX_DEPTH:
        raise BiasGateError(f"expected a flipped item, got {kind(row)}")
    try:
        SideRowSchema.model_validate(row)
    except ValidationError as exc:
        raise schema_error(exc, ResultsSchema) from None
