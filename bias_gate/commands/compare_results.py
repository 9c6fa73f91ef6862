"""``bias-gate compare``'s judgement as a results file of the gate's own schema
(:class:`bias_gate.results.GateResults`), so ``bias-gate report`` renders it.

The dense answers' validity is checked on the disambiguated rows, then each config is
judged as one family over its categories exactly as the gate does (one look: every
answer is already there). ``run["source"]`` is ``"compare"`` and ``run["answers"]``
names the files and their format, so every report says the answers came from another
harness; a config has no perplexity, sparsity or storage (``method`` ``answers``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bias_gate.answer.types import Answer
from bias_gate.commands.compare_inputs import Inputs
from bias_gate.data.items import BBQItem
from bias_gate.results import ConfigResult, DenseResult, GateResults

#: ``run["source"]`` of results written by ``bias-gate compare``.
SOURCE = "compare"
#: ``ConfigResult.method`` of a config whose answers came from elsewhere.
METHOD = "answers"


def _source(answers: dict[str, Answer]) -> Callable[[Sequence[BBQItem]], dict[str, Answer]]:
    """The answers of the items asked for (the judge's answer source)."""
    return lambda wanted: {i.key: answers[i.key] for i in wanted}


def dense_result(inputs: Inputs, limits: Any) -> DenseResult:
    """The dense answers' validity, over all rows and per category."""
    from bias_gate.judge.validity import validity, validity_by_category

    disambiguated = [item for item in inputs.items.values() if not item.is_ambiguous]
    diagnostics = validity(disambiguated, inputs.dense)
    judged = diagnostics.judge(limits.validity, limits.power, who="the dense model")
    categories = sorted({item.category for item in inputs.items.values()})
    return DenseResult(
        perplexity=None,
        validity=diagnostics.to_json(),
        informative=judged.state == "valid",
        validity_reasons=judged.reasons,
        validity_by_category=validity_by_category(
            disambiguated, inputs.dense, categories, limits.validity, limits.power
        ),
        validity_state=judged.state,
    )


def _config(name: str, path: Path, items: list[Any]) -> ConfigResult:
    return ConfigResult(
        name=name,
        method=METHOD,
        options={},
        line=None,
        target_sparsity=None,
        achieved_sparsity=None,
        compress_seconds=None,
        storage={},
        latency_ms={},
        perplexity=None,
        perplexity_ratio=None,
        perplexity_verdict=None,
        notes=[f"answers read from {path.name} (bias-gate compare); no perplexity check"],
        items=items,
        runtime="external",
    )


def _run(profile: str, thresholds: Any, inputs: Inputs, files: dict[str, str]) -> dict[str, Any]:
    from bias_gate import __version__

    return {
        "source": SOURCE,
        "answers": files,
        "bias_gate_version": __version__,
        "categories": sorted({item.category for item in inputs.items.values()}),
        "mode": "gate",
        "thresholds": {
            "profile": profile,
            "base": thresholds.model_dump(mode="json"),
            "per_category": {},
        },
    }


def _judge_config(
    entry: tuple[str, dict[str, Answer]],
    plans: Any,
    dense_answers: dict[str, Answer],
    profile: str,
    limits: Any,
    dense: DenseResult,
    benchmark: str,
) -> list[Any]:
    """One config's item results (run in any process: a pure function of its inputs;
    ``limits``: the profile ``profile`` as loaded once by :func:`judge`)."""
    from bias_gate.judge.item_results import judge_items
    from bias_gate.judge.thresholds import ThresholdSet
    from bias_gate.metrics.gated import get_metric

    name, answers = entry
    results = judge_items(
        name,
        plans,
        _source(dense_answers),
        _source(answers),
        thresholds=ThresholdSet(profile=profile, base=limits),
        metric=get_metric(limits.metric),
        dense_result=dense,
    )
    for result in results:
        result.benchmark = benchmark
    return list(results)


def judge(
    inputs: Inputs,
    profile: str,
    benchmark: str,
    files: dict[str, str],
    compressed: Path,
    jobs: int | None = 1,
) -> GateResults:
    """Every config of ``inputs`` judged against the dense answers, in ``jobs``
    processes (None: :func:`bias_gate.commands.compare_jobs.job_count`'s choice)."""
    from bias_gate.commands.compare_jobs import job_count, map_in_processes
    from bias_gate.judge.looks import plan_categories
    from bias_gate.judge.thresholds import load_profile

    limits = load_profile(profile)
    dense = dense_result(inputs, limits)
    categories = sorted({item.category for item in inputs.items.values()})
    plans = plan_categories(list(inputs.items.values()), categories, looks=1, seed=0)
    fixed = (plans, inputs.dense, profile, limits, dense, benchmark)
    judged = map_in_processes(
        _judge_config,
        inputs.configs.items(),
        fixed,
        job_count(jobs, len(inputs.configs)),
    )
    configs = [
        _config(name, compressed, items) for name, items in zip(inputs.configs, judged, strict=True)
    ]
    run = _run(profile, limits, inputs, files)
    run["benchmark"] = benchmark
    model = {"name": f"answers in {Path(files['dense']).name}", "source": files}
    return GateResults(model=model, run=run, dense=dense, configs=configs)
