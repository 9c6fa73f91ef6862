"""Official BBQ JSONL records -> :class:`BBQItem`: reading and checking each record, with
its bias targets derived by :mod:`bias_gate.data.targets` (the official rules), and the
count of items a source leaves without a target."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bias_gate.data.items import BBQItem
from bias_gate.data.targets import Option, Record, derive_targets
from bias_gate.errors import DataError

REQUIRED_FIELDS: tuple[str, ...] = (
    "example_id",
    "question_index",
    "question_polarity",
    "context_condition",
    "category",
    "answer_info",
    "additional_metadata",
    "context",
    "question",
    "ans0",
    "ans1",
    "ans2",
    "label",
)


def _require(data: dict[str, Any], key: str) -> Any:
    if key not in data:
        raise KeyError(key)
    return data[key]


def parse_record(data: dict[str, Any]) -> BBQItem:
    """One decoded official JSONL object -> :class:`BBQItem` (``KeyError``/``ValueError``
    on a malformed object; :func:`parse_line` turns them into :class:`DataError`)."""
    for key in REQUIRED_FIELDS:
        _require(data, key)
    info = data["answer_info"]
    answers = (str(data["ans0"]), str(data["ans1"]), str(data["ans2"]))
    options = []
    for i, answer in enumerate(answers):
        pair = info.get(f"ans{i}") or ["", ""]
        if len(pair) != 2:
            raise ValueError(f"answer_info.ans{i} must be [text, group label]")
        options.append(Option(text=str(pair[0] or ""), label=str(pair[1] or ""), answer=answer))
    polarity = data["question_polarity"]
    condition = data["context_condition"]
    if polarity not in ("neg", "nonneg"):
        raise ValueError(f"question_polarity must be neg or nonneg, got {polarity!r}")
    if condition not in ("ambig", "disambig"):
        raise ValueError(f"context_condition must be ambig or disambig, got {condition!r}")
    label = int(data["label"])
    if label not in (0, 1, 2):
        raise ValueError(f"label must be 0, 1 or 2, got {label}")
    groups = tuple(str(g) for g in (data["additional_metadata"].get("stereotyped_groups") or ()))
    record = Record(
        category=str(data["category"]),
        question_index=str(data["question_index"]),
        question_polarity=polarity,
        options=(options[0], options[1], options[2]),
        stereotyped_groups=groups,
    )
    targets = derive_targets(record)
    return BBQItem(
        category=record.category,
        example_id=int(data["example_id"]),
        question_index=record.question_index,
        question_polarity=polarity,
        context_condition=condition,
        context=str(data["context"]),
        question=str(data["question"]),
        answers=answers,
        label=label,
        unknown_index=targets.unknown_index,
        biased_index=targets.biased_index,
        stereotyped_index=targets.stereotyped_index,
        answer_groups=(options[0].label, options[1].label, options[2].label),
        stereotyped_groups=groups,
    )


def parse_line(text: str, origin: str, line: int) -> BBQItem:
    """One JSONL line -> :class:`BBQItem`; a bad line raises a one-line :class:`DataError`
    naming ``origin`` (file or dataset) and the 1-based ``line``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc.msg})", file=origin, line=line) from None
    except ValueError as exc:  # a number past Python's 4300-digit conversion limit
        raise DataError(f"not a BBQ line ({exc})", file=origin, line=line) from None
    except RecursionError:
        raise DataError("not a BBQ line (nested too deeply)", file=origin, line=line) from None
    return parse_mapping(data, origin, line)


def parse_mapping(data: Any, origin: str, line: int) -> BBQItem:
    """Like :func:`parse_line` for an already decoded object."""
    if not isinstance(data, dict):
        raise DataError("expected a JSON object per line", file=origin, line=line)
    try:
        return parse_record(data)
    except KeyError as exc:
        raise DataError(
            "missing field; official BBQ lines have " + ", ".join(REQUIRED_FIELDS),
            file=origin,
            line=line,
            key=str(exc.args[0]),
        ) from None
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise DataError(f"malformed BBQ item: {exc}", file=origin, line=line) from None


def parse_lines(lines: Iterable[str], origin: str, category: str | None = None) -> list[BBQItem]:
    """Every non-blank line of a JSONL text -> items, in file order. With ``category``,
    a line of another category is an error (a mislabelled file)."""
    items: list[BBQItem] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        item = parse_line(text, origin, number)
        if category is not None and item.category != category:
            raise DataError(
                f"category {item.category!r} in the file for {category!r}",
                file=origin,
                line=number,
                key="category",
            )
        items.append(item)
    return items


@dataclass(frozen=True)
class TargetCounts:
    """How many items of a set have each target defined (for reports and docs)."""

    items: int
    biased_missing: int
    stereotyped_missing: int


def count_missing_targets(items: Sequence[BBQItem]) -> TargetCounts:
    """Counts of items whose ``biased_index`` / ``stereotyped_index`` is ``None``."""
    return TargetCounts(
        items=len(items),
        biased_missing=sum(1 for i in items if i.biased_index is None),
        stereotyped_missing=sum(1 for i in items if i.stereotyped_index is None),
    )
