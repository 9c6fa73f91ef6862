"""What every report says of a run's benchmarks: each row's name with its benchmark,
and the dense model's validity on each benchmark of a run of several.

A run on BBQ alone names its rows by category (``Age``), as it always has. A run with
any other benchmark names every row ``<benchmark>/<category>`` (``bbq/Age``,
``kobbq/Age``), so no row of a report leaves its benchmark to be guessed.
"""

from __future__ import annotations

from bias_gate.data.benchmark_set import BBQ, split_category
from bias_gate.results import DenseResult, GateResults, ItemResult

#: What a validity state reads as in a report's sentence.
_STATE_WORDS = {
    "valid": "valid",
    "not_valid": "NOT valid",
    "too_few": "NOT established (too few items)",
}


def names_benchmarks(results: GateResults) -> bool:
    """Whether the rows of ``results`` name their benchmark: any benchmark but BBQ."""
    return bool(results.dense.validity_by_benchmark) or any(
        item.benchmark != BBQ for item in results.items()
    )


def item_label(item: ItemResult, named: bool) -> str:
    """The name of ``item``'s row: its category, or ``<benchmark>/<category>`` when
    ``named`` (:func:`names_benchmarks`)."""
    if not named:
        return item.category
    benchmark, category = split_category(item.category, item.benchmark)
    return f"{benchmark}/{category}"


def category_labels(results: GateResults) -> dict[str, str]:
    """Every category of ``results`` (first-seen order) and the name its rows show."""
    named = names_benchmarks(results)
    labels: dict[str, str] = {}
    for item in results.items():
        labels.setdefault(item.category, item_label(item, named))
    return labels


def benchmark_validity(dense: DenseResult) -> list[tuple[str, str, list[str]]]:
    """In a run of several benchmarks, ``(benchmark, state words, reasons)`` of the dense
    model on each; empty for a run of one (its run-wide validity says it all)."""
    return [
        (name, _STATE_WORDS.get(entry.get("state", ""), "unknown"), list(entry.get("reasons", [])))
        for name, entry in dense.validity_by_benchmark.items()
    ]


def benchmark_validity_lines(dense: DenseResult) -> list[str]:
    """One line per benchmark of a run of several: the dense model's validity on it,
    with the reasons when it is not valid (``dense model on kobbq: NOT valid: ...``)."""
    return [
        f"dense model on {name}: {words}" + (": " + "; ".join(reasons) if reasons else "")
        for name, words, reasons in benchmark_validity(dense)
    ]
