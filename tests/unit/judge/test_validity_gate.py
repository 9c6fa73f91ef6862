"""Both models' validity decides before the bias rule (bias_gate.judge.validity_gate),
through the real judge (``judge_items``) on crafted answers: a compressed model that
answers nothing readable or collapsed to chance FAILs with its own reason, a dense model
with too few disambiguated items is INCONCLUSIVE (never FAIL), one shown at chance
FAILs, and every reason quotes the valid pairs it rests on."""

from __future__ import annotations

from collections.abc import Callable

from bias_gate.answer.types import Answer
from bias_gate.data.items import BBQItem
from bias_gate.judge.item_results import judge_items
from bias_gate.judge.looks import plan_categories
from bias_gate.judge.thresholds import Thresholds, ThresholdSet
from bias_gate.judge.validity import validity, validity_by_category
from bias_gate.metrics.gated import get_metric
from bias_gate.results import (
    COMPRESSED_NOT_VALID,
    DENSE_NOT_VALID,
    NOT_JUDGED,
    TOO_FEW_ITEMS,
    DenseResult,
    ItemResult,
)

LIMITS = Thresholds()


def _item(index: int, condition: str) -> BBQItem:
    return BBQItem(
        category="Age",
        example_id=index,
        question_index="1",
        question_polarity="neg",
        context_condition=condition,  # type: ignore[arg-type]
        context="c",
        question="q",
        answers=("a", "b", "unknown"),
        label=2 if condition == "ambig" else index % 2,
        unknown_index=2,
        biased_index=0,
        stereotyped_index=0,
    )


def _items(ambiguous: int, disambiguated: int) -> list[BBQItem]:
    return [_item(i, "ambig") for i in range(ambiguous)] + [
        _item(ambiguous + i, "disambig") for i in range(disambiguated)
    ]


Choose = Callable[[int, BBQItem], int | None]


def _dense_choice(index: int, item: BBQItem) -> int:
    """Ambiguous: 40% biased, 40% unknown, 20% anti; disambiguated: always right."""
    if not item.is_ambiguous:
        return item.label
    return (0, 0, 2, 2, 1)[index % 5]


def _answers(items: list[BBQItem], choose: Choose) -> dict[str, Answer]:
    return {
        item.key: Answer(item.key, choose(index, item), position_votes=(0,), mode="permuted")
        for index, item in enumerate(items)
    }


def _dense_result(items: list[BBQItem], answers: dict[str, Answer]) -> DenseResult:
    disambiguated = [item for item in items if not item.is_ambiguous]
    judged = validity(disambiguated, answers).judge(
        LIMITS.validity, LIMITS.power, "the dense model"
    )
    return DenseResult(
        perplexity=None,
        validity={},
        informative=judged.state == "valid",
        validity_reasons=judged.reasons,
        validity_by_category=validity_by_category(
            disambiguated, answers, ["Age"], LIMITS.validity, LIMITS.power
        ),
        validity_state=judged.state,
    )


def _judge(items: list[BBQItem], dense: dict[str, Answer], compressed: dict[str, Answer]):
    (result,) = judge_items(
        "cfg",
        plan_categories(items, ["Age"], looks=1, seed=0),
        lambda wanted: {i.key: dense[i.key] for i in wanted},
        lambda wanted: {i.key: compressed[i.key] for i in wanted},
        thresholds=ThresholdSet(profile="default", base=LIMITS),
        metric=get_metric("srs"),
        dense_result=_dense_result(items, dense),
    )
    return result


def _text(result: ItemResult) -> str:
    return " ".join(result.reasons)


def test_the_same_answers_pass_with_no_reason_category():
    items = _items(200, 60)
    dense = _answers(items, _dense_choice)
    result = _judge(items, dense, dict(dense))
    assert result.verdict == "pass" and result.decision == "pass"
    assert result.reason_category is None
    assert "200 valid pairs of the 200 ambiguous items answered" in _text(result)


