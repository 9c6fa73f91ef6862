"""Perplexity over non-overlapping windows, checked against the model's own loss."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from bias_gate.config.schema import PerplexitySpec
from bias_gate.errors import DataError
from bias_gate.models.perplexity import corpus_ids, perplexity, window_starts


def test_window_starts_are_non_overlapping_evenly_spread_and_complete():
    starts = window_starts(10_000, 100, 5)
    assert starts == [0, 2500, 5000, 7400, 9900]  # windows 0, 25, 50, 74, 99 of 100
    assert all(b - a >= 100 for a, b in itertools.pairwise(starts))
    assert window_starts(1000, 100, None) == list(range(0, 1000, 100))
    assert window_starts(1000, 100, 50) == list(range(0, 1000, 100))
    with pytest.raises(DataError, match="fewer than one window"):
        window_starts(50, 100, 1)


def test_perplexity_equals_exp_of_the_models_mean_loss(tiny_llama, wikitext_dir):
    spec = PerplexitySpec(corpus="wikitext2:valid", window=64, windows=3)
    data_dir = wikitext_dir.parent
    result = perplexity(
        tiny_llama.model, tiny_llama.tokenizer, spec, data_dir=data_dir, batch_size=2
    )
    ids = corpus_ids(tiny_llama.tokenizer, "wikitext2:valid", data_dir)
    losses = []
    with torch.no_grad():
        for start in window_starts(ids.numel(), 64, 3):
            window = ids[start : start + 64].unsqueeze(0)
            losses.append(float(tiny_llama.model(input_ids=window, labels=window).loss))
    assert result.perplexity == pytest.approx(math.exp(sum(losses) / len(losses)), rel=1e-4)
    assert (result.n_windows, result.n_tokens, result.window) == (3, 3 * 63, 64)
    # A random tiny model is close to uniform over the vocabulary.
    assert 0.5 * len(tiny_llama.tokenizer) < result.perplexity < 2 * len(tiny_llama.tokenizer)


def test_a_text_file_corpus_works(tiny_llama, tmp_path):
    path = tmp_path / "text.txt"
    path.write_text("the cat sat on the mat . " * 200, encoding="utf-8")
    spec = PerplexitySpec(corpus=str(path), window=32, windows=2)
    result = perplexity(tiny_llama.model, tiny_llama.tokenizer, spec)
    assert result.n_windows == 2


def test_missing_corpus_is_a_data_error(tiny_llama, tmp_path):
    spec = PerplexitySpec(corpus=str(tmp_path / "nope.txt"), window=32, windows=2)
    with pytest.raises(DataError, match="does not exist"):
        perplexity(tiny_llama.model, tiny_llama.tokenizer, spec)


@pytest.mark.slow
def test_smollm2_perplexity_on_wikitext2_test_is_in_the_known_range(smollm2, wikitext_dir):
    spec = PerplexitySpec(window=256, windows=4)
    result = perplexity(smollm2.model, smollm2.tokenizer, spec, data_dir=wikitext_dir.parent)
    assert 10 < result.perplexity < 60  # 25.5 on 64 windows of 512 tokens
