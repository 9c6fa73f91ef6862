"""``runtime: openai`` against llama-cpp-python's real OpenAI-compatible server on the
packaged SmolLM2 GGUF, started once per session (everything that needs it is in this one
file, so that ``--dist loadfile`` starts it on one worker only).

- The HTTP runtime answers like the in-process llama.cpp runtime on the same file and
  items: the same choices; the largest log-probability difference printed, under 1e-3
  in ``letter`` mode (both read the next token after the same prompt) and under 0.1 in
  ``continuation`` mode on these items (llama.cpp evaluates the answer's tokens in other
  batch shapes than the server's one-token requests; docs/performance.md).
- Faults between client and server (a fault-injecting proxy: 500s, 429s, dropped and cut
  connections, a delay past the timeout) change no answer; too many end in one line.
- The server killed mid-run and restarted, the run completes with the same choices, and
  a rerun answers from the cache without one completion request; another declared
  ``revision`` of the same served name is asked again.
- ``generate`` through ``/chat/completions``: greedy, the same texts as in process.
- Perplexity: this server cannot give aligned prompt log-probabilities; the probe says so.
- A real gate run goes through the server; its perplexity item fails saying why.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from bias_gate.answer.engine import answer_items
from bias_gate.config.endpoint import EndpointSpec
from bias_gate.config.schema import DataSpec, PerplexitySpec, ScoringSpec, default_model
from bias_gate.data.loader import load_items
from bias_gate.gate.command import gate_args
from bias_gate.llama.agreement import agreement
from bias_gate.llama.runtime import LlamaModel
from bias_gate.models.loading import gguf_file
from bias_gate.models.openai_client import EndpointError
from bias_gate.models.openai_perplexity import (
    PerplexityNotMeasured,
    endpoint_perplexity,
    prompt_logprobs,
)
from bias_gate.models.openai_runtime import OpenAIModel
from tests.conftest import SHARED_DATA
from tests.support.fault_proxy import FaultProxy
from tests.support.llama_server import SERVED_NAME, served_null_config

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")
pytest_plugins = ["pytester"]

LETTER = ScoringSpec(mode="letter")


@pytest.fixture(scope="module")
def items(bbq_dir):
    spec = DataSpec(categories=["Age"], items_per_category=4)
    return load_items(spec, data_dir=bbq_dir.parent).items


@pytest.fixture(scope="module")
def in_process():
    path = gguf_file(default_model())
    assert path is not None
    return LlamaModel(path, threads=1)


def model_at(url, tokenizer, cache_dir=None, **options):
    spec = EndpointSpec(url=url, model=SERVED_NAME, **options)
    model = OpenAIModel(spec, tokenizer, cache_dir)
    model.client.sleep = lambda seconds: time.sleep(min(seconds, 0.05))
    return model


@pytest.fixture(scope="module")
def direct(llama_server, smollm2_tokenizer, items):
    """The letter answers straight from the server (no proxy, no cache)."""
    model = model_at(llama_server.url, smollm2_tokenizer)
    return answer_items(model, smollm2_tokenizer, items[:2], LETTER)


# -- agreement with the in-process runtime ------------------------------------------------


@pytest.mark.parametrize("mode", ["letter", "continuation"])
def test_the_server_answers_like_the_in_process_runtime(
    llama_server, smollm2_tokenizer, in_process, items, mode
):
    scoring = ScoringSpec(mode=mode)
    local = answer_items(in_process, smollm2_tokenizer, items, scoring)
    model = model_at(llama_server.url, smollm2_tokenizer)
    remote = answer_items(model, smollm2_tokenizer, items, scoring)
    found = agreement(local, remote)
    print(f"{mode}: same choice on {found.same_choice:.0%} of {found.items} items, largest "
          f"|log p difference| {found.max_logprob_diff:.3g}")  # fmt: skip
    assert found.items == len(items) and found.same_choice == 1.0
    limit = 1e-3 if mode == "letter" else 0.1
    assert found.max_logprob_diff is not None and found.max_logprob_diff < limit


def test_generate_through_chat_completions_writes_what_the_in_process_runtime_writes(
    llama_server, smollm2_tokenizer, in_process, items
):
    """Greedy ``generate``: the server applies the GGUF's chat template to the same
    messages (its prompt token count is checked against the engine's) and writes the
    same texts as llama.cpp in process."""
    scoring = ScoringSpec(mode="generate", generate={"max_new_tokens": 12})
    local = answer_items(in_process, smollm2_tokenizer, items, scoring)
    model = model_at(llama_server.url, smollm2_tokenizer)
    remote = answer_items(model, smollm2_tokenizer, items, scoring)
    assert model.client.requests_sent >= len(items)
    same_text = sum(local[k].texts == remote[k].texts for k in local)
    print(f"generate: same text on {same_text} of {len(items)} items; texts: "
          f"{[remote[k].raw for k in remote]}")  # fmt: skip
    assert {k: a.choice for k, a in remote.items()} == {k: a.choice for k, a in local.items()}
    assert same_text == len(items)
    assert all(a.mode == "generate" and a.raw for a in remote.values())


# -- faults, kills, the cache -------------------------------------------------------------


def test_faults_on_the_way_change_no_answer(
    llama_server, smollm2_tokenizer, items, direct, monkeypatch
):
    monkeypatch.setenv("BIAS_GATE_TEST_KEY", "secret-for-the-proxy")
    upstream = llama_server.url.removesuffix("/v1")
    faults = ["ok", "500", "ok", "drop", "ok", "429", "ok", "cut", "ok", "delay", "ok", "ok"]
    waits: list[float] = []
    with FaultProxy(upstream, faults, delay_s=7.0) as proxy:
        url = f"http://127.0.0.1:{proxy.port}/v1"
        model = model_at(
            url,
            smollm2_tokenizer,
            concurrency=2,
            timeout_s=6.0,
            retries=10,
            api_key_env="BIAS_GATE_TEST_KEY",
        )
        model.client.sleep = waits.append
        answers = answer_items(model, smollm2_tokenizer, items[:2], LETTER)
    assert all(proxy.met[f] >= 1 for f in set(faults))
    assert model.client.retries_made == len(waits) >= proxy.met["500"] + proxy.met["drop"]
    assert 1.0 in waits  # the 429's Retry-After; the rest back off from 0.5 s
    assert set(waits) <= {0.5, 1.0, 2.0, 4.0, 8.0}
    assert proxy.authorizations == {"Bearer secret-for-the-proxy"}
    assert {k: (a.choice, a.probs) for k, a in answers.items()} == {
        k: (a.choice, a.probs) for k, a in direct.items()
    }


def test_too_many_faults_end_in_one_line_naming_the_endpoint(llama_server, smollm2_tokenizer):
    upstream = llama_server.url.removesuffix("/v1")
    with FaultProxy(upstream, ["500"]) as proxy:
        model = model_at(f"http://127.0.0.1:{proxy.port}/v1", smollm2_tokenizer, retries=2)
        with pytest.raises(EndpointError, match=r"failed 3 times \(last: HTTP 500\)") as error:
            model.identity()
    assert "\n" not in str(error.value) and proxy.met["500"] == 3


def test_a_server_killed_mid_run_and_restarted_gives_the_same_answers(
    llama_server, smollm2_tokenizer, items, direct, tmp_path
):
    model = model_at(llama_server.url, smollm2_tokenizer, tmp_path, concurrency=2, retries=12)
    model.client.sleep = lambda seconds: time.sleep(min(seconds, 2.0))
    done: dict = {}
    run = threading.Thread(
        target=lambda: done.update(answer_items(model, smollm2_tokenizer, items[:2], LETTER))
    )
    run.start()
    while model.client.requests_sent < 6 and run.is_alive():
        time.sleep(0.05)
    llama_server.kill()
    llama_server.start()
    run.join(timeout=600)
    assert not run.is_alive() and model.client.retries_made >= 1
    assert {k: a.choice for k, a in done.items()} == {k: a.choice for k, a in direct.items()}
    # A rerun (a killed run resumed) answers from the cache alone, bit for bit.
    again = model_at(llama_server.url, smollm2_tokenizer, tmp_path)
    assert answer_items(again, smollm2_tokenizer, items[:2], LETTER) == done
    assert again.client.requests_sent == 1 and again.client.cache_hits > 0  # /models only
    # The same name re-served as another revision is asked again, never read from the cache.
    other = model_at(llama_server.url, smollm2_tokenizer, tmp_path, revision="v2")
    answer_items(other, smollm2_tokenizer, items[:1], LETTER)
    assert other.client.cache_hits == 0 and other.client.requests_sent > 1


# -- perplexity ---------------------------------------------------------------------------


def test_perplexity_is_not_measured_where_prompt_logprobs_are_wrong(
    llama_server, smollm2_tokenizer
):
    """llama-cpp-python 0.3's server echoes one log-probability too few for the probe's
    38 tokens (and reads rows one token off where a prompt does not start with BOS): the
    probe finds it, and says so in one line."""
    model = model_at(llama_server.url, smollm2_tokenizer)
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


# -- a real gate run ------------------------------------------------------------------------


def test_a_gate_run_through_the_server(pytester: pytest.Pytester, llama_server):
    """The dense model and a null config, both served by the same server. The gate still
    loads the model locally (its tokenizer builds the prompts; the ``dense`` method runs
    on it)."""
    cache = pytester.path / "cache"
    config = pytester.path / "model.yaml"
    config.write_text(
        served_null_config(
            llama_server.url,
            items=4,
            mode="letter",
            revisions=("test", "test"),
            perplexity={"window": 64, "windows": 1},
        )
    )
    out = pytester.path / "results.json"
    result = pytester.runpytest_subprocess(
        *gate_args(config, data_dir=SHARED_DATA, cache_dir=cache, json_out=out)
    )
    text = result.stdout.str()
    assert "Traceback" not in text and result.parseoutcomes().get("errors", 0) == 0, text
    results = json.loads(out.read_text())
    (served,) = results["configs"]
    assert served["runtime"] == "openai"
    (item,) = served["items"]
    assert item["category"] == "Age" and item["n"] >= 1
    assert item["cohens_h"] == 0.0  # the same served model answers both sides alike
    assert served["perplexity_verdict"] == "fail"
    assert "perplexity not measured: the server echoes" in served["perplexity_reasons"][0]
    # Every request was cached under the served model's identity.
    assert list((cache / "http").rglob("*.json"))
