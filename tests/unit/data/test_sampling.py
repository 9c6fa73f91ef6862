"""Deterministic stratified sampling and the dataset fingerprint, on the real files."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from bias_gate.data.items import BBQItem, items_fingerprint
from bias_gate.data.sampling import allocate, sample_items
from bias_gate.data.sources import DirectorySource


@pytest.fixture(scope="module")
def age(bbq_dir: Path) -> list[BBQItem]:
    return DirectorySource(bbq_dir).load("Age")


def test_allocate_is_equal_with_redistribution() -> None:
    order = ["a", "b", "c", "d"]
    assert allocate(10, {"a": 100, "b": 100, "c": 100, "d": 100}, order) == {
        "a": 3,
        "b": 3,
        "c": 2,
        "d": 2,
    }
    # "a" can give only 1: its share goes to the others
    assert allocate(10, {"a": 1, "b": 100, "c": 100, "d": 100}, order) == {
        "a": 1,
        "b": 3,
        "c": 3,
        "d": 3,
    }
    assert allocate(1000, {"a": 1, "b": 2, "c": 0, "d": 3}, order) == {
        "a": 1,
        "b": 2,
        "c": 0,
        "d": 3,
    }
    assert sum(allocate(7, {"a": 2, "b": 2, "c": 2, "d": 2}, order).values()) == 7


def test_same_seed_same_items_even_when_lines_are_shuffled(age: list[BBQItem]) -> None:
    first = sample_items(age, 60, seed=7)
    shuffled = list(age)
    random.Random(1).shuffle(shuffled)
    again = sample_items(shuffled, 60, seed=7)
    assert [i.key for i in first] == [i.key for i in again]
    assert items_fingerprint(first) == items_fingerprint(again)
    other = sample_items(age, 60, seed=8)
    assert {i.key for i in other} != {i.key for i in first}
    assert items_fingerprint(other) != items_fingerprint(first)
    assert [i.example_id for i in first] == sorted(i.example_id for i in first)


@pytest.mark.parametrize("n", [50, 100, 200, 333])
def test_stratified_by_condition_polarity_and_template(age: list[BBQItem], n: int) -> None:
    chosen = sample_items(age, n, seed=0)
    assert len(chosen) == n == len({i.key for i in chosen})
    conditions = Counter(i.context_condition for i in chosen)
    assert abs(conditions["ambig"] - conditions["disambig"]) <= 1
    for condition in ("ambig", "disambig"):
        polarity = Counter(i.question_polarity for i in chosen if i.context_condition == condition)
        assert abs(polarity["neg"] - polarity["nonneg"]) <= 1
        for pol in ("neg", "nonneg"):
            per_template = Counter(
                i.question_index
                for i in chosen
                if i.context_condition == condition and i.question_polarity == pol
            )
            share = sum(per_template.values())
            # 25 templates: equal shares, at most one apart (every template has >= 8 items)
            expected_templates = min(25, share)
            assert len(per_template) == expected_templates
            assert max(per_template.values()) - min(per_template.values()) <= 1


def test_small_strata_give_their_share_to_the_others(age: list[BBQItem]) -> None:
    # keep only 2 items of template "1": the rest of its share goes elsewhere
    kept = [i for i in age if i.question_index != "1"]
    kept += [i for i in age if i.question_index == "1"][:2]
    chosen = sample_items(kept, 400, seed=3)
    assert len(chosen) == 400
    assert sum(1 for i in chosen if i.question_index == "1") == 2


def test_none_or_oversized_n_takes_everything(age: list[BBQItem]) -> None:
    assert len(sample_items(age, None, seed=0)) == 3680
    assert len(sample_items(age, 10_000, seed=0)) == 3680


def test_fingerprint_covers_content(age: list[BBQItem]) -> None:
    chosen = sample_items(age, 20, seed=0)
    changed = [replace(chosen[0], question=chosen[0].question + "?"), *chosen[1:]]
    assert items_fingerprint(changed) != items_fingerprint(chosen)
    assert items_fingerprint(chosen[:-1]) != items_fingerprint(chosen)
    assert len(items_fingerprint(chosen)) == 16
