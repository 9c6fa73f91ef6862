"""The results JSON schema (bias_gate.results_schema) accepts every value the gate writes."""

from __future__ import annotations

from typing import get_args

from bias_gate.judge.validity_status import ValidityState
from bias_gate.results import NOT_JUDGED, REASON_CATEGORIES
from bias_gate.results_schema import DenseSchema, ItemSchema, ReasonCategory


def test_the_schema_knows_every_reason_category_decision_and_validity_state():
    assert set(get_args(ReasonCategory)) == set(REASON_CATEGORIES)
    decisions = get_args(ItemSchema.model_fields["decision"].annotation)
    assert NOT_JUDGED in decisions
    states = set(get_args(get_args(DenseSchema.model_fields["validity_state"].annotation)[0]))
    assert states == set(get_args(ValidityState))
