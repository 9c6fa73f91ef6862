"""Several benchmarks in one gate run (``data.benchmarks: [bbq, kobbq]``).

A run judges gate categories: BBQ's keep their own names (``Age``, so BBQ's node ids,
baselines and caches stay what a BBQ-only run has), every other benchmark's are
``<benchmark>/<Category>`` (``kobbq/Age``). An item of such a run carries its gate
category as its ``category``, so everything downstream that groups by category (the
looks, the verdicts, the per-category thresholds, the reports) reads each benchmark's
categories as its own rows. :func:`load_benchmark_items` loads each benchmark's items
with its own source and merges them; :func:`split_category` reads a gate category back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from bias_gate.config.schema import DataSpec
from bias_gate.data.items import BBQItem
from bias_gate.data.loader import ItemSet, load_items
from bias_gate.fingerprint import fingerprint

#: The benchmark whose categories keep their plain names in a run of several.
BBQ = "bbq"


def gate_category(benchmark: str, category: str) -> str:
    """The gate category of ``benchmark``'s ``category`` in a run of several benchmarks:
    BBQ's plain, another's ``<benchmark>/<category>``."""
    return category if benchmark == BBQ else f"{benchmark}/{category}"


def split_category(name: str, default: str = BBQ) -> tuple[str, str]:
    """``(benchmark, category)`` of a gate category: ``kobbq/Age`` is
    ``("kobbq", "Age")``; a plain name is ``default``'s (BBQ unless the run has one
    other benchmark only)."""
    benchmark, slash, category = name.partition("/")
    return (benchmark, category) if slash else (default, name)


def benchmark_of_category(spec: DataSpec, name: str) -> str:
    """The benchmark gate category ``name`` of a run of ``spec`` is from: the run's one
    (``data.benchmark``), or with ``data.benchmarks`` the one its name says."""
    return split_category(name)[0] if spec.benchmarks else spec.benchmark


def benchmark_categories(names: Sequence[str]) -> dict[str, list[str]]:
    """The gate categories ``names`` grouped by benchmark, in first-seen order, each
    with its benchmark's own category names."""
    grouped: dict[str, list[str]] = {}
    for name in names:
        benchmark, category = split_category(name)
        grouped.setdefault(benchmark, []).append(category)
    return grouped


def load_benchmark_items(
    spec: DataSpec, data_dir: Path | None = None, base_dir: Path | None = None
) -> ItemSet:
    """The items of every benchmark of ``spec.categories`` (gate categories, as
    :func:`gate_category` names them), each benchmark's loaded with its own source and
    prompt language by :func:`~bias_gate.data.loader.load_items`, its items renamed to
    their gate categories, merged in the order of ``spec.categories``. The fingerprint is
    made of each benchmark's own items fingerprint (``parts``), by name."""
    parts: dict[str, ItemSet] = {}
    for benchmark, categories in benchmark_categories(spec.categories).items():
        own = spec.model_copy(
            update={"benchmark": benchmark, "benchmarks": None, "categories": categories}
        )
        parts[benchmark] = load_items(own, data_dir=data_dir, base_dir=base_dir)
    by_gate: dict[str, tuple[BBQItem, ...]] = {}
    available: dict[str, int] = {}
    counts: dict[str, int] = {}
    excluded: dict[str, int] = {}
    for benchmark, part in parts.items():
        for category in part.counts:
            name = gate_category(benchmark, category)
            by_gate[name] = tuple(
                replace(item, category=name) for item in part.by_category(category)
            )
            available[name] = part.available[category]
            counts[name] = part.counts[category]
            excluded[name] = part.excluded[category]
    return ItemSet(
        items=tuple(item for name in spec.categories for item in by_gate[name]),
        available={name: available[name] for name in spec.categories},
        counts={name: counts[name] for name in spec.categories},
        excluded={name: excluded[name] for name in spec.categories},
        fingerprint=fingerprint(
            "benchmark-items/v1", {name: part.fingerprint for name, part in parts.items()}
        ),
        source="; ".join(f"{name}: {part.source}" for name, part in parts.items()),
        benchmark_fingerprints={name: part.fingerprint for name, part in parts.items()},
    )
