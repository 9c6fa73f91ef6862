"""``runtime: openai`` against llama-cpp-python's real OpenAI-compatible server on the
packaged SmolLM2 GGUF: it answers like the in-process llama.cpp runtime on the same file
and items (same choices; the largest log-probability difference printed: under 1e-3 in
``letter`` mode, where both read the next token after the same prompt; under 0.1 in
``continuation`` mode, where llama.cpp evaluates a continuation's tokens in batches of
other sizes than the server's one-token requests, docs/performance.md)."""

from __future__ import annotations

import pytest

from bias_gate.answer.engine import answer_items
from bias_gate.config.endpoint import EndpointSpec
from bias_gate.config.schema import DataSpec, PerplexitySpec, ScoringSpec, default_model
from bias_gate.data.loader import load_items
from bias_gate.llama.agreement import agreement
from bias_gate.llama.runtime import LlamaModel
from bias_gate.models.loading import gguf_file
from bias_gate.models.openai_perplexity import (
    PerplexityNotMeasured,
    endpoint_perplexity,
    prompt_logprobs,
)
from bias_gate.models.openai_runtime import OpenAIModel
from tests.support.llama_server import SERVED_NAME

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")


@pytest.fixture(scope="module")
def items(bbq_dir):
    spec = DataSpec(categories=["Age"], items_per_category=4)
    return load_items(spec, data_dir=bbq_dir.parent).items


@pytest.fixture(scope="module")
def in_process():
    path = gguf_file(default_model())
    assert path is not None
    return LlamaModel(path, threads=1)


def served(server, tokenizer, cache_dir=None, **options):
    spec = EndpointSpec(url=server.url, model=SERVED_NAME, **options)
    return OpenAIModel(spec, tokenizer, cache_dir)


@pytest.mark.parametrize("mode", ["letter", "continuation"])
def test_the_server_answers_like_the_in_process_runtime(
    llama_server, smollm2_tokenizer, in_process, items, mode
):
    scoring = ScoringSpec(mode=mode)
    local = answer_items(in_process, smollm2_tokenizer, items, scoring)
    model = served(llama_server, smollm2_tokenizer)
    remote = answer_items(model, smollm2_tokenizer, items, scoring)
    found = agreement(local, remote)
    print(f"{mode}: same choice on {found.same_choice:.0%} of {found.items} items, largest "
          f"|log p difference| {found.max_logprob_diff:.3g}")  # fmt: skip
    assert found.items == len(items) and found.same_choice == 1.0
    limit = 1e-3 if mode == "letter" else 0.1
    assert found.max_logprob_diff is not None and found.max_logprob_diff < limit


def test_perplexity_is_not_measured_where_prompt_logprobs_are_shifted(
    llama_server, smollm2_tokenizer, tmp_path
):
    """llama-cpp-python 0.3's server echoes one log-probability too few for the probe's
    38 tokens (and reads rows one token off where a prompt does not start with BOS): the
    probe finds it, and says so in one line."""
    model = served(llama_server, smollm2_tokenizer)
    with pytest.raises(
        PerplexityNotMeasured, match="echoes 37 log-probabilities for a prompt of 38 tokens"
    ) as error:
        endpoint_perplexity(model, PerplexitySpec(window=64, windows=1))
    assert "\n" not in str(error.value)


def test_prompt_logprobs_are_read_one_per_token_or_refused():
    reply = {
        "choices": [{"logprobs": {"token_logprobs": [None, -1.0, -2.0, -0.5]}}],
        "usage": {"completion_tokens": 1},
    }
    assert prompt_logprobs(reply, 3) == [-1.0, -2.0]
    with pytest.raises(PerplexityNotMeasured, match="echoes 3 log-probabilities for a prompt of 4"):
        prompt_logprobs(reply, 4)
    with pytest.raises(PerplexityNotMeasured, match="no prompt log-probabilities"):
        prompt_logprobs({"choices": [{"logprobs": None}]}, 3)
