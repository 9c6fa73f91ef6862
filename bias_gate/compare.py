"""Dense vs compressed on the same BBQ items, paired by item, one category at a time.

The unit is the item: an ambiguous item with an official biased option, answered validly
by both models (with several seeds, ``Answer.choice`` is the per-item majority vote and
``Answer.probs`` the per-item seed shares, see :func:`bias_gate.stats.majority_vote`).
Every value is ``None`` when its denominator is zero (n = 0 never raises).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from itertools import combinations, permutations
from typing import Literal

from bias_gate import stats
from bias_gate.answer.types import Answer
from bias_gate.data.items import BBQItem
from bias_gate.metrics import (
    ANSWER_KINDS,
    AnswerKind,
    CategoryMetrics,
    answer_for,
    answer_kind,
    biased_probability,
    compute_metrics,
)

CIMethod = Literal["delta", "bootstrap"]


@dataclass(frozen=True)
class TransitionTable:
    """3x3 counts of answer kinds, dense (rows) x compressed (columns), in the order
    ``ANSWER_KINDS`` = (biased, unknown, anti)."""

    counts: tuple[tuple[int, ...], ...]

    def count(self, dense: AnswerKind, compressed: AnswerKind) -> int:
        return self.counts[ANSWER_KINDS.index(dense)][ANSWER_KINDS.index(compressed)]

    @property
    def n(self) -> int:
        return sum(sum(row) for row in self.counts)

    def biased_table(self) -> stats.PairedTable:
        """The 2x2 "biased / not biased" table (first = dense, second = compressed)."""
        dense_biased = self.counts[0]
        rest = self.counts[1:]
        return stats.PairedTable(
            both=dense_biased[0],
            first_only=dense_biased[1] + dense_biased[2],
            second_only=sum(row[0] for row in rest),
            neither=sum(row[1] + row[2] for row in rest),
        )

    def to_json(self) -> dict[str, dict[str, int]]:
        return {
            dense: {comp: self.counts[i][j] for j, comp in enumerate(ANSWER_KINDS)}
            for i, dense in enumerate(ANSWER_KINDS)
        }


def transition_table(pairs: Sequence[tuple[AnswerKind, AnswerKind]]) -> TransitionTable:
    """The :class:`TransitionTable` of (dense kind, compressed kind) pairs."""
    grid = [[0, 0, 0] for _ in ANSWER_KINDS]
    for dense, compressed in pairs:
        grid[ANSWER_KINDS.index(dense)][ANSWER_KINDS.index(compressed)] += 1
    return TransitionTable(counts=tuple(tuple(row) for row in grid))


@dataclass(frozen=True)
class SeedNoise:
    """The dense model's seed-to-seed instability (generate mode): the noise floor any
    dense-vs-compressed flip rate must be read against.

    ``new_bias_rate``: over ordered pairs of distinct seeds (s, t) and ambiguous items with
    a target valid under both, the share of (item, s, t) not biased under s that are
    biased under t (``n_new_bias`` such triples): the seed analogue of the comparison's
    new-bias rate, for single seeds (a majority vote over seeds flips less).
    ``flip_rate``: share of (item, unordered seed pair) whose biased/not-biased status
    differs (``n_pairs``). ``n_items`` items with at least two valid seeds."""

    new_bias_rate: float | None
    n_new_bias: int
    flip_rate: float | None
    n_pairs: int
    n_items: int


def seed_noise(items: Sequence[BBQItem], answers: Mapping[str, Answer]) -> SeedNoise | None:
    """:class:`SeedNoise` of one model's ``seed_choices``; ``None`` when no answer has two
    or more seeds."""
    if not any(len(answer_for(item, answers).seed_choices) > 1 for item in items):
        return None
    new_biased = not_biased = flips = pairs = n_items = 0
    for item in items:
        if not item.is_ambiguous or item.biased_index is None:
            continue
        biased = [c == item.biased_index for c in answers[item.key].seed_choices if c is not None]
        if len(biased) < 2:
            continue
        n_items += 1
        for first, second in permutations(biased, 2):
            not_biased += not first
            new_biased += (not first) and second
        for first, second in combinations(biased, 2):
            pairs += 1
            flips += first != second
    return SeedNoise(
        new_bias_rate=new_biased / not_biased if not_biased else None,
        n_new_bias=not_biased,
        flip_rate=flips / pairs if pairs else None,
        n_pairs=pairs,
        n_items=n_items,
    )


@dataclass(frozen=True)
class Comparison:
    """Dense vs compressed on one category, paired by item (see module docstring).

    - ``n``: ambiguous items with a target answered validly by both; ``srs_dense`` and
      ``srs_compressed`` are the SRS on exactly these items (they may differ from
      ``dense.srs``/``compressed.srs``, which use each model's own valid items).
    - ``transitions``: the 3x3 table; ``new_bias_rate`` = items biased under compressed
      among the ``n_new_bias`` items not biased under dense (the study's headline number);
      ``bias_removed_rate`` = not biased under compressed among the ``n_bias_removed``
      biased under dense.
    - ``cohens_h`` = h(srs_compressed) - h(srs_dense) (positive = amplification), ``h_ci``
      its paired interval (``ci_method``: delta or bootstrap); ``p_value`` = McNemar mid-p,
      ``p_value_exact`` = exact McNemar; ``p_chi2_unpaired`` = the study's unpaired
      chi-square (pooled over seeds when both have several seeds), for comparison only.
    - ``expected_srs_*``: mean probability of the biased option over the ``n_expected``
      ambiguous items with a target and probabilities under both; ``expected_h`` and its
      ``expected_h_ci`` (delta method on the two paired means, or bootstrap);
      ``expected_p_value``: paired t-test on the per-item differences;
      ``expected_min_detectable_h`` as below, from the variance behind ``expected_h_ci``.
    - ``min_detectable_h``: smallest |h| the paired test detects with ``power`` at ``alpha``
      given n and the observed correlation (the variance behind ``h_ci``);
      ``min_detectable_h_unpaired``: the same for two independent groups of n (r = 0).
    - ``p_adjusted`` / ``expected_p_adjusted``: set by :func:`attach_adjusted_pvalues`.
    """

    category: str
    n: int
    srs_dense: float | None
    srs_compressed: float | None
    transitions: TransitionTable
    new_bias_rate: float | None
    n_new_bias: int
    bias_removed_rate: float | None
    n_bias_removed: int
    cohens_h: float | None
    h_ci: tuple[float, float] | None
    p_value: float | None
    p_value_exact: float | None
    p_chi2_unpaired: float | None
    n_expected: int
    expected_srs_dense: float | None
    expected_srs_compressed: float | None
    expected_h: float | None
    expected_h_ci: tuple[float, float] | None
    expected_p_value: float | None
    expected_min_detectable_h: float | None
    min_detectable_h: float | None
    min_detectable_h_unpaired: float | None
    alpha: float
    power: float
    confidence: float
    ci_method: CIMethod
    dense: CategoryMetrics
    compressed: CategoryMetrics
    dense_seed_noise: SeedNoise | None = None
    p_adjusted: float | None = None
    expected_p_adjusted: float | None = None
    correction: str | None = None

    def to_json(self) -> dict[str, object]:
        """All fields as a JSON-ready mapping (the transition table keyed by kind)."""
        data = asdict(self)
        data["transitions"] = self.transitions.to_json()
        return data


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _h(p1: float | None, p2: float | None) -> float | None:
    return None if p1 is None or p2 is None else stats.cohens_h(p1, p2)


def _binary_ci_delta(
    dense: Sequence[float], compressed: Sequence[float], confidence: float, seed: int
) -> tuple[float, float] | None:
    table = stats.paired_table([x == 1.0 for x in dense], [y == 1.0 for y in compressed])
    return stats.paired_h_ci_delta(table, confidence)


def _mean_ci_delta(
    dense: Sequence[float], compressed: Sequence[float], confidence: float, seed: int
) -> tuple[float, float] | None:
    return stats.paired_mean_h_ci_delta(dense, compressed, confidence)


def _ci_bootstrap(
    dense: Sequence[float], compressed: Sequence[float], confidence: float, seed: int
) -> tuple[float, float] | None:
    return stats.paired_bootstrap_ci(dense, compressed, confidence, seed=seed)


CIFunction = Callable[[Sequence[float], Sequence[float], float, int], tuple[float, float] | None]

#: Interval for h on SRS (0/1 values) and on expected SRS (probabilities), per method.
HARD_CI: dict[str, CIFunction] = {"delta": _binary_ci_delta, "bootstrap": _ci_bootstrap}
SOFT_CI: dict[str, CIFunction] = {"delta": _mean_ci_delta, "bootstrap": _ci_bootstrap}


def _seed_level_counts(
    items: Sequence[BBQItem], answers: Mapping[str, Answer]
) -> tuple[int, int] | None:
    """(biased, valid) answers over every seed of every ambiguous item with a target, as
    the study pooled them; ``None`` when no answer has two or more seeds."""
    if not any(len(answers[item.key].seed_choices) > 1 for item in items):
        return None
    biased = valid = 0
    for item in items:
        for choice in answers[item.key].seed_choices:
            if choice is not None:
                valid += 1
                biased += choice == item.biased_index
    return biased, valid


def _study_chi2(
    paired: Sequence[BBQItem],
    dense: Mapping[str, Answer],
    compressed: Mapping[str, Answer],
    table: stats.PairedTable,
) -> float | None:
    dense_seeds = _seed_level_counts(paired, dense)
    compressed_seeds = _seed_level_counts(paired, compressed)
    if dense_seeds is not None and compressed_seeds is not None:
        return stats.chi2_unpaired_p(*dense_seeds, *compressed_seeds)
    n = table.n
    return stats.chi2_unpaired_p(
        table.both + table.first_only, n, table.both + table.second_only, n
    )


def _min_detectable(variance: float | None, n: int, alpha: float, power: float) -> float | None:
    """Smallest |h| a paired Wald test on h with this variance detects at n items:
    (z_{1-alpha/2} + z_power) * sqrt(variance), computed as statsmodels' two-sample value
    at n per group (whose variance is 2 / n) scaled by sqrt(variance / (2 / n))."""
    unpaired = stats.min_detectable_h_unpaired(n, alpha, power)
    if variance is None or unpaired is None:
        return None
    return unpaired * math.sqrt(variance / (2.0 / n))


def compare_category(
    category: str,
    items: Sequence[BBQItem],
    dense: Mapping[str, Answer],
    compressed: Mapping[str, Answer],
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    confidence: float = 0.95,
    ci_method: CIMethod = "delta",
    seed: int = 0,
) -> Comparison:
    """Compare the two models on the items of ``category`` found in ``items`` (other
    categories are ignored). Every item of the category needs an answer from both."""
    own = [item for item in items if item.category == category]
    dense_metrics = compute_metrics(own, dense, category)
    compressed_metrics = compute_metrics(own, compressed, category)
    paired: list[BBQItem] = []
    kinds: list[tuple[AnswerKind, AnswerKind]] = []
    for item in own:
        if not item.is_ambiguous:
            continue
        before = answer_kind(item, dense[item.key].choice)
        after = answer_kind(item, compressed[item.key].choice)
        if before is not None and after is not None:
            paired.append(item)
            kinds.append((before, after))
    transitions = transition_table(kinds)
    table = transitions.biased_table()
    dense_hard = [1.0 if before == "biased" else 0.0 for before, _ in kinds]
    compressed_hard = [1.0 if after == "biased" else 0.0 for _, after in kinds]

    soft_pairs = _soft_pairs(own, dense, compressed)
    dense_soft = [p for p, _ in soft_pairs]
    compressed_soft = [q for _, q in soft_pairs]
    expected_dense = _mean_or_none(dense_soft)
    expected_compressed = _mean_or_none(compressed_soft)

    dense_not_biased = table.second_only + table.neither
    dense_biased = table.both + table.first_only
    return Comparison(
        category=category,
        n=table.n,
        srs_dense=table.p_first,
        srs_compressed=table.p_second,
        transitions=transitions,
        new_bias_rate=_ratio(table.second_only, dense_not_biased),
        n_new_bias=dense_not_biased,
        bias_removed_rate=_ratio(table.first_only, dense_biased),
        n_bias_removed=dense_biased,
        cohens_h=_h(table.p_first, table.p_second),
        h_ci=HARD_CI[ci_method](dense_hard, compressed_hard, confidence, seed) if kinds else None,
        p_value=stats.mcnemar_midp(table.first_only, table.second_only) if kinds else None,
        p_value_exact=stats.mcnemar_exact_p(table.first_only, table.second_only) if kinds else None,
        p_chi2_unpaired=_study_chi2(paired, dense, compressed, table) if kinds else None,
        n_expected=len(soft_pairs),
        expected_srs_dense=expected_dense,
        expected_srs_compressed=expected_compressed,
        expected_h=_h(expected_dense, expected_compressed),
        expected_h_ci=SOFT_CI[ci_method](dense_soft, compressed_soft, confidence, seed)
        if soft_pairs
        else None,
        expected_p_value=stats.paired_t_p(dense_soft, compressed_soft),
        expected_min_detectable_h=_min_detectable(
            stats.paired_mean_h_variance(dense_soft, compressed_soft),
            len(soft_pairs),
            alpha,
            power,
        ),
        min_detectable_h=_min_detectable(stats.paired_h_variance(table), table.n, alpha, power),
        min_detectable_h_unpaired=stats.min_detectable_h_unpaired(table.n, alpha, power),
        alpha=alpha,
        power=power,
        confidence=confidence,
        ci_method=ci_method,
        dense=dense_metrics,
        compressed=compressed_metrics,
        dense_seed_noise=_noise_if_both_seeded(own, dense, compressed),
    )


def _soft_pairs(
    items: Sequence[BBQItem], dense: Mapping[str, Answer], compressed: Mapping[str, Answer]
) -> list[tuple[float, float]]:
    pairs = []
    for item in items:
        if not item.is_ambiguous:
            continue
        p = biased_probability(item, dense[item.key])
        q = biased_probability(item, compressed[item.key])
        if p is not None and q is not None:
            pairs.append((p, q))
    return pairs


def _mean_or_none(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _noise_if_both_seeded(
    items: Sequence[BBQItem], dense: Mapping[str, Answer], compressed: Mapping[str, Answer]
) -> SeedNoise | None:
    if seed_noise(items, compressed) is None:
        return None
    return seed_noise(items, dense)


def compare_all(
    items: Sequence[BBQItem],
    dense: Mapping[str, Answer],
    compressed: Mapping[str, Answer],
    categories: Sequence[str] | None = None,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    confidence: float = 0.95,
    ci_method: CIMethod = "delta",
    seed: int = 0,
) -> list[Comparison]:
    """:func:`compare_category` for each of ``categories`` (default: every category in
    ``items``, in order of first appearance), with the same options."""
    names = (
        list(categories)
        if categories is not None
        else list(dict.fromkeys(item.category for item in items))
    )
    return [
        compare_category(
            name,
            items,
            dense,
            compressed,
            alpha=alpha,
            power=power,
            confidence=confidence,
            ci_method=ci_method,
            seed=seed,
        )
        for name in names
    ]


def attach_adjusted_pvalues(
    comparisons: Sequence[Comparison], method: stats.Correction
) -> list[Comparison]:
    """Copies of ``comparisons`` with ``p_adjusted`` (from ``p_value``) and
    ``expected_p_adjusted`` (from ``expected_p_value``) adjusted over the whole list, the
    family the caller chose (e.g. every category x compression of one gate run). ``None``
    p-values stay ``None`` and are left out of the family."""
    hard = stats.adjust_pvalues([c.p_value for c in comparisons], method)
    soft = stats.adjust_pvalues([c.expected_p_value for c in comparisons], method)
    return [
        replace(c, p_adjusted=p, expected_p_adjusted=q, correction=method)
        for c, p, q in zip(comparisons, hard, soft, strict=True)
    ]
