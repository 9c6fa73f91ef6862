"""The answer store: keys, atomic shards, and resuming a run killed mid-way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bias_gate.answer.engine import answer_items
from bias_gate.answer.store import AnswerStore, answer_store_key
from bias_gate.answer.types import Answer
from bias_gate.config.schema import GenerateSpec, PromptSpec, ScoringSpec
from bias_gate.data.bbq import parse_lines
from bias_gate.data.items import items_fingerprint
from tests.support import store_workers as store_workers


@pytest.fixture(scope="module")
def items(bbq_dir: Path):
    lines = (bbq_dir / "Age.jsonl").read_text(encoding="utf-8").splitlines()
    return parse_lines(lines[:400:40], "Age.jsonl")


class Interrupted(RuntimeError):
    pass


def _count_forwards(model, stop_after: int | None = None):
    """Count decoder forward calls; raise Interrupted on call ``stop_after + 1``."""
    calls = []

    def hook(module, args, kwargs):
        if stop_after is not None and len(calls) >= stop_after:
            raise Interrupted("killed mid-run")
        calls.append(kwargs["input_ids"].shape[0])

    handle = model.get_decoder().register_forward_pre_hook(hook, with_kwargs=True)
    return calls, handle


def test_interrupted_run_resumes_and_recomputes_only_missing_items(tiny_llama, items, tmp_path):
    model, tok = tiny_llama.model, tiny_llama.tokenizer
    scoring = ScoringSpec(mode="letter", batch_size=3)  # 10 items: 4 batches
    store = AnswerStore(tmp_path)
    key = answer_store_key(
        model=tiny_llama.fingerprint,
        compression="dense",
        items=items_fingerprint(items),
        scoring=scoring,
    )
    # letter mode: 1 forward for the run prefix, then 1 per batch. Die in the third batch.
    calls, handle = _count_forwards(model, stop_after=3)
    try:
        with pytest.raises(Interrupted):
            answer_items(model, tok, items, scoring, store=store, store_key=key)
    finally:
        handle.remove()
    assert store.shard_count(key) == 2
    assert len(store.load(key)) == 6
    assert not list((tmp_path / key).glob(".*")), "no temporary files left behind"

    calls, handle = _count_forwards(model)
    try:
        resumed = answer_items(model, tok, items, scoring, store=store, store_key=key)
    finally:
        handle.remove()
    # The 4 missing items: one run-prefix pass, then one pass for each of the two
    # batches (3 items and 1 item; a batch's items are packed into rows).
    assert len(calls) == 3 and calls[0] == 1
    assert set(resumed) == {item.key for item in items}

    fresh = answer_items(model, tok, items, scoring)
    for item in items:
        assert resumed[item.key].choice == fresh[item.key].choice
        assert resumed[item.key].probs == pytest.approx(fresh[item.key].probs, abs=1e-5)

    calls, handle = _count_forwards(model)
    try:
        again = answer_items(model, tok, items, scoring, store=store, store_key=key)
    finally:
        handle.remove()
    assert calls == []
    assert again == resumed

    store.compact(key)
    assert store.shard_count(key) == 0
    assert store.load(key) == resumed


def test_store_round_trips_every_field(tmp_path):
    store = AnswerStore(tmp_path)
    answers = [
        Answer("Age/1", 2, (0.1, 0.2, 0.7), (2, 0, 1), mode="permuted"),
        Answer("Age/2", None, None, (), (None, 1, None), "???", ("???", "B", "x"), "generate"),
    ]
    store.write("k1", answers)
    assert store.load("k1") == {a.key: a for a in answers}
    assert store.load("other") == {}
    with pytest.raises(ValueError):
        store.load("../escape")


def test_an_unreadable_shard_is_skipped_and_recomputed(tmp_path):
    store = AnswerStore(tmp_path)
    store.write("k", [Answer("Age/1", 0, (1.0, 0.0, 0.0), (0,))])
    (tmp_path / "k" / "shard-99999999999999999999-1-000000.jsonl").write_text("{not json")
    assert set(store.load("k")) == {"Age/1"}


def test_store_key_changes_with_every_input(items):
    base = {
        "model": "m",
        "compression": "dense",
        "items": items_fingerprint(items),
        "scoring": ScoringSpec(),
        "versions": {"torch": "1"},
    }
    key = answer_store_key(**base)
    assert answer_store_key(**base) == key
    changes = [
        {"model": "m2"},
        {"compression": "wanda-50"},
        {"items": items_fingerprint(items[:-1])},
        {"scoring": ScoringSpec(mode="letter")},
        {"scoring": ScoringSpec(prompt=PromptSpec(system="Be brief."))},
        {"scoring": ScoringSpec(prompt=PromptSpec(chat_template=False))},
        {"scoring": ScoringSpec(continuation_normalize="sum")},
        {"scoring": ScoringSpec(generate=GenerateSpec(temperature=0.3, seeds=[0, 1]))},
        {"versions": {"torch": "2"}},
    ]
    keys = {answer_store_key(**{**base, **change}) for change in changes}
    assert key not in keys and len(keys) == len(changes)
    # The batch size changes no answer, so it does not change the key.
    assert answer_store_key(**{**base, "scoring": ScoringSpec(batch_size=3)}) == key


def test_processes_sharing_a_store_lose_no_answer(tmp_path):
    """Four processes write and compact one key at once while another reads it: no
    answer is ever lost, and a reader never sees fewer answers than it saw before."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        counts = manager.list()
        writers = [
            context.Process(target=store_workers.writer, args=(str(tmp_path), "k", 1000 * w, 30))
            for w in range(4)
        ]
        reader = context.Process(
            target=store_workers.reader, args=(str(tmp_path), "k", 200, counts)
        )
        for process in [*writers, reader]:
            process.start()
        for process in [*writers, reader]:
            process.join(timeout=120)
            assert process.exitcode == 0
        seen = list(counts)
    assert seen == sorted(seen), "a reader saw answers disappear"
    store = AnswerStore(tmp_path)
    assert len(store.load("k")) == 4 * 30 * 2
    store.compact("k")  # nothing new: no shard left to merge
    assert store.shard_count("k") == 0
    assert len(list((tmp_path / "k").glob("answers-*.jsonl"))) >= 1


def test_compaction_reads_the_legacy_file_and_clears_stale_temporaries(tmp_path):
    import os
    import time

    store = AnswerStore(tmp_path)
    folder = tmp_path / "k"
    folder.mkdir()
    (folder / "answers.jsonl").write_text(json.dumps(store_workers.answer(1).to_json()) + "\n")
    store.write("k", [store_workers.answer(2)])
    old = folder / ".shard-1.jsonl.abc.tmp"
    old.write_text('{"torn')
    young = folder / ".shard-2.jsonl.def.tmp"
    young.write_text('{"being written')
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert set(store.load("k")) == {"Age/1", "Age/2"}  # the torn files are never read
    merged = store.compact("k")
    assert merged is not None and merged.name.startswith("answers-")
    assert sorted(p.name for p in folder.iterdir()) == sorted([merged.name, young.name])
    assert set(store.load("k")) == {"Age/1", "Age/2"}
