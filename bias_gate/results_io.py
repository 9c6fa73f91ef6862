"""The results JSON read and written: :class:`~bias_gate.results.GateResults` from its
JSON form (results of older releases included), and the results file with its flips
side file, each written atomically and checked when read (docs/results.md)."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from bias_gate.cache import atomic_write_json, atomic_write_text
from bias_gate.errors import BiasGateError
from bias_gate.metrics.flips import (
    Flips,
    digest,
    read_side_file,
    side_file,
    side_file_text,
    with_lists,
)
from bias_gate.results import (
    PERPLEXITY,
    SCHEMA_VERSION,
    ConfigResult,
    DenseResult,
    GateResults,
    ItemResult,
    derived_reason_category,
)
from bias_gate.results_schema import check_results


def results_from_json(obj: dict[str, Any]) -> GateResults:
    """:class:`GateResults` from their JSON form. An item written before items named
    their benchmark is the run's (``run.benchmark``; BBQ when the run names none)."""
    version = obj.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(f"results schema_version {version!r}; expected {SCHEMA_VERSION}")
    benchmark = obj["run"].get("benchmark") or "bbq"
    return GateResults(
        model=obj["model"],
        run=obj["run"],
        dense=_build(DenseResult, obj["dense"]),
        configs=[config_from_json(raw, benchmark) for raw in obj.get("configs", [])],
    )


def item_from_json(raw: dict[str, Any], benchmark: str = "bbq") -> ItemResult:
    """An :class:`ItemResult` from its JSON form (``flips`` optional; a
    ``reason_category`` missing in older results is derived)."""
    item = _build(ItemResult, {"benchmark": benchmark, **raw})
    if item.flips is not None:
        item.flips = Flips.from_json(item.flips)
    if item.reason_category is None:  # results written before it was recorded
        item.reason_category = derived_reason_category(item)
    return item


def config_from_json(raw: dict[str, Any], benchmark: str = "bbq") -> ConfigResult:
    """A :class:`ConfigResult` (with its items) from its JSON form."""
    items = [item_from_json(item, benchmark) for item in raw.get("items", [])]
    config = _build(ConfigResult, {**raw, "items": items})
    if config.perplexity_reason_category is None and config.perplexity_verdict in ("fail", "warn"):
        config.perplexity_reason_category = PERPLEXITY  # written before it was recorded
    return config


def _build(cls: type, raw: dict[str, Any]) -> Any:
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in raw.items() if k in names}
    if "h_ci" in values and values["h_ci"] is not None:
        values["h_ci"] = tuple(values["h_ci"])
    return cls(**values)


def write_results(results: GateResults, path: Path) -> None:
    """Write the results JSON at ``path``, then the full flip lists beside it
    (:func:`bias_gate.metrics.flips.side_file`), each atomically. The JSON goes first and
    records the side file's SHA-256, so a crash between the two loses nothing the
    JSON holds, and a stale or torn side file is never read as this run's."""
    path = Path(path)
    data = results.to_json()
    cells = [((i.config, i.category), i.flips) for i in results.items() if i.flips is not None]
    text = side_file_text(cells) if cells else None
    if text is not None:
        data["flips_file"] = {"name": side_file(path).name, "sha256": digest(text)}
    atomic_write_json(path, data)
    if text is not None:
        atomic_write_text(side_file(path), text)


def read_results(path: Path) -> GateResults:
    """The results at ``path``, with the full flip lists of its side file when that
    is the one the JSON recorded (``flips_file`` says so). The file is checked
    against :mod:`bias_gate.results_schema` first: a bad one is a one-line
    :class:`BiasGateError` naming the file and the field."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise BiasGateError("nested too deeply; not a results file", file=path) from None
    except ValueError as exc:  # not JSON, not UTF-8, an integer of 5000 digits
        raise BiasGateError(f"not a results JSON file ({exc})", file=path) from None
    try:
        check_results(raw)
    except BiasGateError as exc:
        raise BiasGateError(exc.message, file=path, key=exc.key) from None
    results = results_from_json(raw)
    recorded = raw.get("flips_file")
    lists = read_side_file(path, recorded)
    if lists is not None:
        for item in results.items():
            if item.flips is not None:
                item.flips = with_lists(item.flips, lists.get((item.config, item.category), {}))
        results.flips_file = path.with_name(Path(recorded["name"]).name)
    return results
