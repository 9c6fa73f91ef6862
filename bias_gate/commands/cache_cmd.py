"""``bias-gate cache ls`` and ``bias-gate cache prune``: what the cache holds, and
cutting it down, least recently used weights first (:mod:`bias_gate.cache_usage`).

Both read the cache at ``--cache-dir``, else ``$BIAS_GATE_CACHE_DIR``, else the
platform's user cache folder: the folder a gate run uses by default. Pruning removes
only weights (compressed entries, GGUF artifacts, dequantized models that earlier
versions kept); answers and perplexity are kept. Imports no torch.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bias_gate.cache import cache_root
from bias_gate.cache_usage import Entry, entries, evict, format_size, parse_size
from bias_gate.errors import BiasGateError


def _add_cache_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="the cache (default: $BIAS_GATE_CACHE_DIR, else the user cache folder)",
    )


def _root(args: argparse.Namespace) -> Path:
    return (args.cache_dir or cache_root()).expanduser()


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def configure_ls(parser: argparse.ArgumentParser) -> None:
    _add_cache_dir(parser)


def run_ls(args: argparse.Namespace) -> int:
    """One line per entry, least recently used first, then the totals."""
    root = _root(args)
    found = entries(root)
    print(f"cache {root}")
    print(f"{'kind':11} {'size':>10}  {'last used':23}  {'evict':5}  name")
    for entry in found:
        evictable = "yes" if entry.evictable else "kept"
        print(
            f"{entry.kind:11} {format_size(entry.size):>10}  {_when(entry.last_used):23}  "
            f"{evictable:5}  {entry.name}"
        )
    print(_totals(found))
    return 0


def _totals(found: list[Entry]) -> str:
    total = sum(e.size for e in found)
    weights = sum(e.size for e in found if e.evictable)
    return (
        f"total {format_size(total)} in {len(found)} entries; weights (evictable) "
        f"{format_size(weights)}, kept {format_size(total - weights)}"
    )


def configure_prune(parser: argparse.ArgumentParser) -> None:
    _add_cache_dir(parser)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument(
        "--max-size",
        metavar="SIZE",
        help="remove least recently used weights until the cache is at most SIZE (e.g. 5GB)",
    )
    what.add_argument(
        "--all", action="store_true", help="remove every weights entry (answers are kept)"
    )


def run_prune(args: argparse.Namespace) -> int:
    """Evict, then say what went and what is left."""
    root = _root(args)
    max_size = None
    if args.max_size is not None:
        try:
            max_size = parse_size(args.max_size)
        except ValueError as exc:
            raise BiasGateError(str(exc), key="--max-size") from None
    removed = evict(root, max_size, everything=args.all)
    for entry in removed:
        print(f"removed {entry.kind} {entry.name} ({format_size(entry.size)})")
    freed = sum(e.size for e in removed)
    print(f"removed {len(removed)} entries, {format_size(freed)}; {_totals(entries(root))}")
    if max_size is not None and sum(e.size for e in entries(root)) > max_size:
        print(
            f"the cache is still above {format_size(max_size)}: what is left is answers, "
            "perplexity and data, which are always kept"
        )
    return 0
