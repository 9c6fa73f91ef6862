"""``bias-gate bbq score``: the official BBQ scores of your own predictions.

Reads the answers format ``bias-gate compare`` reads (:mod:`bias_gate.data.answer_rows`):
JSON lines ``{"category": ..., "example_id": ..., "prediction": ...}`` (``answer`` is the
same key), and prints JSON keyed by category, plus ``"overall"`` (all scored items
pooled). The prediction is an option index 0-2, a letter A-C, an option's text (matched
after case, whitespace, trailing periods and a leading "the ") or ``null``: no valid
answer (counted as a parse failure). A text that names no single option is an error
(write null for it), as is a prediction for a (category, example_id) that the source does
not have, a duplicate prediction, or a malformed line: one line naming the line and
key. Only predicted items are scored; ``excluded.unpredicted`` counts the category's
items without a prediction.

``--benchmark NAME`` (default ``bbq``): a benchmark with its own ``score_predictions``
(KoBBQ: its authors' accuracy, diff-bias and out-of-choice ratio, docs/kobbq.md) reads
its own predictions format and prints its own figures; ``--category`` is checked
against the benchmark's categories.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bias_gate.answer.types import Answer
from bias_gate.commands.arguments import add_source
from bias_gate.data.answer_rows import AnswerRow, choice_of, read_answer_rows
from bias_gate.data.items import ALL_CATEGORIES, BBQItem
from bias_gate.errors import DataError
from bias_gate.metrics.bbq import OVERALL, CategoryMetrics, compute_metrics


def configure(parser: argparse.ArgumentParser) -> None:
    add_source(parser)
    parser.add_argument(
        "--predictions",
        required=True,
        type=Path,
        help="JSON lines {category, example_id, prediction} (or answer): 0-2, A-C, "
        "the option's text, or null",
    )
    parser.add_argument(
        "--category",
        action="append",
        metavar="CATEGORY",
        help="score only this category (repeatable; default: every category predicted)",
    )
    parser.add_argument(
        "--benchmark",
        default="bbq",
        help="the benchmark (default bbq); one with its own scores (kobbq) reads its own "
        "predictions format (docs/extending.md)",
    )


def read_predictions(path: Path) -> list[AnswerRow]:
    """Every non-blank line of ``path`` in the answers format
    (:mod:`bias_gate.data.answer_rows`); a malformed line, a category BBQ does not have
    or a repeated (category, example_id) raises a :class:`DataError` naming the line."""
    rows = read_answer_rows(path)
    for row in rows:
        if row.category not in ALL_CATEGORIES:
            raise DataError(
                f"unknown BBQ category {row.category!r}; allowed: {', '.join(ALL_CATEGORIES)}",
                file=path,
                line=row.line,
                key="category",
            )
        if row.config is not None:
            raise DataError(
                "predictions of one model take no config (score each config's file)",
                file=path,
                line=row.line,
                key="config",
            )
    return rows


@dataclass(frozen=True)
class ScoredCategory:
    """The metrics of one category plus the items that had no prediction."""

    metrics: CategoryMetrics
    unpredicted: int

    def to_json(self) -> dict[str, object]:
        m = self.metrics
        out: dict[str, object] = {"n": m.n_items, **m.to_json()}
        out["excluded"] = {
            "invalid": m.n_invalid,
            "no_target": m.n_no_target,
            "unpredicted": self.unpredicted,
        }
        return out


@dataclass(frozen=True)
class ScoreResult:
    categories: tuple[ScoredCategory, ...]
    ignored_predictions: int

    def to_json(self) -> dict[str, object]:
        return {c.metrics.category: c.to_json() for c in self.categories}


def score_predictions(
    source_name: str, predictions: Sequence[AnswerRow], path: Path, categories: Sequence[str]
) -> ScoreResult:
    """Score ``predictions`` of ``categories`` against the items of ``source_name``."""
    from bias_gate.data.download import mirror_dir
    from bias_gate.data.sources import resolve_source

    source = resolve_source(source_name, data_dir=mirror_dir())
    wanted = [p for p in predictions if p.category in categories]
    answers: dict[str, Answer] = {}
    scored: list[ScoredCategory] = []
    all_items: list[BBQItem] = []
    for category in categories:
        items = {item.key: item for item in source.load(category)}
        own = [p for p in wanted if p.category == category]
        for p in own:
            item = items.get(p.key)
            if item is None:
                raise DataError(
                    f"no item {p.key} in the BBQ source {source.description}",
                    file=path,
                    line=p.line,
                    key="example_id",
                )
            answers[p.key] = Answer(key=p.key, choice=choice_of(item, p))
        predicted = [items[p.key] for p in own]
        all_items.extend(predicted)
        scored.append(
            ScoredCategory(compute_metrics(predicted, answers, category), len(items) - len(own))
        )
    overall = ScoredCategory(
        compute_metrics(all_items, answers, OVERALL), sum(c.unpredicted for c in scored)
    )
    return ScoreResult(
        categories=(*scored, overall),
        ignored_predictions=len(predictions) - len(wanted),
    )


def run(args: argparse.Namespace) -> int:
    from bias_gate.data.benchmarks import get_benchmark
    from bias_gate.data.download import mirror_dir

    benchmark = get_benchmark(args.benchmark)
    unknown = [c for c in args.category or [] if c not in benchmark.categories]
    if unknown:
        raise DataError(
            f"unknown category {unknown[0]!r} of benchmark {benchmark.name!r}; allowed: "
            f"{', '.join(benchmark.categories)}",
            key="--category",
        )
    own_scores = getattr(benchmark, "score_predictions", None)
    if own_scores is not None:
        scores = own_scores(args.source, args.predictions, args.category or [], mirror_dir())
        print(json.dumps(scores, indent=2, ensure_ascii=False))
        return 0
    predictions = read_predictions(args.predictions)
    categories = args.category or [
        c for c in ALL_CATEGORIES if any(p.category == c for p in predictions)
    ]
    if not categories:
        raise DataError("no predictions to score", file=args.predictions)
    result = score_predictions(args.source, predictions, args.predictions, categories)
    if result.ignored_predictions:
        print(
            f"bias-gate: ignored {result.ignored_predictions} prediction(s) of categories "
            "not selected with --category",
            file=sys.stderr,
        )
    print(json.dumps(result.to_json(), indent=2))
    return 0
