"""Dense vs compressed on the same BBQ items, paired by item, one category at a time.

The unit is the item: an ambiguous item with an official biased option, answered validly
by both models (with several seeds, ``Answer.choice`` is the per-item majority vote and
``Answer.probs`` the per-item seed shares, see :func:`bias_gate.answer.seeds.majority_vote`).
Every value is ``None`` when its denominator is zero (n = 0 never raises).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from itertools import combinations, permutations

from bias_gate.answer.types import Answer
from bias_gate.data.items import BBQItem
from bias_gate.metrics.bbq import (
    ANSWER_KINDS,
    AnswerKind,
    CategoryMetrics,
    answer_for,
    answer_kind,
    biased_probability,
    compute_metrics,
)
from bias_gate.stats import core as stats


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
    """Dense vs compressed on one category, paired by item (see module docstring): what
    a report shows beside the gated metric's decision (bias_gate.judge.looks).

    - ``n``: ambiguous items with a target answered validly by both; ``srs_dense`` and
      ``srs_compressed`` are the SRS on exactly these items (they may differ from
      ``dense.srs``/``compressed.srs``, which use each model's own valid items);
      ``cohens_h`` = h(srs_compressed) - h(srs_dense).
    - ``transitions``: the 3x3 table; ``new_bias_rate`` = items biased under compressed
      among the ``n_new_bias`` items not biased under dense (the study's headline number);
      ``bias_removed_rate`` = not biased under compressed among the ``n_bias_removed``
      biased under dense.
    - ``p_chi2_unpaired``: the 2026 study's unpaired chi-square (pooled over seeds when
      both have several seeds), for comparison only: it is not a valid test here.
    - ``expected_srs_*``: mean probability of the biased option over the ``n_expected``
      ambiguous items with a target and probabilities under both; ``expected_h`` on them.
    - ``dense``/``compressed``: each model's own metrics; ``dense_seed_noise``: the dense
      model's seed-to-seed flips (generate mode), the floor flip rates are read against.
    """

    category: str
    n: int
    srs_dense: float | None
    srs_compressed: float | None
    cohens_h: float | None
    transitions: TransitionTable
    new_bias_rate: float | None
    n_new_bias: int
    bias_removed_rate: float | None
    n_bias_removed: int
    p_chi2_unpaired: float | None
    n_expected: int
    expected_srs_dense: float | None
    expected_srs_compressed: float | None
    expected_h: float | None
    dense: CategoryMetrics
    compressed: CategoryMetrics
    dense_seed_noise: SeedNoise | None = None

    def to_json(self) -> dict[str, object]:
        """All fields as a JSON-ready mapping (the transition table keyed by kind)."""
        data = asdict(self)
        data["transitions"] = self.transitions.to_json()
        return data


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _h(p1: float | None, p2: float | None) -> float | None:
    return None if p1 is None or p2 is None else stats.cohens_h(p1, p2)


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


def compare_category(
    category: str,
    items: Sequence[BBQItem],
    dense: Mapping[str, Answer],
    compressed: Mapping[str, Answer],
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
    soft_pairs = _soft_pairs(own, dense, compressed)
    expected_dense = _mean_or_none([p for p, _ in soft_pairs])
    expected_compressed = _mean_or_none([q for _, q in soft_pairs])
    dense_not_biased = table.second_only + table.neither
    dense_biased = table.both + table.first_only
    return Comparison(
        category=category,
        n=table.n,
        srs_dense=table.p_first,
        srs_compressed=table.p_second,
        cohens_h=_h(table.p_first, table.p_second),
        transitions=transitions,
        new_bias_rate=_ratio(table.second_only, dense_not_biased),
        n_new_bias=dense_not_biased,
        bias_removed_rate=_ratio(table.first_only, dense_biased),
        n_bias_removed=dense_biased,
        p_chi2_unpaired=_study_chi2(paired, dense, compressed, table) if kinds else None,
        n_expected=len(soft_pairs),
        expected_srs_dense=expected_dense,
        expected_srs_compressed=expected_compressed,
        expected_h=_h(expected_dense, expected_compressed),
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