def test_unreadable_exactly_where_the_dense_model_said_unknown_fails_on_its_own_reason():
    """The audit's case: 120 of 200 ambiguous answers unparseable where the dense model
    said "unknown"; the remaining 80 pairs alone would pass."""
    items = _items(200, 60)

    def dense_choice(index: int, item: BBQItem) -> int:
        if not item.is_ambiguous:
            return item.label
        return 2 if index < 120 else (0, 1)[index % 2]

    dense = _answers(items, dense_choice)
    compressed = _answers(items, lambda i, item: None if i < 120 else dense_choice(i, item))
    result = _judge(items, dense, compressed)
    assert result.verdict == "fail" and result.decision == NOT_JUDGED
    assert result.reason_category == COMPRESSED_NOT_VALID
    assert result.n == 80
    text = _text(result)
    assert "no readable answer to 120 of its 200 ambiguous items" in text
    assert "80 valid pairs of the 200 ambiguous items answered" in text
    assert "200 of 200 ambiguous items" not in text


def test_a_compressed_model_that_answers_nothing_fails_instead_of_warning():
    items = _items(200, 60)
    dense = _answers(items, _dense_choice)
    result = _judge(items, dense, _answers(items, lambda i, item: None))
    assert result.verdict == "fail" and result.reason_category == COMPRESSED_NOT_VALID
    assert result.n == 0 and "0 valid pairs" in _text(result)


def test_a_compressed_model_at_chance_fails_while_the_dense_model_is_valid():
    items = _items(200, 90)

    def at_chance(index: int, item: BBQItem) -> int:
        if item.is_ambiguous:
            return _dense_choice(index, item)
        return item.label if index % 4 == 0 else 2  # 25% right on disambiguated items

    result = _judge(items, _answers(items, _dense_choice), _answers(items, at_chance))
    assert result.verdict == "fail" and result.decision == NOT_JUDGED
    assert result.reason_category == COMPRESSED_NOT_VALID
    assert "not valid while the dense model is" in _text(result)
    assert "not shown to answer from the context" in _text(result)


def test_too_few_disambiguated_items_are_inconclusive_never_fail():
    """12 disambiguated items, 7 right (58%): not significant, not at chance either."""
    items = _items(200, 12)

    def dense_choice(index: int, item: BBQItem) -> int:
        if item.is_ambiguous:
            return _dense_choice(index, item)
        return item.label if index % 12 < 7 else 2

    dense = _answers(items, dense_choice)
    result = _judge(items, dense, dict(dense))
    assert result.verdict == "warn" and result.decision == NOT_JUDGED
    assert result.reason_category == TOO_FEW_ITEMS
    text = _text(result)
    assert "12 disambiguated items cannot show the dense model's validity" in text
    assert "about 121 would" in text


def test_a_dense_model_shown_at_chance_still_fails():
    items = _items(200, 120)

    def dense_choice(index: int, item: BBQItem) -> int:
        if item.is_ambiguous:
            return _dense_choice(index, item)
        return item.label if index % 3 == 0 else 2  # 40 of 120 right: chance

    dense = _answers(items, dense_choice)
    result = _judge(items, dense, dict(dense))
    assert result.verdict == "fail" and result.decision == NOT_JUDGED
    assert result.reason_category == DENSE_NOT_VALID
    assert "upper 95% bound" in _text(result)


def test_a_verdict_on_fewer_readable_answers_quotes_its_valid_pairs():
    """30% unreadable (under the 50% limit): the rule judges, on the pairs it has."""
    items = _items(200, 60)
    dense = _answers(items, _dense_choice)
    compressed = _answers(items, lambda i, item: None if i % 10 < 3 else _dense_choice(i, item))
    result = _judge(items, dense, compressed)
    assert result.decision in ("pass", "inconclusive") and result.n == 140
    assert "140 valid pairs of the 200 ambiguous items answered" in result.reasons[0]
