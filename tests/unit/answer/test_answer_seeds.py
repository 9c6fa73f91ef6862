"""Several seeds' answers to one item as one answer."""

from __future__ import annotations

import pytest

from bias_gate.answer.seeds import majority_vote, seed_shares


def test_majority_vote_and_seed_shares() -> None:
    assert majority_vote([0, 0, 1]) == 0
    assert majority_vote([None, 2, 2, 1]) == 2
    assert majority_vote([0, 1]) is None  # tie
    assert majority_vote([None, None]) is None
    assert majority_vote([]) is None
    assert seed_shares([0, 0, 1, None]) == pytest.approx((2 / 3, 1 / 3, 0.0))
    assert seed_shares([None]) is None
