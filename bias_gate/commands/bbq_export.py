"""``bias-gate bbq export``: write the BBQ items the gate asks, one JSON object a line.

With ``--limit N --seed S`` it selects exactly what a model.yaml with
``items_per_category: N`` and ``seed: S`` selects, so users can read what is asked.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bias_gate.commands.arguments import add_source
from bias_gate.data.items import ALL_CATEGORIES, BBQItem

CONDITIONS: dict[str, tuple[str, ...]] = {
    "ambig": ("ambig",),
    "disambig": ("disambig",),
    "all": ("ambig", "disambig"),
}


def configure(parser: argparse.ArgumentParser) -> None:
    add_source(parser)
    parser.add_argument(
        "--category",
        action="append",
        choices=ALL_CATEGORIES,
        metavar="CATEGORY",
        help=f"repeatable; default: every category the source has ({', '.join(ALL_CATEGORIES)})",
    )
    parser.add_argument("--condition", choices=tuple(CONDITIONS), default="all")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        metavar="N",
        help="N items per category, sampled stratified with --seed (default: all)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=None, help="file to write (default: stdout)")


def item_record(item: BBQItem) -> dict[str, object]:
    """The exported JSON object of one item (keys in a fixed order)."""
    return {
        "category": item.category,
        "example_id": item.example_id,
        "question_index": item.question_index,
        "question_polarity": item.question_polarity,
        "context_condition": item.context_condition,
        "label": item.label,
        "unknown_index": item.unknown_index,
        "biased_index": item.biased_index,
        "stereotyped_index": item.stereotyped_index,
        "context": item.context,
        "question": item.question,
        "answers": list(item.answers),
        "answer_groups": list(item.answer_groups),
        "stereotyped_groups": list(item.stereotyped_groups),
    }


def run(args: argparse.Namespace) -> int:
    from bias_gate.cache import atomic_write_text
    from bias_gate.data.download import mirror_dir
    from bias_gate.data.loader import select_items
    from bias_gate.data.sources import resolve_source
    from bias_gate.errors import DataError

    if args.limit is not None and args.limit < 1:
        raise DataError(f"--limit must be at least 1, got {args.limit}", key="--limit")
    source = resolve_source(args.source, data_dir=mirror_dir())
    categories = args.category or list(source.categories())
    if not categories:
        raise DataError(
            "no <Category>.jsonl files in the source folder; give --category or a folder "
            "laid out like the official data/",
            file=args.source,
        )
    selected = select_items(
        source, list(dict.fromkeys(categories)), CONDITIONS[args.condition], args.limit, args.seed
    )
    text = "".join(json.dumps(item_record(i), ensure_ascii=False) + "\n" for i in selected.items)
    if args.output is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(args.output, text)
    summary = ", ".join(
        f"{c} {selected.counts[c]} (no bias target: {selected.excluded[c]})"
        for c in selected.counts
    )
    print(
        f"bias-gate: exported {len(selected.items)} items from {selected.source}: {summary}; "
        f"fingerprint {selected.fingerprint}",
        file=sys.stderr,
    )
    return 0
