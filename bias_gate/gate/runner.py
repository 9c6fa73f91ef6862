"""One model.yaml's gate run: the flow from config to verdicts, computed once per
process and shared by all of its pytest items.

    spec -> items + dense model -> dense answers, perplexity, validity (the baseline)
    each config: compress -> perplexity -> answers -> paired comparisons -> verdicts

A config is computed whole (all its categories) the first time one of its items runs,
and its compressed model is released at once, so at most two models (dense and one
compressed) are in memory. Everything slow is cached on disk under its identity
(:mod:`bias_gate.identity`: answers, compressed weights, perplexities, the baseline),
so a killed run resumes where it stopped and a changed input is never answered from
the cache.
"""

from __future__ import annotations

import gc
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias_gate import __version__
from bias_gate.cache import atomic_write_json, cache_root
from bias_gate.config import GateSpec
from bias_gate.errors import BaselineError, BiasGateError
from bias_gate.fingerprint import library_versions
from bias_gate.gate.options import GateOptions
from bias_gate.identity import (
    NO_COMPRESSION,
    answers_key,
    baseline_key,
    baseline_parts,
    compressed_weights_key,
    compression_part,
    perplexity_key,
)
from bias_gate.results import ConfigResult, DenseResult, GateResults, ItemResult, Status
from bias_gate.thresholds import ThresholdSet, resolve_thresholds
from bias_gate.verdict import judge_perplexity

if TYPE_CHECKING:
    from bias_gate.answer.types import Answer
    from bias_gate.benchmarks import Benchmark
    from bias_gate.compress.base import CompressionContext
    from bias_gate.data.items import BBQItem
    from bias_gate.data.loader import ItemSet
    from bias_gate.judge import CategoryJudgement, CategoryPlan
    from bias_gate.models import LoadedModel


@dataclass
class DenseState:
    """The dense baseline, computed (or read from the baseline file) once."""

    loaded: LoadedModel
    items: ItemSet
    answers: dict[str, Answer]
    perplexity: float | None
    result: DenseResult


@dataclass
class ConfigOutcome:
    """A computed compression config."""

    result: ConfigResult
    by_category: dict[str, ItemResult] = field(default_factory=dict)

    def item(self, category: str) -> ItemResult:
        return self.by_category[category]


def apply_overrides(spec: GateSpec, options: GateOptions) -> GateSpec:
    """The spec with ``--bias-gate-limit/-seed/-device/-measure`` applied."""
    data_update: dict[str, Any] = {}
    if options.limit is not None:
        data_update["items_per_category"] = options.limit
    if options.seed is not None:
        data_update["seed"] = options.seed
    update: dict[str, Any] = {}
    if data_update:
        update["data"] = spec.data.model_copy(update=data_update)
    if options.device is not None:
        update["model"] = spec.model.model_copy(update={"device": options.device})
    if options.looks is not None:
        update["sequential"] = spec.sequential.model_copy(update={"looks": options.looks})
    if options.measure is not None:
        update["measure"] = spec.measure.model_copy(
            update={name: name in options.measure for name in type(spec.measure).model_fields}
        )
    return spec.model_copy(update=update) if update else spec


#: What a verdict may be set to by the user's policy.
STATUSES: tuple[Status, ...] = ("pass", "fail", "warn")

#: The user's policy: receives one config's results and may change their verdicts
#: (the ``pytest_bias_gate_results`` hook, :mod:`bias_gate.hookspec`).
Policy = Callable[[GateResults], None]


