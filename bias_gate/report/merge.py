"""Join the results of a sharded run (``--bias-gate-shard K/N``) into one run.

Each shard holds whole configs. Shards are refused (:class:`MergeError`) when they are
not parts of one run (model, items or scoring fingerprints, scoring mode, thresholds or
dense baseline differ) or when two hold the same config. Configs are laid out in
model.yaml order (their ``line``), ``run["shard"]`` becomes None, and the run-wide
multiplicity correction (``ItemResult.p_adjusted_run``) is recomputed over every item
of the merged run, so the merged results equal those of one unsharded run.
Per-config corrections (``p_adjusted``) and verdicts are per config, so unchanged.

When the shards name their position (``run["shard"] == "K/N"``) and some of the N are
missing, the merged run lists them in ``run["missing_shards"]`` (reports say so).
"""

from __future__ import annotations

import copy
from typing import Any, cast

from bias_gate.errors import BiasGateError
from bias_gate.judge.item_results import adjust
from bias_gate.report.run_view import fingerprints, run_limits
from bias_gate.results import GateResults
from bias_gate.stats.core import Correction


class MergeError(BiasGateError):
    """Results files that are not shards of one run."""


def _identity(results: GateResults) -> dict[str, Any]:
    """What must be equal for two results to be shards of one run."""
    return {
        **{f"{key} fingerprint": value for key, value in fingerprints(results).items()},
        "scoring mode": results.run.get("scoring_mode"),
        "benchmarks": results.run.get("benchmarks") or [results.run.get("benchmark") or "bbq"],
        "thresholds": results.run.get("thresholds"),
        "dense baseline fingerprint": results.dense.fingerprint,
        "schema version": results.schema_version,
    }


def _shard_position(results: GateResults) -> tuple[int, int] | None:
    raw = results.run.get("shard")
    if not isinstance(raw, str) or "/" not in raw:
        return None
    index, count = raw.split("/", 1)
    return (int(index), int(count)) if index.isdigit() and count.isdigit() else None


def _check_compatible(shards: list[GateResults], names: list[str]) -> None:
    reference = _identity(shards[0])
    for shard, name in zip(shards[1:], names[1:], strict=True):
        for key, value in _identity(shard).items():
            if value != reference[key]:
                raise MergeError(
                    f"{name} is not a shard of the same run as {names[0]}: its {key} is "
                    f"{value!r}, not {reference[key]!r}; merge only results of one "
                    "model.yaml run with the same model, items, scoring and thresholds"
                )


def _check_unique(shards: list[GateResults], names: list[str]) -> None:
    seen: dict[str, str] = {}
    for shard, name in zip(shards, names, strict=True):
        for config in shard.configs:
            if config.name in seen:
                raise MergeError(
                    f"config {config.name!r} is in both {seen[config.name]} and {name}; "
                    "each config must come from exactly one shard (pass each shard's "
                    "results once)"
                )
            seen[config.name] = name


def _missing_shards(shards: list[GateResults]) -> list[str]:
    positions = [_shard_position(shard) for shard in shards]
    counts = {p[1] for p in positions if p is not None}
    if len(counts) != 1 or None in positions:
        return []
    (count,) = counts
    present = {p[0] for p in positions if p is not None}
    return [f"{k}/{count}" for k in range(1, count + 1) if k not in present]


def recompute_run_wide(results: GateResults) -> None:
    """Set every item's ``p_adjusted_run``: the run's correction (``run["thresholds"]
    ["correction"]``) over the p-values of every item of ``results`` (None stays None)."""
    correction = cast(Correction, run_limits(results).correction)  # a name the run recorded
    adjust(results.items(), correction, "p_adjusted_run")


def merge_results(shards: list[GateResults], names: list[str] | None = None) -> GateResults:
    """One :class:`GateResults` holding every config of ``shards`` (see the module doc).

    ``names`` label the shards in error messages (e.g. their file names). The inputs are
    not modified. Raises :class:`MergeError` for shards of different runs or repeated configs.
    """
    if not shards:
        raise MergeError("nothing to merge: give at least one results file")
    labels = names if names is not None else [f"shard {i + 1}" for i in range(len(shards))]
    if len(labels) != len(shards):
        raise ValueError("names must label every shard")
    _check_compatible(shards, labels)
    _check_unique(shards, labels)
    configs = [copy.deepcopy(c) for shard in shards for c in shard.configs]
    order = {id(c): i for i, c in enumerate(configs)}
    configs.sort(key=lambda c: (c.line is None, c.line or 0, order[id(c)]))
    run = copy.deepcopy(shards[0].run)
    missing = _missing_shards(shards)
    if "shard" in run:
        run["shard"] = None
    if missing:
        run["missing_shards"] = missing
    merged = GateResults(
        model=copy.deepcopy(shards[0].model),
        run=run,
        dense=copy.deepcopy(shards[0].dense),
        configs=configs,
        schema_version=shards[0].schema_version,
    )
    recompute_run_wide(merged)
    return merged
