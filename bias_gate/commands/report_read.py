"""``bias-gate report``'s inputs: the results files (merged with ``--merge``), the
results JSON the outputs point at, and one cell's flipped items (``--flips``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bias_gate.errors import BiasGateError
from bias_gate.results import GateResults, ItemResult


def read_results(path: Path, key: str | None = None) -> GateResults:
    try:
        return GateResults.read(path)
    except (FileNotFoundError, IsADirectoryError):
        raise BiasGateError("results file not found", file=path, key=key) from None
    except BiasGateError as exc:  # the schema's line: name the option it came through
        keys = [part for part in (key, exc.key) if part]
        key_text = " ".join(keys) or None
        raise BiasGateError(exc.message, file=exc.file, line=exc.line, key=key_text) from None
    except PermissionError:
        raise BiasGateError("results file cannot be read (permission denied)", file=path) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BiasGateError(f"not a results JSON file ({exc})", file=path, key=key) from None
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise BiasGateError(
            f"not a bias-gate results file ({type(exc).__name__}: {exc}); write one with "
            "pytest --bias-gate ... --bias-gate-json PATH",
            file=path,
            key=key,
        ) from None


def load(args: argparse.Namespace) -> GateResults:
    shards = [read_results(path) for path in args.results]
    if len(shards) == 1 and not args.merge:
        return shards[0]
    if not args.merge:
        raise BiasGateError(
            f"{len(shards)} results files given; pass --merge to join shards of one run, "
            "or report them one at a time"
        )
    from bias_gate.report.merge import merge_results

    return merge_results(shards, [str(path) for path in args.results])


def results_json(args: argparse.Namespace) -> Path | None:
    """The results JSON the outputs point at: ``--json OUT`` when written, else the one
    input file of an unmerged report; None for a merge without ``--json``."""
    if args.json is not None:
        return args.json
    if len(args.results) == 1 and not args.merge:
        return args.results[0]
    return None


def flips_cell(results: GateResults, cell: str) -> ItemResult:
    """The item named ``CONFIG::CATEGORY``; one usage line listing the cells if none."""
    items = {f"{item.config}::{item.category}": item for item in results.items()}
    item = items.get(cell)
    if item is None:
        raise BiasGateError(
            f"no cell {cell!r} in the results; the cells are: {', '.join(items) or 'none'}",
            key="--flips",
        )
    if item.flips is None:
        raise BiasGateError(
            f"{cell} has no flipped items recorded (results written before bias-gate "
            "recorded them); rerun the gate",
            key="--flips",
        )
    return item


def print_flips(results: GateResults, item: ItemResult, args: argparse.Namespace) -> None:
    from bias_gate.metrics.flips import FLIP_LIMIT, side_file
    from bias_gate.report.flips import flips_text

    assert item.flips is not None
    inputs = ", ".join(map(str, args.results))
    if results.flips_file is not None:
        source = f"from {results.flips_file} (every flipped item)"
    elif item.flips.complete:
        source = f"from {inputs} (every flipped item is listed there)"
    else:
        expected = ", ".join(str(side_file(path)) for path in args.results)
        source = (
            f"from {inputs}: the first {FLIP_LIMIT} of each direction only ({expected} "
            "is missing or not the one this results file was written with)"
        )
    sys.stdout.write(f"flipped items of {item.config}::{item.category} {source}\n")
    sys.stdout.write(flips_text(item))
