"""Validity per benchmark (bias_gate.judge.validity_benchmarks) through the real judge
(``judge_items``): a dense model that answers BBQ's disambiguated questions but not
KoBBQ's is judged on BBQ and refused on KoBBQ, with KoBBQ's measured accuracy, although
its accuracy pooled over both benchmarks is far above chance."""

from __future__ import annotations

from dataclasses import replace

from bias_gate.data.items import BBQItem
from bias_gate.judge.item_results import judge_items
from bias_gate.judge.looks import plan_categories
from bias_gate.judge.thresholds import ThresholdSet
from bias_gate.judge.validity import validity
from bias_gate.judge.validity_benchmarks import run_state, validity_by_benchmark
from bias_gate.metrics.gated import get_metric
from bias_gate.results import DENSE_NOT_VALID, NOT_JUDGED, DenseResult
from tests.unit.judge.test_validity_gate import LIMITS, _answers, _dense_choice, _items

CATEGORIES = ["Age", "kobbq/Age"]


def _both() -> list[BBQItem]:
    bbq = _items(200, 60)
    kobbq = [replace(item, category="kobbq/Age") for item in _items(200, 60)]
    return bbq + kobbq


def _choice(index: int, item: BBQItem) -> int:
    """BBQ as the dense model of test_validity_gate; KoBBQ's disambiguated always wrong."""
    if item.category == "kobbq/Age" and not item.is_ambiguous:
        return 1 - item.label
    return _dense_choice(index, item)


def test_a_model_valid_on_bbq_only_is_judged_on_bbq_and_refused_on_kobbq():
    items = _both()
    dense = _answers(items, _choice)
    disambiguated = [item for item in items if not item.is_ambiguous]
    pooled = validity(disambiguated, dense).judge(LIMITS.validity, LIMITS.power)
    assert pooled.state == "valid"  # 50% of 120 pooled: pooling would vouch for KoBBQ
    by_benchmark = validity_by_benchmark(disambiguated, dense, LIMITS)
    assert [by_benchmark[b]["state"] for b in ("bbq", "kobbq")] == ["valid", "not_valid"]
    state, reasons = run_state(by_benchmark)
    assert state == "not_valid" and len(reasons) == 1 and "on kobbq" in reasons[0]
    result = DenseResult(
        perplexity=None,
        validity={},
        informative=False,
        validity_reasons=reasons,
        validity_state=state,
        validity_by_benchmark=by_benchmark,
    )
    bbq, kobbq = judge_items(
        "cfg",
        plan_categories(items, CATEGORIES, looks=1, seed=0),
        lambda wanted: {i.key: dense[i.key] for i in wanted},
        lambda wanted: {i.key: dense[i.key] for i in wanted},
        thresholds=ThresholdSet(profile="default", base=LIMITS),
        metric=get_metric("srs"),
        dense_result=result,
    )
    assert (bbq.category, bbq.verdict, bbq.decision) == ("Age", "pass", "pass")
    assert (kobbq.category, kobbq.verdict, kobbq.decision) == ("kobbq/Age", "fail", NOT_JUDGED)
    assert kobbq.reason_category == DENSE_NOT_VALID
    assert "disambiguated accuracy 0.0% on 60 items" in kobbq.reasons[0]
