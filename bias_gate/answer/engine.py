"""The answer engine's entry point: :func:`answer_items`."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

from bias_gate.answer.context import ModeContext, ScoringMode
from bias_gate.answer.prompts import common_prefix_length
from bias_gate.answer.scorer import PrefixScorer
from bias_gate.answer.store import AnswerStore
from bias_gate.answer.types import Answer
from bias_gate.answer.variants import Variant
from bias_gate.config.schema import ScoringSpec
from bias_gate.data.items import BBQItem
from bias_gate.data.parse import parse_answer


def run_prefix(variants: Sequence[Sequence[Variant]]) -> tuple[int, ...]:
    """The token prefix every variant of every item starts with, shortened so that each
    variant keeps at least one token (plus its scored continuation) after it."""
    flat = [v for group in variants for v in group]
    if not flat:
        return ()
    length = common_prefix_length([v.ids for v in flat])
    length = min(length, *(len(v.ids) - v.n_scored - 1 for v in flat))
    return tuple(flat[0].ids[: max(0, length)])


def _pad_id(tokenizer: Any) -> int:
    for value in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if value is not None:
            return int(value)
    return 0


def _scorer(model: Any, prefix: tuple[int, ...], tokenizer: Any, scoring: ScoringSpec) -> Any:
    """The scorer of ``model``: a :class:`PrefixScorer` for a torch model; a model of
    another runtime brings its own (``prefix_scorer``, e.g.
    :class:`bias_gate.llama.runtime.LlamaModel`)."""
    own = getattr(model, "prefix_scorer", None)
    if callable(own):
        return own(prefix)
    return PrefixScorer(
        model, prefix, pad_id=_pad_id(tokenizer), max_batch_tokens=scoring.max_batch_tokens
    )


def answer_items(
    model: Any,
    tokenizer: Any,
    items: Sequence[BBQItem],
    scoring: ScoringSpec,
    *,
    store: AnswerStore | None = None,
    store_key: str | None = None,
    progress: bool = False,
    parse_answer: Callable[[str, Sequence[str]], int | None] = parse_answer,
    on_answered: Callable[[int, bool], None] | None = None,
    prepare: Callable[[], None] | None = None,
) -> dict[str, Answer]:
    """Answer every item with ``model`` as ``scoring`` says; returns answers by item key.

    With ``store`` and ``store_key``, answers already stored under the key are reused and
    each completed batch is stored at once, so an interrupted run resumes where it
    stopped. Items are ordered by their prompt tokens, so items that share a context are
    neighbours and share a packed row, and answered ``scoring.batch_size`` at a time;
    no forward pass holds more than ``scoring.max_batch_tokens`` tokens.
    ``progress`` shows a tqdm bar on a terminal (never when stderr is not a TTY).
    The mode is the one registered as ``scoring.mode``
    (:data:`bias_gate.registry.SCORING_MODES`); ``parse_answer`` reads generated
    answers (the benchmark's). ``on_answered(count, fresh)`` is told how many items came
    from the store (``fresh`` false), then each batch answered (live progress).
    ``prepare``: called once before the model answers anything (not when every answer
    is stored): the gate puts a model compressed in place in the state asked for.
    """
    if (store is None) != (store_key is None):
        raise ValueError("give both store and store_key, or neither")
    from bias_gate.registry import SCORING_MODES

    mode = SCORING_MODES.get(scoring.mode)()
    done: dict[str, Answer] = store.load(store_key) if store and store_key else {}
    todo: list[BBQItem] = []
    seen: set[str] = set()
    for item in items:
        if item.key not in done and item.key not in seen:
            todo.append(item)
            seen.add(item.key)
    stored = len({item.key for item in items}) - len(todo)
    if on_answered is not None and stored:
        on_answered(stored, False)
    if todo:
        if prepare is not None:
            prepare()
        ctx = ModeContext(tokenizer=tokenizer, scoring=scoring, parse_answer=parse_answer)
        _answer_missing(model, ctx, todo, mode, done, store, store_key, progress, on_answered)
    return {item.key: done[item.key] for item in items}


def _answer_missing(
    model: Any,
    ctx: ModeContext,
    todo: Sequence[BBQItem],
    mode: ScoringMode,
    done: dict[str, Answer],
    store: AnswerStore | None,
    store_key: str | None,
    progress: bool,
    on_answered: Callable[[int, bool], None] | None = None,
) -> None:
    from tqdm.auto import tqdm

    tokenizer, scoring = ctx.tokenizer, ctx.scoring
    variants = [mode.variants(ctx, item) for item in todo]
    scorer = _scorer(model, run_prefix(variants), tokenizer, scoring)
    # Lexicographic order on token ids puts prompts with a common prefix side by side.
    order = sorted(range(len(todo)), key=lambda i: variants[i][0].ids)
    size = scoring.batch_size
    bar = tqdm(
        total=len(todo),
        unit="item",
        desc=f"answering ({scoring.mode})",
        disable=not (progress and sys.stderr.isatty()),
        leave=False,
    )
    try:
        for start in range(0, len(order), size):
            batch = order[start : start + size]
            answers = mode.answer_batch(
                ctx, scorer, [todo[i] for i in batch], [variants[i] for i in batch]
            )
            if store is not None and store_key is not None:
                store.write(store_key, answers)
            for answer in answers:
                done[answer.key] = answer
            bar.update(len(batch))
            if on_answered is not None:
                on_answered(len(batch), True)
    finally:
        bar.close()
