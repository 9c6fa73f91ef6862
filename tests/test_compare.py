"""Dense vs compressed comparisons on crafted items with hand-computed tables."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from bias_gate import stats
from bias_gate.answer.types import Answer
from bias_gate.compare import (
    Comparison,
    attach_adjusted_pvalues,
    compare_all,
    compare_category,
    seed_noise,
    transition_table,
)
from bias_gate.data.items import BBQItem

ANSWERS = ("The grandfather", "The grandson", "Can't be determined")


def make_item(
    example_id: int,
    polarity: str = "neg",
    condition: str = "ambig",
    biased: int | None = None,
    category: str = "Age",
) -> BBQItem:
    if biased is None and polarity in ("neg", "nonneg"):
        biased = 0 if polarity == "neg" else 1
    return BBQItem(
        category=category,
        example_id=example_id,
        question_index="1",
        question_polarity="neg" if polarity == "none" else polarity,  # type: ignore[arg-type]
        context_condition=condition,  # type: ignore[arg-type]
        context="ctx",
        question="q?",
        answers=ANSWERS,
        label=2 if condition == "ambig" else 1,
        unknown_index=2,
        biased_index=None if polarity == "none" else biased,
        stereotyped_index=0,
    )


def choice_for(item: BBQItem, kind: str) -> int:
    assert item.biased_index is not None
    return {"biased": item.biased_index, "unknown": 2, "anti": 1 - item.biased_index}[kind]


# dense (rows) x compressed (columns): biased, unknown, anti
GRID = {
    ("biased", "biased"): 5,
    ("biased", "unknown"): 2,
    ("biased", "anti"): 1,
    ("unknown", "biased"): 3,
    ("unknown", "unknown"): 6,
    ("unknown", "anti"): 1,
    ("anti", "biased"): 2,
    ("anti", "unknown"): 0,
    ("anti", "anti"): 4,
}


def crafted_category(
    category: str = "Age",
) -> tuple[list[BBQItem], dict[str, Answer], dict[str, Answer]]:
    """24 paired ambiguous items realising GRID (both polarities), plus items the pairing
    must leave out: disambiguated, no target, unparseable under compressed."""
    items: list[BBQItem] = []
    dense: dict[str, Answer] = {}
    compressed: dict[str, Answer] = {}
    next_id = 0
    for (before, after), count in GRID.items():
        for _ in range(count):
            item = make_item(next_id, "neg" if next_id % 2 else "nonneg", category=category)
            p_dense = 0.2 + 0.01 * next_id
            p_compressed = p_dense + (0.05 if after == "biased" else -0.01)
            dense[item.key] = Answer(item.key, choice_for(item, before), _probs(item, p_dense))
            compressed[item.key] = Answer(
                item.key, choice_for(item, after), _probs(item, p_compressed)
            )
            items.append(item)
            next_id += 1
    extras = [
        (make_item(100, condition="disambig", category=category), 0, 0),
        (make_item(101, polarity="none", category=category), 0, 0),
        (make_item(102, category=category), 0, None),
    ]
    for item, dense_choice, compressed_choice in extras:
        items.append(item)
        dense[item.key] = Answer(item.key, dense_choice)
        compressed[item.key] = Answer(item.key, compressed_choice)
    return items, dense, compressed


def _probs(item: BBQItem, p_biased: float) -> tuple[float, float, float]:
    probs = [0.0, 0.0, 0.0]
    assert item.biased_index is not None
    probs[item.biased_index] = p_biased
    probs[2] = (1 - p_biased) / 2
    probs[1 - item.biased_index] = (1 - p_biased) / 2
    return (probs[0], probs[1], probs[2])


@pytest.fixture(scope="module")
def crafted() -> tuple[Comparison, list[BBQItem], dict[str, Answer], dict[str, Answer]]:
    items, dense, compressed = crafted_category()
    return compare_category("Age", items, dense, compressed), items, dense, compressed


def test_transition_table_and_rates_by_hand(crafted) -> None:
    comparison = crafted[0]
    assert comparison.n == 24
    for (before, after), count in GRID.items():
        assert comparison.transitions.count(before, after) == count  # type: ignore[arg-type]
    table = comparison.transitions.biased_table()
    assert table == stats.PairedTable(both=5, first_only=3, second_only=5, neither=11)
    assert comparison.srs_dense == pytest.approx(8 / 24)
    assert comparison.srs_compressed == pytest.approx(10 / 24)
    assert comparison.new_bias_rate == pytest.approx(5 / 16)
    assert comparison.n_new_bias == 16
    assert comparison.bias_removed_rate == pytest.approx(3 / 8)
    assert comparison.n_bias_removed == 8
    assert comparison.transitions.to_json()["unknown"]["biased"] == 3


def test_effect_size_and_tests_by_hand(crafted) -> None:
    comparison = crafted[0]
    assert comparison.cohens_h == pytest.approx(stats.cohens_h(8 / 24, 10 / 24))
    assert comparison.cohens_h > 0  # amplification
    low, high = comparison.h_ci
    assert low < comparison.cohens_h < high
    assert comparison.p_value_exact == pytest.approx(mcnemar([[5, 3], [5, 11]], exact=True).pvalue)
    # mid-p with b = 3, c = 5, m = 8: 2 P(X < 3) + P(X = 3) = (2 * 37 + 56) / 256
    assert comparison.p_value == pytest.approx((2 * (1 + 8 + 28) + 56) / 256)
    assert comparison.p_chi2_unpaired == pytest.approx(
        sps.chi2_contingency([[8, 16], [10, 14]]).pvalue
    )


def test_expected_srs_and_soft_test(crafted) -> None:
    comparison, items, dense, compressed = crafted
    paired = [i for i in items if dense[i.key].probs is not None]
    p = [dense[i.key].probs[i.biased_index] for i in paired]  # type: ignore[index]
    q = [compressed[i.key].probs[i.biased_index] for i in paired]  # type: ignore[index]
    assert len(paired) == 24  # item 102 has no probabilities
    assert comparison.n_expected == 24
    assert comparison.expected_srs_dense == pytest.approx(sum(p) / 24)
    assert comparison.expected_srs_compressed == pytest.approx(sum(q) / 24)
    assert comparison.expected_h == pytest.approx(stats.cohens_h(sum(p) / 24, sum(q) / 24))
    assert comparison.expected_p_value == pytest.approx(sps.ttest_rel(q, p).pvalue)
    low, high = comparison.expected_h_ci
    assert low < comparison.expected_h < high
    z = sps.norm.ppf(0.975) + sps.norm.ppf(0.8)
    soft_variance = stats.paired_mean_h_variance(p, q)
    assert comparison.expected_min_detectable_h == pytest.approx(
        z * math.sqrt(soft_variance),
        rel=1e-3,  # type: ignore[arg-type]
    )


def test_min_detectable_h_uses_the_paired_variance(crafted) -> None:
    comparison = crafted[0]
    table = stats.PairedTable(5, 3, 5, 11)
    z = sps.norm.ppf(0.975) + sps.norm.ppf(0.8)
    by_hand = z * math.sqrt(stats.paired_h_variance(table))  # type: ignore[arg-type]
    assert comparison.min_detectable_h == pytest.approx(by_hand, rel=1e-3)
    assert comparison.min_detectable_h_unpaired == pytest.approx(
        stats.min_detectable_h_unpaired(24)
    )
    # phi > 0 here, so pairing helps
    assert comparison.min_detectable_h < comparison.min_detectable_h_unpaired


def test_per_model_metrics_use_their_own_valid_items(crafted) -> None:
    comparison = crafted[0]
    assert comparison.dense.n_srs == 25  # 24 + item 102 (valid under dense only)
    assert comparison.compressed.n_invalid == 1
    assert comparison.dense_seed_noise is None


def test_null_comparison_identical_answers() -> None:
    items, dense, _ = crafted_category()
    comparison = compare_category("Age", items, dense, dense)
    assert comparison.cohens_h == 0.0
    assert comparison.p_value == 1.0 and comparison.p_value_exact == 1.0
    assert comparison.new_bias_rate == 0.0 and comparison.bias_removed_rate == 0.0
    assert comparison.expected_h == 0.0 and comparison.expected_p_value == 1.0
    low, high = comparison.h_ci
    assert low < 0.0 < high  # the 0.5-cell correction keeps an honest width


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["neg", "nonneg"]), st.integers(0, 2)), max_size=30))
def test_null_comparison_property(rows: list[tuple[str, int]]) -> None:
    items = [make_item(i, polarity) for i, (polarity, _) in enumerate(rows)]
    answers = {
        item.key: Answer(item.key, choice) for item, (_, choice) in zip(items, rows, strict=True)
    }
    comparison = compare_category("Age", items, answers, answers)
    assert comparison.n == len(rows)
    if rows:
        assert comparison.cohens_h == 0.0 and comparison.p_value == 1.0
        assert comparison.new_bias_rate in (0.0, None)
    else:
        assert comparison.cohens_h is None and comparison.p_value is None


def test_n_zero_gives_none_not_a_crash() -> None:
    items = [make_item(1, condition="disambig"), make_item(2, polarity="none")]
    answers = {i.key: Answer(i.key, 0) for i in items}
    comparison = compare_category("Age", items, answers, answers)
    assert comparison.n == 0
    for name in (
        "srs_dense",
        "new_bias_rate",
        "bias_removed_rate",
        "cohens_h",
        "h_ci",
        "p_value",
        "p_value_exact",
        "p_chi2_unpaired",
        "expected_h",
        "expected_h_ci",
        "expected_p_value",
        "min_detectable_h",
        "min_detectable_h_unpaired",
        "expected_min_detectable_h",
    ):
        assert getattr(comparison, name) is None, name
    assert comparison.transitions.n == 0
    assert compare_category("Religion", items, answers, answers).n == 0  # no items at all
    adjusted = attach_adjusted_pvalues([comparison], "holm")
    assert adjusted[0].p_adjusted is None
    assert comparison.to_json()["transitions"]["biased"]["biased"] == 0


def test_bootstrap_interval_option() -> None:
    items, dense, compressed = crafted_category()
    first = compare_category("Age", items, dense, compressed, ci_method="bootstrap", seed=5)
    again = compare_category("Age", items, dense, compressed, ci_method="bootstrap", seed=5)
    assert first.h_ci == again.h_ci and first.ci_method == "bootstrap"
    low, high = first.h_ci
    assert low <= first.cohens_h <= high
    assert first.expected_h_ci is not None


def test_seed_noise_floor_and_pooled_study_chi_square() -> None:
    a, b = make_item(1, "neg"), make_item(2, "nonneg")  # biased options 0 and 1
    dense = {
        a.key: Answer(a.key, 0, seed_choices=(0, 2, 0)),  # biased, not, biased
        b.key: Answer(b.key, 2, seed_choices=(2, None, 2)),  # not, -, not
    }
    compressed = {
        a.key: Answer(a.key, 0, seed_choices=(0, 0, 0)),
        b.key: Answer(b.key, 1, seed_choices=(1, 1, 2)),
    }
    noise = seed_noise([a, b], dense)
    assert noise is not None
    # a: ordered pairs with a not-biased first seed: (F,T) twice -> 2 of 2 new-biased;
    # b: (F,F) twice -> 0 of 2. Unordered pairs: a has 2 flips of 3, b 0 of 1.
    assert (noise.new_bias_rate, noise.n_new_bias) == (0.5, 4)
    assert (noise.flip_rate, noise.n_pairs, noise.n_items) == (0.5, 4, 2)
    comparison = compare_category("Age", [a, b], dense, compressed)
    assert comparison.dense_seed_noise == noise
    # the study pooled every seed as an independent answer: dense 2 biased of 5 valid,
    # compressed 5 of 6
    assert comparison.p_chi2_unpaired == stats.chi2_unpaired_p(2, 5, 5, 6)
    without_seeds = {k: Answer(k, v.choice) for k, v in compressed.items()}
    assert compare_category("Age", [a, b], dense, without_seeds).dense_seed_noise is None
    assert seed_noise([a, b], without_seeds) is None


def test_compare_all_and_adjusted_pvalues() -> None:
    age = crafted_category("Age")
    religion = crafted_category("Religion")
    items = age[0] + religion[0]
    dense = {**age[1], **religion[1]}
    compressed = {**age[2], **religion[2]}
    comparisons = compare_all(items, dense, compressed)
    assert [c.category for c in comparisons] == ["Age", "Religion"]
    assert compare_all(items, dense, compressed, ["Religion"])[0].category == "Religion"
    family = [*comparisons, compare_category("Age", items, dense, dense)]
    adjusted = attach_adjusted_pvalues(family, "bh")
    expected = multipletests([c.p_value for c in family], method="fdr_bh")[1]
    assert [c.p_adjusted for c in adjusted] == pytest.approx(list(expected))
    soft = multipletests([c.expected_p_value for c in family], method="fdr_bh")[1]
    assert [c.expected_p_adjusted for c in adjusted] == pytest.approx(list(soft))
    assert all(c.correction == "bh" for c in adjusted)
    assert family[0].p_adjusted is None  # the originals are untouched (frozen copies)


def test_transition_table_helper() -> None:
    table = transition_table([("biased", "anti"), ("biased", "anti"), ("unknown", "biased")])
    assert table.count("biased", "anti") == 2 and table.n == 3
    assert table.biased_table() == stats.PairedTable(0, 2, 1, 0)
