"""The HTTP client under load and faults, against the real llama.cpp server: a fault-
injecting proxy (500s, 429s, dropped and cut connections, a delay past the timeout)
changes no answer; the server killed mid-run and restarted, the run completes with the
same choices; a rerun answers from the cache without one request."""

from __future__ import annotations

import threading
import time

import pytest

from bias_gate.answer.engine import answer_items
from bias_gate.config.endpoint import EndpointSpec
from bias_gate.config.schema import DataSpec, ScoringSpec
from bias_gate.data.loader import load_items
from bias_gate.models.openai_client import EndpointError
from bias_gate.models.openai_runtime import OpenAIModel
from tests.support.fault_proxy import FaultProxy
from tests.support.llama_server import SERVED_NAME

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed")

SCORING = ScoringSpec(mode="letter")


@pytest.fixture(scope="module")
def items(bbq_dir):
    spec = DataSpec(categories=["Age"], items_per_category=2)
    return load_items(spec, data_dir=bbq_dir.parent).items


def model_at(url, tokenizer, cache_dir=None, **options):
    spec = EndpointSpec(url=url, model=SERVED_NAME, **options)
    model = OpenAIModel(spec, tokenizer, cache_dir)
    model.client.sleep = lambda seconds: time.sleep(min(seconds, 0.05))
    return model


@pytest.fixture(scope="module")
def direct(llama_server, smollm2_tokenizer, items):
    """The answers straight from the server (no proxy, no cache)."""
    model = model_at(llama_server.url, smollm2_tokenizer)
    return answer_items(model, smollm2_tokenizer, items, SCORING)


def test_faults_on_the_way_change_no_answer(llama_server, smollm2_tokenizer, items, direct):
    upstream = llama_server.url.removesuffix("/v1")
    faults = ["ok", "500", "ok", "drop", "ok", "429", "ok", "cut", "ok", "delay", "ok", "ok"]
    with FaultProxy(upstream, faults, delay_s=7.0) as proxy:
        url = f"http://127.0.0.1:{proxy.port}/v1"
        model = model_at(url, smollm2_tokenizer, concurrency=2, timeout_s=6.0, retries=10)
        answers = answer_items(model, smollm2_tokenizer, items, SCORING)
    assert all(proxy.met[f] >= 1 for f in set(faults))
    assert model.client.retries_made >= proxy.met["500"] + proxy.met["drop"]
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
        target=lambda: done.update(answer_items(model, smollm2_tokenizer, items, SCORING))
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
    assert answer_items(again, smollm2_tokenizer, items, SCORING) == done
    assert again.client.requests_sent == 1 and again.client.cache_hits > 0  # /models only
