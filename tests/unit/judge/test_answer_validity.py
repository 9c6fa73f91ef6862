"""Validity diagnostics: accuracy vs chance, letter-position habit, rates, verdicts."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from bias_gate.answer.types import Answer
from bias_gate.data.bbq import parse_lines
from bias_gate.judge.thresholds import ValidityThresholds
from bias_gate.judge.validity import binomial_pvalue_above_chance, position_shares, validity


@pytest.fixture(scope="module")
def items(bbq_dir: Path):
    lines = (bbq_dir / "Age.jsonl").read_text(encoding="utf-8").splitlines()
    return parse_lines(lines[:120], "Age.jsonl")  # 60 ambiguous, 60 disambiguated


def _hand_pvalue(k: int, n: int) -> float:
    return sum(math.comb(n, j) * (1 / 3) ** j * (2 / 3) ** (n - j) for j in range(k, n + 1))


@pytest.mark.parametrize(("k", "n"), [(0, 10), (4, 10), (30, 60), (20, 60), (60, 60)])
def test_binomial_pvalue_matches_hand_computation(k, n):
    assert binomial_pvalue_above_chance(k, n) == pytest.approx(_hand_pvalue(k, n), rel=1e-9)
    assert binomial_pvalue_above_chance(0, 0) == 1.0


def _answers(items, choose, votes=lambda item: (), mode="letter"):
    return {
        item.key: Answer(item.key, choose(item), position_votes=votes(item), mode=mode)
        for item in items
    }


def test_a_model_that_reads_the_context_is_informative(items):
    # Right on every disambiguated item, unknown on every ambiguous one; letters spread.
    answers = _answers(
        items, lambda i: i.label if not i.is_ambiguous else i.unknown_index, lambda i: (i.label,)
    )
    v = validity(items, answers)
    assert v.disambig_n == 60 and v.disambig_correct == 60
    assert v.disambig_accuracy == 1.0
    assert v.disambig_pvalue == pytest.approx((1 / 3) ** 60)
    assert v.unknown_rate_ambig == 1.0
    assert v.invalid_rate == 0.0 and v.parse_failure_rate is None
    assert sum(v.letter_share) == pytest.approx(1.0)
    informative, reasons = v.assess(ValidityThresholds())
    assert informative and reasons == []


def test_a_model_at_chance_is_uninformative(items):
    disambig = [i for i in items if not i.is_ambiguous]
    right = {i.key for i in disambig[:20]}  # 20 of 60 = exactly chance
    answers = _answers(
        items,
        lambda i: i.label if i.key in right else (i.label + 1) % 3,
        lambda i: (i.example_id % 3,),
    )
    v = validity(items, answers)
    assert v.disambig_accuracy == pytest.approx(1 / 3)
    assert v.disambig_pvalue == pytest.approx(_hand_pvalue(20, 60))
    informative, reasons = v.assess(ValidityThresholds())
    assert not informative
    assert len(reasons) == 1
    assert "not significantly above chance" in reasons[0]
    assert "33.3%" in reasons[0] and "60 items" in reasons[0]


def test_one_letter_regardless_of_content_is_uninformative_in_letter_mode(items):
    answers = _answers(items, lambda i: i.label, lambda i: (1,), mode="letter")
    v = validity(items, answers)
    assert v.letter_share == (0.0, 1.0, 0.0) and v.max_letter_share == 1.0
    informative, reasons = v.assess(ValidityThresholds(max_letter_share=0.9))
    assert not informative
    assert any("letter position" in r and "B wins 100.0%" in r for r in reasons)


def test_letter_habit_does_not_disqualify_permuted_mode(items):
    # SmolLM2's pattern: B wins every rotation, but the averaged choice reads the context.
    answers = _answers(items, lambda i: i.label, lambda i: (1, 1, 1), mode="permuted")
    v = validity(items, answers)
    assert v.position_balanced and v.max_letter_share == 1.0 and v.letter_votes == 360
    informative, reasons = v.assess(ValidityThresholds())
    assert informative, reasons
    assert any("B wins 100.0%" in note for note in v.notes())


def test_unparseable_generations_are_counted_not_guessed(items):
    answers = {
        item.key: Answer(
            item.key,
            item.label if (n // 2) % 2 else None,
            seed_choices=(item.label, None) if (n // 2) % 2 else (None, None),
            mode="generate",
        )
        for n, item in enumerate(items)
    }
    v = validity(items, answers)
    assert v.generations == 240 and v.parse_failures == 180
    assert v.parse_failure_rate == pytest.approx(0.75)
    assert v.invalid_items == 60 and v.invalid_rate == pytest.approx(0.5)
    # Invalid disambiguated answers count as not correct.
    assert v.disambig_correct == 30
    assert "could not be read" in " ".join(v.notes())


def test_no_disambiguated_items_cannot_be_verified(items):
    ambiguous = [i for i in items if i.is_ambiguous]
    v = validity(ambiguous, _answers(ambiguous, lambda i: i.unknown_index, lambda i: (2,)))
    informative, reasons = v.assess(ValidityThresholds(max_letter_share=1.0))
    assert not informative
    assert "no disambiguated items" in reasons[0]


def test_position_shares_counts_every_vote():
    shares, n = position_shares(
        [Answer("a", 0, position_votes=(0, 1, 1)), Answer("b", 1, position_votes=(2,))]
    )
    assert n == 4 and shares == (0.25, 0.5, 0.25)
    assert position_shares([]) == ((0.0, 0.0, 0.0), 0)


def test_note_when_only_a_coin_flip_between_people_beats_chance():
    """Never answering 'unknown' and guessing between the two people gives 50% on
    disambiguated items: above the 1/3 line, and the note says so."""
    from bias_gate.answer.types import Answer
    from bias_gate.data.items import BBQItem
    from bias_gate.judge.validity import validity

    items = [
        BBQItem(
            "Age",
            i,
            "1",
            "neg",
            "disambig",
            "c",
            "q",
            ("a", "b", "unknown"),
            label=i % 2,
            unknown_index=2,
            biased_index=0,
            stereotyped_index=0,
        )
        for i in range(60)
    ]
    answers = {item.key: Answer(item.key, choice=0, mode="continuation") for item in items}
    diagnostics = validity(items, answers)
    assert diagnostics.disambig_named_person == 60
    assert diagnostics.disambig_accuracy == 0.5
    (note,) = [n for n in diagnostics.notes() if "content-blind" in n]
    assert "right 50.0% of those" in note


def test_each_category_is_checked_on_its_own(bbq_dir: Path):
    """The run can be informative while one category is at chance: that category alone
    is not judged for bias."""
    from bias_gate.judge.validity import validity_by_category

    age = parse_lines((bbq_dir / "Age.jsonl").read_text().splitlines()[:120], "Age.jsonl")
    religion = parse_lines(
        (bbq_dir / "Religion.jsonl").read_text().splitlines()[:120], "Religion.jsonl"
    )
    disambiguated = [i for i in age + religion if not i.is_ambiguous]
    answers = _answers(disambiguated, lambda item: item.label if item.category == "Age" else 2)
    answers.update(
        _answers(
            [i for i in religion if not i.is_ambiguous and i.label == 2], lambda item: 0
        )  # never right on Religion
    )
    by_category = validity_by_category(
        disambiguated, answers, ["Age", "Religion"], ValidityThresholds()
    )
    assert by_category["Age"]["informative"] is True and by_category["Age"]["reasons"] == []
    assert by_category["Religion"]["informative"] is False
    assert "on Religion: the dense model is not shown" in by_category["Religion"]["reasons"][0]
    assert validity(disambiguated, answers).assess(ValidityThresholds())[0] is True
