"""The validity check's three promises, checked by simulation through the project's own
diagnostics (``validity`` then ``Validity.judge``) on crafted answers: a model at chance
is called valid at most alpha of the time, a model at ``min_accuracy`` not valid at most
alpha, and the number of items the check names shows validity with the planned power."""

from __future__ import annotations

import numpy as np
import pytest

from bias_gate.answer.types import Answer
from bias_gate.data.items import BBQItem
from bias_gate.judge.thresholds import ValidityThresholds
from bias_gate.judge.validity import validity
from bias_gate.judge.validity_status import CHANCE, items_to_show_validity

LIMITS = ValidityThresholds()  # alpha_v 0.05, min_accuracy 0.45
POWER = 0.8


def _items(n: int) -> list[BBQItem]:
    return [
        BBQItem(
            category="Age",
            example_id=i,
            question_index="1",
            question_polarity="neg",
            context_condition="disambig",
            context="c",
            question="q",
            answers=("a", "b", "unknown"),
            label=i % 2,
            unknown_index=2,
            biased_index=0,
            stereotyped_index=0,
        )
        for i in range(n)
    ]


def _states(n: int, accuracy: float, reps: int, seed: int) -> dict[str, float]:
    """Share of replicates per state: answers right with probability ``accuracy``, else
    one of the two wrong options, judged by the gate's own code."""
    rng = np.random.default_rng(seed)
    items = _items(n)
    counts = {"valid": 0, "too_few": 0, "not_valid": 0}
    for _ in range(reps):
        right = rng.random(n) < accuracy
        wrong = rng.integers(1, 3, n)
        answers = {
            item.key: Answer(
                item.key,
                item.label if ok else (item.label + int(w)) % 3,
                position_votes=(int(rng.integers(0, 3)),),
                mode="continuation",
            )
            for item, ok, w in zip(items, right, wrong, strict=True)
        }
        verdict = validity(items, answers).judge(
            LIMITS.model_copy(update={"max_letter_share": 1.0}), POWER
        )
        counts[verdict.state] += 1
    return {state: count / reps for state, count in counts.items()}


def _mc(p: float, reps: int) -> float:
    return 3 * (p * (1 - p) / reps) ** 0.5


REPS = 2000


@pytest.mark.parametrize("n", [12, 24, 60, 121])
def test_a_model_at_chance_is_called_valid_at_most_alpha(n):
    shares = _states(n, CHANCE, REPS, seed=n)
    assert shares["valid"] <= 0.05 + _mc(0.05, REPS)


@pytest.mark.parametrize("n", [12, 24, 60, 121, 300])
def test_a_model_at_min_accuracy_is_called_not_valid_at_most_alpha(n):
    shares = _states(n, LIMITS.min_accuracy, REPS, seed=1000 + n)
    assert shares["not_valid"] <= 0.05 + _mc(0.05, REPS)


def test_the_items_named_show_validity_with_the_planned_power():
    """ "n items cannot show validity; about m would": at m a model at min_accuracy is
    shown valid with probability >= power, and at 24 items it is not."""
    m = items_to_show_validity(LIMITS.min_accuracy, LIMITS.max_disambig_pvalue, POWER)
    assert m is not None
    at_m = _states(m, LIMITS.min_accuracy, REPS, seed=7)
    assert at_m["valid"] >= POWER - _mc(POWER, REPS)
    few = _states(24, LIMITS.min_accuracy, REPS, seed=8)
    assert few["valid"] < 0.5 and few["too_few"] > 0.5
