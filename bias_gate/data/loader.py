"""The one call the gate makes for its BBQ items: :func:`load_items`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bias_gate.config.schema import DataSpec
from bias_gate.data.items import BBQItem, items_fingerprint
from bias_gate.data.sampling import sample_items
from bias_gate.data.sources import BBQSource


@dataclass(frozen=True)
class ItemSet:
    """The items the gate asks, with what was dropped and a content fingerprint.

    ``available``: items per category after the condition filter, before sampling.
    ``counts``: items selected per category. ``excluded``: selected items per category
    whose ``biased_index`` is ``None`` (no official bias target; as in the official
    analysis script they are left out of accuracy and bias scores, and counted).
    ``fingerprint``: hash of the selected items' content
    (:func:`~bias_gate.data.items.items_fingerprint`). ``benchmark_fingerprints``: in a
    run of several benchmarks (:mod:`bias_gate.data.benchmark_set`), each benchmark's
    own items fingerprint by name; empty otherwise.
    """

    items: tuple[BBQItem, ...]
    available: dict[str, int]
    counts: dict[str, int]
    excluded: dict[str, int]
    fingerprint: str
    source: str
    benchmark_fingerprints: dict[str, str] = field(default_factory=dict)

    def by_category(self, category: str) -> tuple[BBQItem, ...]:
        return tuple(item for item in self.items if item.category == category)


def select_items(
    source: BBQSource,
    categories: Sequence[str],
    conditions: Sequence[str],
    items_per_category: int | None,
    seed: int,
) -> ItemSet:
    """Load each category from ``source``, keep the ``conditions``, sample
    ``items_per_category`` (``None``: all) with ``seed``; categories in the given order,
    items by example_id within each."""
    chosen: list[BBQItem] = []
    available: dict[str, int] = {}
    counts: dict[str, int] = {}
    excluded: dict[str, int] = {}
    for category in categories:  # the source refuses a category it does not have
        pool = [i for i in source.load(category) if i.context_condition in conditions]
        picked = sample_items(pool, items_per_category, seed)
        available[category] = len(pool)
        counts[category] = len(picked)
        excluded[category] = sum(1 for i in picked if i.biased_index is None)
        chosen.extend(picked)
    return ItemSet(
        items=tuple(chosen),
        available=available,
        counts=counts,
        excluded=excluded,
        fingerprint=items_fingerprint(chosen),
        source=source.description,
    )


def load_items(
    spec: DataSpec, data_dir: Path | None = None, base_dir: Path | None = None
) -> ItemSet:
    """The items ``spec`` describes, from its benchmark (``spec.benchmark``), or from
    each of ``spec.benchmarks`` (:func:`~bias_gate.data.benchmark_set.load_benchmark_items`).
    ``data_dir``: the local mirror of the official data (``--bias-gate-data-dir``;
    ``None`` downloads). ``base_dir``: the folder a relative ``spec.source`` directory
    is resolved against (the folder of model.yaml; ``None`` means the working
    directory)."""
    from bias_gate.registry import BENCHMARKS

    if spec.benchmarks:
        from bias_gate.data.benchmark_set import load_benchmark_items

        return load_benchmark_items(spec, data_dir=data_dir, base_dir=base_dir)
    source = BENCHMARKS.get(spec.benchmark)().source(spec.source, base_dir, data_dir)
    return select_items(
        source, spec.categories, spec.conditions, spec.items_per_category, spec.seed
    )
