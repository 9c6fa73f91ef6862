"""One answers format: the JSON lines ``bias-gate compare`` and ``bias-gate bbq score``
read (and the line reading of KoBBQ's predictions), and how an answer names an option.

A line is a JSON object::

    {"category": "Age", "example_id": 12, "answer": 2}
    {"category": "Age", "example_id": 12, "answer": "C", "config": "q4", "probs": [.1, .2, .7]}
    {"category": "Age", "example_id": 12, "prediction": "The grandson"}

``answer`` (or its alias ``prediction``; a line gives one of the two) is

- an option index: the JSON integer 0, 1 or 2 (ans0..ans2, the item's own order);
- a letter ``"A"``, ``"B"`` or ``"C"`` (A = ans0);
- an option's text, matched as the BBQ scorer matches it (:func:`normalize_answer_text`:
  case and whitespace, trailing periods and one leading "the " do not count); it must
  name exactly one option;
- ``null``: no valid answer (an unparseable generation).

Anything else (``3``, ``"D"``, a text that names no option or two) is bad input: one line
naming the file, the line and the key, with the fix. ``probs`` (optional) are the three
options' probabilities; ``config`` (optional) names the compressed config a line
answers. A benchmark that names its items by an id of its own (``item_id_field``:
KoBBQ's ``sample_id``) takes that field in place of ``category`` and ``example_id``.
No torch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bias_gate.data.items import BBQItem
from bias_gate.errors import DataError
from bias_gate.utf8 import json_line, read_utf8

#: The keys that carry the answer: ``answer``, and ``prediction`` as its alias.
ANSWER_KEYS = ("answer", "prediction")
#: Example ids above this are refused (BBQ's are below 10^5; this keeps messages short).
MAX_EXAMPLE_ID = 10**9
LETTERS = {"A": 0, "B": 1, "C": 2}
ALLOWED = "use 0, 1, 2, 'A', 'B', 'C', an option's text or null"

Raw = int | str | None


@dataclass(frozen=True)
class AnswerRow:
    """One answer line: the item, the config (``None`` when the line names none), the
    raw answer as given, the probabilities and where the line is."""

    category: str
    example_id: int
    config: str | None
    answer: Raw
    probs: tuple[float, float, float] | None
    file: Path
    line: int
    #: The key the line gave its answer under (``answer`` or ``prediction``).
    answer_key: str = "answer"

    @property
    def key(self) -> str:
        return f"{self.category}/{self.example_id}"


def json_objects(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of every non-blank line of a JSON-lines file; a line that
    is not a JSON object is a one-line DataError naming it."""
    for number, text in enumerate(read_utf8(path, DataError).split("\n"), start=1):
        if not text.strip():
            continue
        obj = json_line(text, path, number, DataError)
        if not isinstance(obj, dict):
            raise DataError("expected a JSON object per line", file=path, line=number)
        yield number, obj


def raw_answer(obj: dict[str, Any], path: Path, line: int) -> Raw:
    """The answer a line gives under ``answer`` or ``prediction``: an index 0-2, a text
    (letter or option text, resolved by :func:`choice_of`) or ``None``."""
    given = [key for key in ANSWER_KEYS if key in obj]
    if len(given) != 1:
        problem = "both answer and prediction" if given else "no answer"
        raise DataError(
            f"{problem}; give one of them ({ALLOWED})", file=path, line=line, key="answer"
        )
    key = given[0]
    value = obj[key]
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and value in (0, 1, 2):
        return value
    raise DataError(f"{value!r} is not an answer; {ALLOWED}", file=path, line=line, key=key)


def normalize_answer_text(text: str) -> str:
    """The form an answer text and an option are compared in: surrounding whitespace
    stripped, lower-cased, inner whitespace collapsed, trailing periods removed and one
    leading "the " removed."""
    text = " ".join(text.strip().lower().split())
    text = text.rstrip(".").rstrip()
    return text.removeprefix("the ")


def option_matches(options: tuple[str, ...], text: str) -> list[int]:
    """The indices of the options ``text`` names after :func:`normalize_answer_text`."""
    wanted = normalize_answer_text(text)
    return [i for i, option in enumerate(options) if normalize_answer_text(option) == wanted]


