"""``bias-gate compare``'s inputs: the answer rows of both files (the answers format of
:mod:`bias_gate.data.answer_rows`, or lm-evaluation-harness samples), the items they
answer, each row's option and the pairing by item. Every problem is one line naming the
file and the line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bias_gate.answer.types import Answer
from bias_gate.data.answer_rows import AnswerRow, choice_of, read_answer_rows
from bias_gate.data.items import BBQItem
from bias_gate.errors import DataError

DEFAULT_CONFIG = "compressed"
#: ``--from``: the formats answers are read in.
FORMATS = ("jsonl", "lm-eval")


@dataclass(frozen=True)
class Inputs:
    """The items both files answer, the dense answers and each config's answers."""

    items: dict[str, BBQItem]
    dense: dict[str, Answer]
    configs: dict[str, dict[str, Answer]]


def read_rows(path: Path, fmt: str, benchmark: Any, config: str | None) -> list[AnswerRow]:
    """The rows of one answers file in format ``fmt``; ``config``: the config of a row
    that names none (``None`` for the dense answers, which take no ``config``)."""
    compressed = config is not None
    if fmt == "lm-eval":
        from bias_gate.data.lm_eval_samples import read_samples

        return read_samples(path, config)
    rows = read_answer_rows(path, benchmark, config)
    if not compressed:
        for row in rows:
            if row.config is not None:
                raise DataError(
                    "dense answers take no config", file=path, line=row.line, key="config"
                )
    return rows


def items_for(
    rows: Sequence[AnswerRow], source: str, data_dir: Path | None, benchmark: Any
) -> dict[str, BBQItem]:
    """The benchmark's item of every row (by ``category/example_id``)."""
    from bias_gate.data.download import mirror_dir

    bbq = benchmark.source(source, None, data_dir or mirror_dir())
    items: dict[str, BBQItem] = {}
    for category in sorted({row.category for row in rows}):
        own = [row for row in rows if row.category == category]
        try:
            loaded = bbq.load(category)
        except DataError as exc:
            raise DataError(
                exc.message, file=own[0].file, line=own[0].line, key="category"
            ) from None
        by_id = {item.example_id: item for item in loaded}
        for row in own:
            if row.example_id not in by_id:
                raise DataError(
                    f"unknown example_id {row.example_id} in {category} ({bbq.description})",
                    file=row.file,
                    line=row.line,
                    key="example_id",
                )
            items[row.key] = by_id[row.example_id]
    return items


def answers(rows: Sequence[AnswerRow], items: dict[str, BBQItem]) -> dict[str, Answer]:
    """Each row's :class:`Answer` (its option resolved against its item)."""
    return {row.key: Answer(row.key, choice_of(items[row.key], row), row.probs) for row in rows}


def check_pairing(name: str, rows: Sequence[AnswerRow], items: dict[str, BBQItem]) -> None:
    """A config answers exactly the items the dense answers cover."""
    for row in rows:
        if row.key not in items:
            raise DataError(
                f"config {name!r} answers {row.key}, which the dense answers do not cover",
                file=row.file,
                line=row.line,
            )
    keys = {row.key for row in rows}
    lacking = [key for key in items if key not in keys]
    if lacking:
        raise DataError(
            f"config {name!r} lacks answers to {len(lacking)} items the dense answers "
            f"cover (first: {lacking[0]}); the comparison is paired by item",
            file=rows[0].file,
        )


def read_inputs(
    dense: Path,
    compressed: Path,
    fmt: str,
    source: str,
    data_dir: Path | None,
    benchmark: Any,
    name: str = DEFAULT_CONFIG,
) -> Inputs:
    """Both answer files read, resolved against their items and paired; ``name``: the
    config of a compressed row that names none."""
    dense_rows = read_rows(dense, fmt, benchmark, None)
    compressed_rows = read_rows(compressed, fmt, benchmark, name)
    items = items_for(dense_rows, source, data_dir, benchmark)
    dense_answers = answers(dense_rows, items)
    by_config: dict[str, list[AnswerRow]] = {}
    for row in compressed_rows:
        by_config.setdefault(row.config or name, []).append(row)
    configs = {}
    for name, rows in by_config.items():
        check_pairing(name, rows, items)
        configs[name] = answers(rows, items)
    return Inputs(items=items, dense=dense_answers, configs=configs)
