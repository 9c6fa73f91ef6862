"""Processes that share one answer store (tests/test_answer_store.py). A module of its
own, importing no torch, so that each spawned process starts in a fraction of a second."""

from __future__ import annotations

from pathlib import Path

from bias_gate.answer.store import AnswerStore
from bias_gate.answer.types import Answer


def answer(n: int) -> Answer:
    return Answer(f"Age/{n}", n % 3, (0.2, 0.3, 0.5), (0, 1, 2), mode="letter")


def writer(root: str, key: str, first: int, batches: int) -> None:
    """Store ``batches`` batches of 2 answers under ``key``, compacting every third."""
    store = AnswerStore(Path(root))
    for batch in range(batches):
        start = first + 2 * batch
        store.write(key, [answer(start), answer(start + 1)])
        if batch % 3 == 2:
            store.compact(key)
    store.compact(key)


def reader(root: str, key: str, rounds: int, counts: list[int]) -> None:
    """Load ``key`` ``rounds`` times, appending how many answers each load found."""
    store = AnswerStore(Path(root))
    for _ in range(rounds):
        counts.append(len(store.load(key)))
