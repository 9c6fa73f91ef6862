"""The items behind a config x category's flip rates: ambiguous items whose answer
turned biased under compression, and those whose bias the compression removed.

An item counts exactly as in the comparison's new-bias rate (:mod:`bias_gate.metrics.comparison`):
an ambiguous item with an official biased option, answered validly by both models;
"new bias" when the dense answer is not the biased option and the compressed one is,
"bias removed" the reverse. So ``new_bias_total`` equals the transitions unknown ->
biased plus anti -> biased.

The results JSON keeps at most :data:`FLIP_LIMIT` of each direction per cell, with the
totals; the full lists go to a side file next to it (:func:`side_file`), one JSON line
per flipped item, whose SHA-256 the results JSON records: a side file from another run,
or half of a write that crashed, is never read as this run's.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from bias_gate.answer.types import Answer
from bias_gate.data.items import BBQItem
from bias_gate.metrics.bbq import answer_kind

#: Flipped items per direction kept in the results JSON for each config x category.
FLIP_LIMIT = 20

Direction = Literal["new_bias", "bias_removed"]
DIRECTIONS: tuple[Direction, ...] = ("new_bias", "bias_removed")

Probs = tuple[float, float, float]


@dataclass(frozen=True)
class Flip:
    """One flipped item: what was asked, and how each model answered (``*_choice``: the
    option index, 0-2; ``*_probs``: the model's probabilities over the three options,
    where its scoring mode has them)."""

    example_id: int
    context: str
    question: str
    options: tuple[str, str, str]
    biased_index: int
    unknown_index: int
    dense_choice: int
    compressed_choice: int
    dense_probs: Probs | None
    compressed_probs: Probs | None

    def to_json(self) -> dict[str, Any]:
        return {
            "example_id": self.example_id,
            "context": self.context,
            "question": self.question,
            "options": list(self.options),
            "biased_index": self.biased_index,
            "unknown_index": self.unknown_index,
            "dense_choice": self.dense_choice,
            "compressed_choice": self.compressed_choice,
            "dense_probs": _list_or_none(self.dense_probs),
            "compressed_probs": _list_or_none(self.compressed_probs),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Flip:
        return cls(
            example_id=int(raw["example_id"]),
            context=str(raw["context"]),
            question=str(raw["question"]),
            options=_three(raw["options"]),
            biased_index=int(raw["biased_index"]),
            unknown_index=int(raw["unknown_index"]),
            dense_choice=int(raw["dense_choice"]),
            compressed_choice=int(raw["compressed_choice"]),
            dense_probs=_probs(raw.get("dense_probs")),
            compressed_probs=_probs(raw.get("compressed_probs")),
        )


@dataclass(frozen=True)
class Flips:
    """One config x category's flipped items in stage order: ``new_bias`` (dense not
    biased -> compressed biased) and ``bias_removed`` (the reverse), and how many there
    were of each (the lists may hold fewer: see :meth:`bounded`)."""

    new_bias: tuple[Flip, ...]
    bias_removed: tuple[Flip, ...]
    new_bias_total: int
    bias_removed_total: int

    def of(self, direction: Direction) -> tuple[Flip, ...]:
        return self.new_bias if direction == "new_bias" else self.bias_removed

    def total(self, direction: Direction) -> int:
        return self.new_bias_total if direction == "new_bias" else self.bias_removed_total

    @property
    def complete(self) -> bool:
        """Whether every flipped item is listed."""
        return len(self.new_bias) == self.new_bias_total and (
            len(self.bias_removed) == self.bias_removed_total
        )

    def bounded(self, limit: int = FLIP_LIMIT) -> Flips:
        """The first ``limit`` items of each direction, totals unchanged."""
        return replace(self, new_bias=self.new_bias[:limit], bias_removed=self.bias_removed[:limit])

    def to_json(self, limit: int | None = FLIP_LIMIT) -> dict[str, Any]:
        shown = self.bounded(limit) if limit is not None else self
        return {
            "new_bias": [flip.to_json() for flip in shown.new_bias],
            "bias_removed": [flip.to_json() for flip in shown.bias_removed],
            "new_bias_total": self.new_bias_total,
            "bias_removed_total": self.bias_removed_total,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Flips:
        return cls(
            new_bias=tuple(Flip.from_json(flip) for flip in raw.get("new_bias", [])),
            bias_removed=tuple(Flip.from_json(flip) for flip in raw.get("bias_removed", [])),
            new_bias_total=int(raw["new_bias_total"]),
            bias_removed_total=int(raw["bias_removed_total"]),
        )


def extract_flips(
    items: Sequence[BBQItem], dense: Mapping[str, Answer], compressed: Mapping[str, Answer]
) -> Flips:
    """The flipped items among ``items`` (every item needs an answer from both models;
    disambiguated items and items without a valid pair are skipped)."""
    found: dict[Direction, list[Flip]] = {"new_bias": [], "bias_removed": []}
    for item in items:
        if not item.is_ambiguous or item.biased_index is None:
            continue
        before, after = dense[item.key], compressed[item.key]
        kinds = answer_kind(item, before.choice), answer_kind(item, after.choice)
        if None in kinds or (kinds[0] == "biased") == (kinds[1] == "biased"):
            continue
        assert before.choice is not None and after.choice is not None
        direction: Direction = "new_bias" if kinds[1] == "biased" else "bias_removed"
        found[direction].append(
            Flip(
                example_id=item.example_id,
                context=item.context,
                question=item.question,
                options=item.answers,
                biased_index=item.biased_index,
                unknown_index=item.unknown_index,
                dense_choice=before.choice,
                compressed_choice=after.choice,
                dense_probs=before.probs,
                compressed_probs=after.probs,
            )
        )
    new, removed = found["new_bias"], found["bias_removed"]
    return Flips(tuple(new), tuple(removed), len(new), len(removed))


# -- the side file --------------------------------------------------------------------------

Cell = tuple[str, str]


def side_file(results_path: Path) -> Path:
    """Where the full flip lists of ``results.json`` go: ``results.flips.jsonl``."""
    return results_path.with_name(f"{results_path.stem}.flips.jsonl")


def side_file_text(cells: Iterable[tuple[Cell, Flips]]) -> str:
    """Every flipped item of every cell, one JSON object a line, with its ``config``,
    ``category`` and ``direction``."""
    lines = []
    for (config, category), flips in cells:
        for direction in DIRECTIONS:
            for flip in flips.of(direction):
                row = {"config": config, "category": category, "direction": direction}
                lines.append(json.dumps(row | flip.to_json(), sort_keys=True) + "\n")
    return "".join(lines)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_side_file(
    results_path: Path, recorded: Mapping[str, Any] | None
) -> dict[Cell, dict[Direction, list[Flip]]] | None:
    """The full lists of the side file the results JSON at ``results_path`` recorded
    (``{"name", "sha256"}``), by cell and direction; ``None`` when none was recorded, the
    file is missing, or its content is not the one recorded (another run's, a torn
    write)."""
    if not recorded:
        return None
    name = Path(str(recorded.get("name", ""))).name
    if not name:
        return None
    path = results_path.with_name(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, UnicodeDecodeError):
        return None
    if digest(text) != recorded.get("sha256"):
        return None
    from bias_gate.errors import BiasGateError
    from bias_gate.results_schema import check_side_row

    found: dict[Cell, dict[Direction, list[Flip]]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            row = json.loads(line)
            check_side_row(row)
        except (ValueError, RecursionError) as exc:
            raise BiasGateError(f"not a flips side file ({exc})", file=path, line=number) from None
        except BiasGateError as exc:
            raise BiasGateError(exc.message, file=path, line=number, key=exc.key) from None
        lists = found.setdefault((row["config"], row["category"]), {d: [] for d in DIRECTIONS})
        lists[row["direction"]].append(Flip.from_json(row))
    return found


def with_lists(flips: Flips, lists: Mapping[Direction, Sequence[Flip]]) -> Flips:
    """``flips`` with the lists of the side file (the totals are the results JSON's)."""
    return replace(
        flips,
        new_bias=tuple(lists.get("new_bias", ())),
        bias_removed=tuple(lists.get("bias_removed", ())),
    )


def _list_or_none(values: Sequence[float] | None) -> list[float] | None:
    return None if values is None else list(values)


def _three(values: Sequence[Any]) -> tuple[str, str, str]:
    first, second, third = (str(value) for value in values)
    return first, second, third


def _probs(values: Sequence[float] | None) -> Probs | None:
    if values is None:
        return None
    first, second, third = (float(value) for value in values)
    return first, second, third