def choice_of(item: BBQItem, row: AnswerRow) -> int | None:
    """The option index ``row`` names for ``item`` (``None``: no valid answer); a text
    that is neither a letter nor exactly one option's text is a one-line DataError."""
    value = row.answer
    if value is None or isinstance(value, int):
        return value
    letter = value.strip().upper()
    if letter in LETTERS:
        return LETTERS[letter]
    hits = option_matches(item.answers, value)
    if len(hits) == 1:
        return hits[0]
    options = " | ".join(item.answers)
    raise DataError(
        f"{value!r} names {'no' if not hits else 'more than one'} option of {row.key} "
        f"({options}); {ALLOWED} (null for an answer that names no option)",
        file=row.file,
        line=row.line,
        key=row.answer_key,
    )


def probabilities(value: Any, path: Path, line: int) -> tuple[float, float, float] | None:
    """``probs``: three probabilities that sum to 1, or ``None``."""
    if value is None:
        return None
    ok = (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in value)
        and all(0 <= x <= 1 for x in value)
    )
    if not ok or abs(sum(value) - 1.0) > 1e-3:
        raise DataError(
            "three probabilities that sum to 1 (or leave it out)", file=path, line=line, key="probs"
        )
    return (float(value[0]), float(value[1]), float(value[2]))


def _own_id(obj: dict[str, Any], benchmark: Any, path: Path, line: int) -> dict[str, Any]:
    """``obj`` with ``category`` and ``example_id`` from the benchmark's own item id
    field, when the benchmark has one and the line gives it."""
    field = getattr(benchmark, "item_id_field", None)
    if field is None or field not in obj:
        return obj
    try:
        category, example_id = benchmark.parse_item_id(obj[field])
    except DataError as exc:
        raise DataError(exc.message, file=path, line=line, key=field) from None
    return {**obj, "category": category, "example_id": example_id}


def _identity(obj: dict[str, Any], path: Path, line: int) -> tuple[str, int, str | None]:
    """(category, example_id, config) of one line, each checked."""
    for key in ("category", "example_id"):
        if key not in obj:
            raise DataError(
                "missing; each line needs category, example_id and answer",
                file=path,
                line=line,
                key=key,
            )
    category, example_id, config = obj["category"], obj["example_id"], obj.get("config")
    if not isinstance(category, str):
        raise DataError("must be a string", file=path, line=line, key="category")
    if isinstance(example_id, bool) or not isinstance(example_id, int):
        raise DataError("example_id must be an integer", file=path, line=line, key="example_id")
    if not 0 <= example_id < MAX_EXAMPLE_ID:
        raise DataError(
            f"example_id must be 0 to {MAX_EXAMPLE_ID - 1} (BBQ's ids are small)",
            file=path,
            line=line,
            key="example_id",
        )
    if config is not None and not isinstance(config, str):
        raise DataError("must be a string", file=path, line=line, key="config")
    return category, example_id, config


def row_of(
    obj: dict[str, Any],
    path: Path,
    line: int,
    benchmark: Any = None,
    default_config: str | None = None,
) -> AnswerRow:
    """One line's :class:`AnswerRow` (``config``: the line's, else ``default_config``);
    each malformed field is a one-line DataError."""
    obj = _own_id(obj, benchmark, path, line)
    category, example_id, config = _identity(obj, path, line)
    return AnswerRow(
        category=category,
        example_id=example_id,
        config=config if config is not None else default_config,
        answer=raw_answer(obj, path, line),
        probs=probabilities(obj.get("probs"), path, line),
        file=path,
        line=line,
        answer_key=next((key for key in ANSWER_KEYS if key in obj), "answer"),
    )


def read_answer_rows(
    path: Path, benchmark: Any = None, default_config: str | None = None
) -> list[AnswerRow]:
    """The answer rows of ``path``; a malformed line, or a second answer of one config
    to one item, is a one-line DataError naming the line. ``benchmark``: the benchmark
    whose own item ids a line may give instead; ``default_config``: the config of a
    line that names none."""
    rows: list[AnswerRow] = []
    seen: dict[tuple[str | None, str], int] = {}
    for number, obj in json_objects(path):
        row = row_of(obj, path, number, benchmark, default_config)
        identity = (row.config, row.key)
        if identity in seen:
            raise DataError(
                f"second answer to {row.key} (first on line {seen[identity]})",
                file=path,
                line=number,
            )
        seen[identity] = number
        rows.append(row)
    if not rows:
        raise DataError("no answers in the file", file=path)
    return rows
