"""``bias-gate compare``: judge answers produced anywhere with the gate's own rule.

Answers from another harness, an earlier run or a device, as JSON lines::

    {"category": "Age", "example_id": 12, "answer": 2}
    {"category": "Age", "example_id": 12, "answer": "C", "config": "q4", "probs": [.1, .2, .7]}

``answer`` is the chosen option in the item's original order: 0, 1 or 2, a letter
"A"/"B"/"C" (A = ans0), or null for an unparseable answer. ``probs`` (optional) are the
three options' probabilities, for the ``expected_srs`` metric. Compressed rows may carry
``config`` (default ``compressed``); every config must answer exactly the items the dense
answers cover. Each config is judged as one family over its categories, after the dense
answers' validity is checked on the disambiguated rows, exactly as the gate does
(bias_gate.judge.looks; one look: every answer is already there). ``--source`` takes what
``data.source`` takes.

``--benchmark NAME`` (default ``bbq``) reads the items of that benchmark; one that names
its items by an id of its own (``item_id_field``: KoBBQ's ``sample_id``) takes that
field in place of ``category`` and ``example_id``::

    {"sample_id": "age-001a-002-amb-bsd", "answer": 1}

Exit status: 1 when any config fails, 0 otherwise, 2 for bad input (one line naming the
file and line). Nothing here imports torch.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bias_gate.answer.types import Answer
from bias_gate.commands.arguments import add_source
from bias_gate.data.items import BBQItem
from bias_gate.errors import DataError
from bias_gate.numbers import fmt_finite as _fmt
from bias_gate.results import ItemResult
from bias_gate.utf8 import json_line

DEFAULT_CONFIG = "compressed"
#: Example ids above this are refused (BBQ's are below 10^5; this keeps messages short).
MAX_EXAMPLE_ID = 10**9
LETTERS = {"A": 0, "B": 1, "C": 2}


@dataclass(frozen=True)
class Row:
    """One answer line: which item, which config, the choice and probabilities."""

    category: str
    example_id: int
    config: str
    choice: int | None
    probs: tuple[float, float, float] | None
    line: int

    @property
    def key(self) -> str:
        return f"{self.category}/{self.example_id}"


def configure(parser: argparse.ArgumentParser) -> None:
    add_source(parser)
    parser.add_argument("--dense", required=True, type=Path, help="the dense model's answers")
    parser.add_argument(
        "--compressed", required=True, type=Path, help="the compressed model(s)' answers"
    )
    parser.add_argument(
        "--profile", default="default", help="threshold profile: a name or a .yaml path"
    )
    parser.add_argument("--json", type=Path, help="write the verdicts as JSON here")
    parser.add_argument(
        "--data-dir", type=Path, help="a local mirror of the official data (bbq/<Category>.jsonl)"
    )
    parser.add_argument(
        "--benchmark", default="bbq", help="the benchmark whose items the answers are to"
    )


def _choice(value: Any, where: tuple[Path, int]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise DataError(
            "answer must be 0, 1, 2, 'A', 'B', 'C' or null", file=where[0], line=where[1]
        )
    if isinstance(value, int) and value in (0, 1, 2):
        return value
    if isinstance(value, str) and value.strip().upper() in LETTERS:
        return LETTERS[value.strip().upper()]
    raise DataError(
        f"answer {value!r} is out of range; use 0, 1, 2, 'A', 'B', 'C' or null",
        file=where[0],
        line=where[1],
    )


def _probs(value: Any, where: tuple[Path, int]) -> tuple[float, float, float] | None:
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
            "probs must be three probabilities that sum to 1", file=where[0], line=where[1]
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


def _lines(path: Path) -> list[str]:
    """The lines of ``path`` (split at line feeds only); unreadable or non-UTF-8 text is
    a one-line DataError naming the line of the first bad byte."""

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read answers ({exc.strerror})", file=path) from None
    try:
        return data.decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataError(
            f"not UTF-8 text (byte {exc.start}); save the answers as UTF-8", file=path, line=line
        ) from None


def read_rows(path: Path, default_config: str | None, benchmark: Any = None) -> list[Row]:
    """The answer rows of ``path``; every malformed line is a one-line DataError.
    ``benchmark``: the benchmark whose own item ids a line may give instead."""
    rows: list[Row] = []
    seen: dict[tuple[str, str], int] = {}
    for number, text in enumerate(_lines(path), start=1):
        if not text.strip():
            continue
        where = (path, number)
        obj = json_line(text, path, number, DataError, invalid="not JSON")
        if not isinstance(obj, dict):
            raise DataError("each line must be a JSON object", file=path, line=number)
        obj = _own_id(obj, benchmark, path, number)
        missing = [k for k in ("category", "example_id", "answer") if k not in obj]
        if missing:
            raise DataError(f"missing {', '.join(missing)}", file=path, line=number)
        example_id = obj["example_id"]
        if not isinstance(example_id, int) or isinstance(example_id, bool):
            raise DataError("example_id must be an integer", file=path, line=number)
        if not 0 <= example_id < MAX_EXAMPLE_ID:
            raise DataError(
                f"example_id must be 0 to {MAX_EXAMPLE_ID - 1} (BBQ's ids are small)",
                file=path,
                line=number,
            )
        if not isinstance(obj["category"], str) or not isinstance(obj.get("config", ""), str):
            raise DataError("category and config must be strings", file=path, line=number)
        config = obj.get("config", default_config)
        if default_config is None and "config" in obj:
            raise DataError("dense answers take no 'config'", file=path, line=number)
        row = Row(
            category=str(obj["category"]),
            example_id=example_id,
            config=str(config or "dense"),
            choice=_choice(obj["answer"], where),
            probs=_probs(obj.get("probs"), where),
            line=number,
        )
        identity = (row.config, row.key)
        if identity in seen:
            raise DataError(
                f"duplicate answer to {row.key} (first on line {seen[identity]})",
                file=path,
                line=number,
            )
        seen[identity] = number
        rows.append(row)
    if not rows:
        raise DataError("no answers in the file", file=path)
    return rows


def _items_for(
    rows: Sequence[Row], source: str, path: Path, data_dir: Path | None, benchmark: Any
) -> dict[str, BBQItem]:
    from bias_gate.data.download import mirror_dir

    bbq = benchmark.source(source, None, data_dir or mirror_dir())
    items: dict[str, BBQItem] = {}
    for category in sorted({row.category for row in rows}):
        try:
            loaded = bbq.load(category)
        except DataError as exc:
            first = next(r for r in rows if r.category == category)
            raise DataError(exc.message, file=path, line=first.line, key="category") from None
        by_id = {item.example_id: item for item in loaded}
        for row in rows:
            if row.category == category:
                if row.example_id not in by_id:
                    raise DataError(
                        f"unknown example_id {row.example_id} in {category} ({bbq.description})",
                        file=path,
                        line=row.line,
                    )
                items[row.key] = by_id[row.example_id]
    return items


def _answers(rows: Sequence[Row]) -> dict[str, Answer]:
    return {row.key: Answer(row.key, row.choice, row.probs) for row in rows}


def _source(answers: dict[str, Answer]) -> Callable[[Sequence[BBQItem]], dict[str, Answer]]:
    """The answers of the items asked for (the judge's answer source)."""
    return lambda wanted: {i.key: answers[i.key] for i in wanted}


def compare(args: argparse.Namespace) -> dict[str, Any]:
    """Judge every config of ``args.compressed`` against ``args.dense``; the JSON
    document the command prints and writes."""
    from bias_gate.data.benchmarks import get_benchmark
    from bias_gate.judge.item_results import judge_items
    from bias_gate.judge.looks import plan_categories
    from bias_gate.judge.thresholds import ThresholdSet, load_profile
    from bias_gate.judge.validity import validity, validity_by_category
    from bias_gate.metrics.gated import get_metric
    from bias_gate.results import DenseResult

    limits = load_profile(args.profile)
    benchmark = get_benchmark(args.benchmark)
    dense_rows = read_rows(args.dense, None, benchmark)
    compressed_rows = read_rows(args.compressed, DEFAULT_CONFIG, benchmark)
    items = _items_for(dense_rows, args.source, args.dense, args.data_dir, benchmark)
    dense = _answers(dense_rows)
    configs: dict[str, list[Row]] = {}
    for row in compressed_rows:
        configs.setdefault(row.config, []).append(row)
    for name, rows in configs.items():
        keys = {row.key for row in rows}
        for row in rows:
            if row.key not in items:
                raise DataError(
                    f"config {name!r} answers {row.key}, which the dense answers do not cover",
                    file=args.compressed,
                    line=row.line,
                )
        lacking = [key for key in items if key not in keys]
        if lacking:
            raise DataError(
                f"config {name!r} lacks answers to {len(lacking)} items the dense answers "
                f"cover (first: {lacking[0]}); the comparison is paired by item",
                file=args.compressed,
            )

    disambiguated = [item for item in items.values() if not item.is_ambiguous]
    diagnostics = validity(disambiguated, dense)
    judged = diagnostics.judge(limits.validity, limits.power, who="the dense model")
    informative, reasons = judged.state == "valid", judged.reasons
    categories = sorted({item.category for item in items.values()})
    by_category = validity_by_category(
        disambiguated, dense, categories, limits.validity, limits.power
    )
    plans = plan_categories(list(items.values()), categories, looks=1, seed=0)
    dense_result = DenseResult(
        perplexity=None,
        validity=diagnostics.to_json(),
        informative=informative,
        validity_reasons=reasons,
        validity_by_category=by_category,
        validity_state=judged.state,
    )
    out_configs = []
    any_fail = False
    for name, rows in configs.items():
        compressed = _answers(rows)
        results = judge_items(
            name,
            plans,
            _source(dense),
            _source(compressed),
            thresholds=ThresholdSet(profile=args.profile, base=limits),
            metric=get_metric(limits.metric),
            dense_result=dense_result,
        )
        for result in results:
            result.benchmark = args.benchmark
        any_fail |= any(r.verdict == "fail" for r in results)
        out_configs.append({"name": name, "items": [_item_json(r) for r in results]})
    return {
        "profile": args.profile,
        "thresholds": limits.model_dump(mode="json"),
        "dense": {
            "informative": informative,
            "validity_reasons": reasons,
            "validity_state": judged.state,
            "validity": diagnostics.to_json(),
            "validity_by_category": by_category,
        },
        "configs": out_configs,
        "verdict": "fail" if any_fail else "pass",
    }


def _item_json(result: ItemResult) -> dict[str, Any]:
    data = asdict(result)
    lower, upper = result.h_ci if result.h_ci is not None else (None, None)
    data["h_lower"], data["h_upper"] = lower, upper
    return data


def render_text(document: dict[str, Any]) -> str:
    """One line per config x category: verdict, h with bounds, p, n."""
    lines = [f"bias-gate compare ({document['profile']} profile)"]
    if not document["dense"]["informative"]:
        words = {"too_few": "validity NOT established"}.get(
            document["dense"].get("validity_state", ""), "NOT valid"
        )
        lines.append(f"dense answers {words}: " + "; ".join(document["dense"]["validity_reasons"]))
    for config in document["configs"]:
        for item in config["items"]:
            lines.append(
                f"{config['name']:<16}{item['category']:<22}{item['verdict'].upper():<6}"
                + (f"({item['reason_category']}) " if item.get("reason_category") else "")
                + f"h {_fmt(item['cohens_h'])} [{_fmt(item['h_lower'])}, {_fmt(item['h_upper'])}] "
                f"limit {item['limit']:g}, p {_fmt(item['p_value'], 4)}, n={item['n']}"
            )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.json is not None:  # before the work: an unwritable path is bad input (exit 2)
        from bias_gate.report.staging import check_output

        check_output(args.json, "--json", "json")
    document = compare(args)
    print(render_text(document))
    if args.json is not None:
        from bias_gate.cache import atomic_write_json

        atomic_write_json(args.json, document)
    return 1 if document["verdict"] == "fail" else 0