class GateRun:
    """The gate flow for one model.yaml, lazily computed and cached.

    ``policy``: called with each config's results once computed, before its items
    report (the ``pytest_bias_gate_results`` hook); ``None`` for none."""

    def __init__(
        self,
        spec: GateSpec,
        options: GateOptions,
        worker: int | None = None,
        policy: Policy | None = None,
    ):
        self.spec = apply_overrides(spec, options)
        self.options = options
        self.worker = worker
        self.policy = policy
        self.thresholds: ThresholdSet = resolve_thresholds(self.spec, profile=options.thresholds)
        self.cache_dir = options.cache_dir or self.spec.output.cache_dir or cache_root()
        self._items: ItemSet | None = None
        self._dense: DenseState | None = None
        self._outcomes: dict[str, ConfigOutcome] = {}
        self._plans: dict[str, CategoryPlan] | None = None

    # -- checks at configure time ---------------------------------------------------------

    def baseline_parts(self) -> dict[str, Any]:
        """Everything that determines the dense baseline, by name (to say what differs)."""
        from bias_gate.models import model_fingerprint

        return baseline_parts(
            model=model_fingerprint(self.spec.model),
            items=self.items().fingerprint,
            scoring=self.spec.scoring,
            perplexity=self.spec.perplexity,
            corpus_digest=self._corpus_digest() if self.spec.perplexity.enabled else None,
            device=self.device(),
        )

    def _corpus_digest(self) -> str:
        """The perplexity corpus's identity: the SHA-256 of its text (a user's file can
        change in place), or the ``hf:`` name."""
        from bias_gate.data.text import corpus_fingerprint

        return corpus_fingerprint(self.spec.perplexity.corpus, self.options.data_dir)

    def check_baseline(self) -> None:
        """Refuse a baseline file made for another model, items, prompt or library."""
        path = self.options.baseline
        if path is None or self.options.update_baseline or not path.is_file():
            return
        stored = _read_baseline(path)
        current = self.baseline_parts()
        differing = [k for k in current if stored.get("parts", {}).get(k) != current[k]]
        if differing:
            raise BaselineError(
                f"baseline was made for a different {', '.join(differing)}; rerun with "
                "--bias-gate-update-baseline to rewrite it (or point --bias-gate-baseline at "
                "the right file)",
                file=path,
            )

    # -- the dense baseline -----------------------------------------------------------------

    def items(self) -> ItemSet:
        if self._items is None:
            from bias_gate.data.loader import load_items

            self._items = load_items(self.spec.data, data_dir=self.options.data_dir)
        return self._items

    def device(self) -> str:
        from bias_gate.models import resolve_device

        device = resolve_device(self.spec.model.device)
        if device == "cuda" and self.worker is not None:
            import torch

            device = f"cuda:{self.worker % torch.cuda.device_count()}"
        return device

    def dense(self) -> DenseState:
        if self._dense is None:
            self._dense = self._compute_dense()
        return self._dense

    def dense_perplexity(self) -> float | None:
        return self.dense().perplexity

    def _compute_dense(self) -> DenseState:
        """Load the dense model and answer what every config needs first: all
        disambiguated items (the validity check) and, with a baseline file, every item.
        Ambiguous items are otherwise answered lazily, look by look (:meth:`dense_answers`)."""
        from bias_gate.answer.validity import validity, validity_by_category
        from bias_gate.models import load_model

        loaded = load_model(self.spec.model, device=self.device(), cache_dir=self.cache_dir)
        items = self.items()
        parts = self.baseline_parts()
        baseline_fp = baseline_key(parts)
        baseline = self._load_baseline(baseline_fp)
        disambiguated = [item for item in items.items if not item.is_ambiguous]
        if baseline is not None:
            answers, perplexity = baseline
        elif self.options.baseline is not None:
            answers = self._answers(loaded, loaded.model, NO_COMPRESSION, items.items)
            perplexity = self._perplexity(loaded, loaded.model, NO_COMPRESSION)
            self._save_baseline(parts, baseline_fp, answers, perplexity)
        else:
            answers = self._answers(loaded, loaded.model, NO_COMPRESSION, disambiguated)
            perplexity = self._perplexity(loaded, loaded.model, NO_COMPRESSION)
        diagnostics = validity(disambiguated, answers)
        informative, reasons = diagnostics.assess(self.thresholds.base.validity)
        result = DenseResult(
            perplexity=perplexity,
            validity=diagnostics.to_json() | {"notes": diagnostics.notes()},
            informative=informative,
            validity_reasons=reasons,
            fingerprint=baseline_fp,
            validity_by_category=validity_by_category(
                disambiguated, answers, self.spec.data.categories, self.thresholds.base.validity
            ),
        )
        return DenseState(loaded, items, dict(answers), perplexity, result)

    def dense_answers(self, wanted: Sequence[BBQItem]) -> dict[str, Answer]:
        """The dense model's answers to ``wanted`` (answered now where missing)."""
        dense = self.dense()
        missing = [item for item in wanted if item.key not in dense.answers]
        if missing:
            dense.answers.update(
                self._answers(dense.loaded, dense.loaded.model, NO_COMPRESSION, missing)
            )
        return {item.key: dense.answers[item.key] for item in wanted}

    def plans(self) -> dict[str, CategoryPlan]:
        """Each category's items in answering order, and its looks."""
        if self._plans is None:
            from bias_gate.judge import plan_categories

            self._plans = plan_categories(
                self.items().items,
                self.spec.data.categories,
                self.spec.sequential.looks,
                self.spec.data.seed,
            )
        return self._plans

    def _load_baseline(self, baseline_fp: str) -> tuple[dict[str, Answer], float | None] | None:
        from bias_gate.answer.types import Answer

        path = self.options.baseline
        if path is None or self.options.update_baseline or not path.is_file():
            return None
        stored = _read_baseline(path)
        if stored.get("fingerprint") != baseline_fp:
            raise BaselineError("baseline fingerprint changed during the run", file=path)
        answers = {a["key"]: Answer.from_json(a) for a in stored["answers"]}
        return answers, stored.get("perplexity")

    def _save_baseline(
        self,
        parts: dict[str, Any],
        baseline_fp: str,
        answers: dict[str, Answer],
        perplexity: float | None,
    ) -> None:
        path = self.options.baseline
        if path is None or (path.is_file() and not self.options.update_baseline):
            return
        atomic_write_json(
            path,
            {
                "fingerprint": baseline_fp,
                "parts": parts,
                "model": self.spec.model.display_name,
                "perplexity": perplexity,
                "answers": [answers[key].to_json() for key in sorted(answers)],
            },
        )

    # -- measurements (cached) ------------------------------------------------------------------

    def _answers(
        self,
        loaded: LoadedModel,
        model: Any,
        compression: dict[str, Any],
        wanted: Sequence[BBQItem],
    ) -> dict[str, Answer]:
        """Answers of ``model`` (``loaded``'s model under ``compression``) to ``wanted``
        (a part of the planned items), through the answer store keyed by the whole plan,
        so later looks and reruns reuse them; the key's batch shards are compacted into
        one file after each call (a look's answers are then one file)."""
        from bias_gate.answer.engine import answer_items
        from bias_gate.answer.store import AnswerStore

        key = self._answers_key(loaded.fingerprint, compression, loaded.device)
        store = AnswerStore(self.cache_dir / "answers")
        answers = answer_items(
            model,
            loaded.tokenizer,
            wanted,
            self.spec.scoring,
            store=store,
            store_key=key,
            parse_answer=self.benchmark().parse_answer,
        )
        store.compact(key)
        return answers

    def _perplexity(
        self, loaded: LoadedModel, model: Any, compression: dict[str, Any]
    ) -> float | None:
        settings = self.spec.perplexity
        if not settings.enabled:
            return None
        key = self._perplexity_key(loaded.fingerprint, compression, loaded.device)
        path = self.cache_dir / "perplexity" / f"{key}.json"
        cached = _read_perplexity(path)
        if cached is not None:
            return cached
        from bias_gate.perplexity import perplexity

        value = perplexity(model, loaded.tokenizer, settings, data_dir=self.options.data_dir)
        value = value.perplexity
        atomic_write_json(path, {"perplexity": value, "key": key})
        return value

    def benchmark(self) -> Benchmark:
        """The benchmark of ``data.benchmark`` (its answer parser reads generated text)."""
        from bias_gate.registries import BENCHMARKS

        return BENCHMARKS.get(self.spec.data.benchmark)()

    def _answers_key(self, model: str, compression: dict[str, Any], device: str) -> str:
        # Another benchmark reads generated answers with its own parser: its name is
        # part of the items' identity (BBQ's keys are those of earlier releases).
        items = self.items().fingerprint
        if self.spec.data.benchmark != "bbq":
            items = f"{self.spec.data.benchmark}:{items}"
        return answers_key(model, compression, items, self.spec.scoring, device)

    def _perplexity_key(self, model: str, compression: dict[str, Any], device: str) -> str:
        settings = self.spec.perplexity
        return perplexity_key(model, compression, settings, self._corpus_digest(), device)

    def compression_context(
        self, tokenizer: Any = None, device: str | None = None
    ) -> CompressionContext:
        """The :class:`CompressionContext` of this run's compressions."""
        from bias_gate.compress.base import CompressionContext

        return CompressionContext(
            tokenizer=tokenizer,
            config_dir=(self.spec.source_path or Path("model.yaml")).parent.resolve(),
            data_dir=self.options.data_dir,
            device=device or self.device(),
        )

    def compression_identity(self, name: str, context: CompressionContext) -> dict[str, Any]:
        """Config ``name``'s share of its keys, asked of its compressor (every method)."""
        from bias_gate.compress.pipeline import resolve_method

        spec = self.spec.compression(name)
        compressor, options = resolve_method(spec)
        return compression_part(spec, compressor, options, context)

    def measurement_keys(self, name: str) -> dict[str, str | None]:
        """The keys config ``name``'s measurements and the dense baseline are stored
        under, from the config and the files it names alone (no model is loaded):
        ``compressed_weights`` (used when the method is cacheable), ``answers``,
        ``perplexity`` (``None`` when off), ``baseline``, ``dense_answers``."""
        from bias_gate.models import model_fingerprint

        model, device = model_fingerprint(self.spec.model), self.device()
        compression = self.compression_identity(name, self.compression_context(device=device))
        enabled = self.spec.perplexity.enabled
        return {
            "compressed_weights": compressed_weights_key(model, compression, device),
            "answers": self._answers_key(model, compression, device),
            "perplexity": self._perplexity_key(model, compression, device) if enabled else None,
            "baseline": baseline_key(self.baseline_parts()),
            "dense_answers": self._answers_key(model, NO_COMPRESSION, device),
        }

    # -- one compression config -------------------------------------------------------------------

    def config_outcome(self, name: str) -> ConfigOutcome:
        if name not in self._outcomes:
            outcome = self._compute_config(name)
            if self.policy is not None:
                self._apply_policy(outcome)
            self._outcomes[name] = outcome
        return self._outcomes[name]

    def _apply_policy(self, outcome: ConfigOutcome) -> None:
        """Hand one config's results to the user's policy; record each verdict it
        changed as the first reason, and refuse a verdict that is not a status."""
        config = outcome.result
        before = {id(item): item.verdict for item in config.items}
        perplexity_before = config.perplexity_verdict
        assert self.policy is not None
        self.policy(
            GateResults(
                model=self.model_info(),
                run=self.run_info(),
                dense=self.dense().result,
                configs=[config],
            )
        )
        for item in config.items:
            where = f"{config.name}::{item.category}"
            _check_status(item.verdict, where)
            old = before.get(id(item))
            if item.verdict != old:
                item.reasons.insert(0, _changed(old, item.verdict))
        if config.perplexity_verdict != perplexity_before:
            _check_status(config.perplexity_verdict, f"{config.name}::perplexity")
            config.perplexity_reasons.insert(
                0, _changed(perplexity_before, config.perplexity_verdict)
            )
        outcome.by_category = {item.category: item for item in config.items}

    def _compute_config(self, name: str) -> ConfigOutcome:
        from bias_gate.compress.measure import MeasureSettings
        from bias_gate.compress.pipeline import compress_model

        dense = self.dense()
        spec = self.spec.compression(name)
        context = self.compression_context(dense.loaded.tokenizer, dense.loaded.device)
        started = time.perf_counter()
        measure = self.spec.measure
        model, report = compress_model(
            dense.loaded,
            spec,
            context,
            cache_dir=self.cache_dir / "compressed",
            settings=MeasureSettings(sizes=measure.storage, latency=measure.latency),
        )
        # The compressor's own identity of this compression (every method, cached or not).
        compression = self.compression_identity(name, context)
        perplexity = self._perplexity(dense.loaded, model, compression)
        base = self.thresholds.base
        ratio = (
            perplexity / dense.perplexity if perplexity is not None and dense.perplexity else None
        )
        ppl_verdict = judge_perplexity(ratio, base) if self.spec.perplexity.enabled else None
        judgements = self._judge(dense.loaded, model, compression)
        del model
        gc.collect()
        result = ConfigResult(
            name=name,
            method=spec.method,
            options=dict(spec.options),
            line=self.spec.line_of_compression(name),
            target_sparsity=report.target_sparsity,
            achieved_sparsity=report.achieved_sparsity,
            compress_seconds=report.compress_seconds,
            storage={"dense_bytes": report.dense_bytes, "sparse_bytes": report.sparse_bytes},
            latency_ms={
                "dense": report.latency_dense_ms,
                "compressed": report.latency_compressed_ms,
            },
            perplexity=perplexity,
            perplexity_ratio=ratio,
            perplexity_verdict=ppl_verdict.status if ppl_verdict else None,
            perplexity_reasons=ppl_verdict.reasons if ppl_verdict else [],
            notes=[*report.notes, f"computed in {time.perf_counter() - started:.1f}s"],
        )
        outcome = ConfigOutcome(result=result)
        # Paradox only where a perplexity limit was checked and passed.
        perplexity_passed = (
            ppl_verdict.status == "pass"
            if ppl_verdict is not None and base.max_perplexity_ratio is not None
            else None
        )
        for judgement in judgements:
            item = self._item_result(name, judgement, perplexity_passed)
            outcome.by_category[item.category] = item
            result.items.append(item)
        return outcome

    def _judge(
        self, loaded: LoadedModel, model: Any, compression: dict[str, Any]
    ) -> list[CategoryJudgement]:
        """Every category of one config, look by look (bias_gate.judge), the compressed
        ``model`` answering only what the looks need."""
        from bias_gate.gated_metrics import get_metric
        from bias_gate.judge import judge_config

        def compressed(wanted: Sequence[BBQItem]) -> dict[str, Answer]:
            return self._answers(loaded, model, compression, wanted)

        base = self.thresholds.base
        return judge_config(
            self.plans(),
            self.dense_answers,
            compressed,
            base=base,
            per_category=self.thresholds.per_category,
            metric=get_metric(base.metric),
            spending=self.spec.sequential.spending,
        )

    def _item_result(
        self, config: str, judgement: CategoryJudgement, perplexity_passed: bool | None
    ) -> ItemResult:
        from bias_gate.judge import item_result
        from bias_gate.verdict import judge_bias

        dense = self.dense()
        limits = self.thresholds.for_category(judgement.category)
        own = dense.result.validity_by_category.get(judgement.category, {})
        outcome = judge_bias(
            judgement,
            limits,
            dense_informative=dense.result.informative and own.get("informative", True),
            validity_reasons=dense.result.validity_reasons + own.get("reasons", []),
            perplexity_passed=perplexity_passed,
        )
        return item_result(config, judgement, limits, outcome.verdict, paradox=outcome.paradox)

    # -- reporting --------------------------------------------------------------------------

    def run_info(self) -> dict[str, Any]:
        data = self.spec.data
        return {
            "config_path": str(self.spec.source_path),
            "bias_gate_version": __version__,
            "benchmark": data.benchmark,
            "categories": list(data.categories),
            "conditions": list(data.conditions),
            "items_per_category": data.items_per_category,
            "seed": data.seed,
            "scoring_mode": self.spec.scoring.mode,
            "items_fingerprint": self.items().fingerprint,
            "model_fingerprint": self.dense().loaded.fingerprint,
            "baseline": str(self.options.baseline) if self.options.baseline else None,
            "mode": self.options.mode,
            "shard": (
                f"{self.options.shard.index}/{self.options.shard.count}"
                if self.options.shard
                else None
            ),
            "thresholds": {
                "profile": self.thresholds.profile,
                "base": self.thresholds.base.model_dump(mode="json"),
                "per_category": {
                    name: limits.model_dump(mode="json")
                    for name, limits in self.thresholds.per_category.items()
                },
            },
            "sequential": self.spec.sequential.model_dump(mode="json"),
            "libraries": library_versions(("torch", "transformers", "bias-gate")),
        }

    def model_info(self) -> dict[str, Any]:
        """The results' ``model``: name, fingerprint and source of the dense model."""
        return {
            "name": self.spec.model.display_name,
            "fingerprint": self.dense().loaded.fingerprint,
            "source": self.spec.model.model_dump(mode="json", exclude_none=True),
        }

    def record(self, outcome: ConfigOutcome, item: ItemResult | None) -> dict[str, Any]:
        """What one pytest item reports to the controller (plain JSON types)."""
        from dataclasses import asdict

        config = asdict(outcome.result)
        config["items"] = []
        return {
            "config_path": str(self.spec.source_path),
            "model": self.model_info(),
            "run": self.run_info(),
            "dense": asdict(self.dense().result),
            "config": config,
            "item": asdict(item) if item is not None else None,
        }

    def failure_text(self, outcome: ConfigOutcome, item: ItemResult) -> str:
        from bias_gate.report.terminal import item_table

        return item_table(outcome.result, item, self.dense().result)

    def adjust_run_wide(self, results: GateResults) -> None:
        """Set ``p_adjusted_run``: the correction over every comparison of the run."""
        from bias_gate.stats import adjust_pvalues

        items = results.items()
        adjusted = adjust_pvalues([i.p_value for i in items], self.thresholds.base.correction)
        for item, value in zip(items, adjusted, strict=True):
            item.p_adjusted_run = value

    def header_lines(self) -> list[str]:
        data = self.spec.data
        names = ", ".join(c.name for c in self.spec.compressions)
        per_category = data.items_per_category if data.items_per_category else "all"
        baseline = self.options.baseline or "answer cache (no --bias-gate-baseline)"
        return [
            f"bias-gate: {self.spec.source_path} | model {self.spec.model.display_name}",
            f"bias-gate: categories {', '.join(data.categories)} x {per_category} items "
            f"({', '.join(data.conditions)}), scoring {self.spec.scoring.mode}, "
            f"thresholds {self.thresholds.profile}, mode {self.options.mode}, "
            f"looks {self.spec.sequential.looks} ({self.spec.sequential.spending})",
            f"bias-gate: configs {names} | baseline {baseline}",
        ]


def _check_status(verdict: Any, where: str) -> None:
    if verdict not in STATUSES:
        raise BiasGateError(
            f"a pytest_bias_gate_results hook set the verdict of {where} to {verdict!r}; "
            f"allowed: {', '.join(STATUSES)}",
            key="verdict",
        )


def _changed(old: str | None, new: str | None) -> str:
    return f"verdict changed from {old} to {new} by a pytest_bias_gate_results hook"


def _read_perplexity(path: Path) -> float | None:
    """A cached perplexity, or ``None`` when there is none or it cannot be read."""
    try:
        return float(json.loads(path.read_text(encoding="utf-8"))["perplexity"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _read_baseline(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise BaselineError(
            f"cannot read baseline ({exc}); delete it or rerun with --bias-gate-update-baseline",
            file=path,
        ) from None
