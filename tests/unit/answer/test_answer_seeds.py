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


def test_one_sampling_seed_draws_the_same_texts_every_time(tiny_llama, bbq_dir) -> None:
    """Sampled generation with a single seed still draws from that seed's generator (not
    the global one), so answering twice gives the same texts."""
    import torch

    from bias_gate.answer.engine import answer_items
    from bias_gate.config.schema import GenerateSpec, ScoringSpec
    from bias_gate.data.sources import DirectorySource

    items = DirectorySource(bbq_dir).load("Age")[:2]
    scoring = ScoringSpec(
        mode="generate", generate=GenerateSpec(temperature=0.9, seeds=[5], max_new_tokens=4)
    )
    first = answer_items(tiny_llama.model, tiny_llama.tokenizer, items, scoring)
    torch.manual_seed(12345)  # the global generator moves; the seed's own does not
    again = answer_items(tiny_llama.model, tiny_llama.tokenizer, items, scoring)
    assert {k: a.texts for k, a in first.items()} == {k: a.texts for k, a in again.items()}
