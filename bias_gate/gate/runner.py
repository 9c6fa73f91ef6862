"""One model.yaml's gate run: the flow from config to verdicts, computed once per
process and shared by all of its pytest items.

    spec -> items + dense model -> dense answers, perplexity, validity (the baseline)
    each config: compress -> perplexity -> answers -> paired comparisons -> verdicts

Each config is answered in its runtime (:mod:`bias_gate.models.runtimes`: torch, or the GGUF
file in llama.cpp) and compared with the dense model in the same runtime: the dense
baseline is computed once per runtime the configs use.

A config is computed whole (all its categories) the first time one of its items runs,
and its compressed model is released at once, so at most two models (dense and one
compressed) are in memory. Everything slow is cached on disk under its identity
(:mod:`bias_gate.identity`: answers, compressed weights, perplexities, the baseline),
so a killed run resumes where it stopped and a changed input is never answered from
the cache.

The parts it drives, each doing one thing: the loaded config with its typed compressor
options and resolved thresholds (:mod:`bias_gate.config.validated`), the plan of configs,
checks and category stages (:mod:`bias_gate.judge.plan`), the baseline file
(:mod:`bias_gate.gate.baseline`), the cached measurements, answers and perplexity
(:mod:`bias_gate.gate.measurements`), a config's comparisons to item results with their
adjusted p-values (:mod:`bias_gate.judge.item_results`), the user's policy
(:mod:`bias_gate.gate.policy`) and what the run says about itself
(:mod:`bias_gate.gate.run_info`). This module holds the flow between them and the
per-process state (items, the dense model, computed configs).
"""

from __future__ import annotations

import gc
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias_gate.cache import cache_root
from bias_gate.config.schema import GateSpec, Runtime
from bias_gate.config.validated import GateConfig
from bias_gate.gate.baseline import BaselineFile
from bias_gate.gate.measurements import Measurements
from bias_gate.gate.options import GateOptions
from bias_gate.gate.policy import Policy, apply_policy
from bias_gate.gate.progress import ProgressTracker
from bias_gate.gate.run_cache import confine_matplotlib, open_run_cache
from bias_gate.gate.run_info import header_lines, model_info, run_info
from bias_gate.identity import (
    NO_COMPRESSION,
    baseline_key,
    baseline_parts,
    compressed_weights_key,
    compression_part,
)
from bias_gate.judge.plan import category_plans
from bias_gate.judge.thresholds import ThresholdSet
from bias_gate.judge.verdict import judge_perplexity
from bias_gate.models.runtimes import LLAMA_CPP, TORCH, runtime_device, runtime_part
from bias_gate.results import ConfigResult, DenseResult, GateResults, ItemResult, Verdict

if TYPE_CHECKING:
    from bias_gate.answer.types import Answer
    from bias_gate.compress.base import CompressionContext
    from bias_gate.compress.measure import CompressionReport
    from bias_gate.data.items import BBQItem
    from bias_gate.data.loader import ItemSet
    from bias_gate.judge.looks import CategoryPlan
    from bias_gate.llama.agreement import Agreement
    from bias_gate.models.loading import LoadedModel


@dataclass
class DenseState:
    """The dense baseline in one runtime, computed (or read from the baseline file) once.
    ``loaded``: the dense model as torch loads it (tokenizer, fingerprint; what every
    compression starts from); ``model``: what answers in ``runtime`` (``loaded.model``,
    or a :class:`~bias_gate.llama.runtime.LlamaModel` of the dense F32 GGUF)."""

    loaded: LoadedModel
    runtime: Runtime
    model: Any
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


def _storage(report: CompressionReport) -> dict[str, int | None]:
    """The sizes a config's result shows: the plain and bitmask saves, and the real size
    of the file that ships when the method wrote one (``artifact_bytes``)."""
    storage = {"dense_bytes": report.dense_bytes, "sparse_bytes": report.sparse_bytes}
    if report.artifact_bytes is not None:
        storage["artifact_bytes"] = report.artifact_bytes
    return storage


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


class GateRun:
    """The gate flow for one model.yaml, lazily computed and cached.

    ``policy``: called with each config's results once computed, before its items
    report (the ``pytest_bias_gate_results`` hook); ``None`` for none. ``progress``: told
    each config's stages and answered items (:mod:`bias_gate.gate.progress`)."""

    def __init__(
        self,
        config: GateConfig,
        options: GateOptions,
        worker: int | None = None,
        policy: Policy | None = None,
        progress: ProgressTracker | None = None,
    ):
        self.spec = apply_overrides(config.spec, options)
        self.progress = progress or ProgressTracker()
        self.methods = config.methods
        self.options = options
        self.worker = worker
        self.policy = policy
        self.thresholds: ThresholdSet = config.thresholds
        requested = options.cache_dir or self.spec.output.cache_dir or cache_root()
        key = "--bias-gate-cache-dir" if options.cache_dir else "output.cache_dir"
        self.cache = open_run_cache(requested, key if requested != cache_root() else "cache")
        self.cache_dir = self.cache.path
        confine_matplotlib(self.cache_dir)
        self.baseline = BaselineFile(options.baseline, options.update_baseline)
        self.measurements = Measurements(
            self.spec, self.cache_dir, options.data_dir, lambda: self.items().fingerprint
        )
        self._items: ItemSet | None = None
        self._loaded: LoadedModel | None = None
        self._dense: dict[Runtime, DenseState] = {}
        self._outcomes: dict[str, ConfigOutcome] = {}
        self._plans: dict[str, CategoryPlan] | None = None

    # -- checks at configure time ---------------------------------------------------------

    def baseline_parts(self) -> dict[str, Any]:
        """Everything that determines the dense baseline (in ``model.runtime``, the one a
        baseline file holds), by name (to say what differs)."""
        from bias_gate.models.loading import model_fingerprint

        runtime = self.spec.model.runtime
        return baseline_parts(
            model=model_fingerprint(self.spec.model),
            items=self.items().fingerprint,
            scoring=self.spec.scoring,
            perplexity=self.spec.perplexity,
            corpus_digest=(
                self.measurements.corpus_digest() if self.spec.perplexity.enabled else None
            ),
            device=runtime_device(runtime, self.device()),
            runtime=runtime_part(runtime),
        )

    def check_baseline(self) -> None:
        """Refuse a baseline file made for another model, items, prompt or library."""
        if self.baseline.readable:
            self.baseline.check(self.baseline_parts())

    # -- the dense baseline -----------------------------------------------------------------

    def items(self) -> ItemSet:
        if self._items is None:
            from bias_gate.data.loader import load_items

            self._items = load_items(self.spec.data, data_dir=self.options.data_dir)
        return self._items

    def device(self) -> str:
        from bias_gate.models.loading import resolve_device

        device = resolve_device(self.spec.model.device)
        if device == "cuda" and self.worker is not None:
            import torch

            device = f"cuda:{self.worker % torch.cuda.device_count()}"
        return device

    def loaded(self) -> LoadedModel:
        """The dense model as torch loads it, once."""
        if self._loaded is None:
            from bias_gate.models.load_progress import gguf_tensor_progress
            from bias_gate.models.loading import load_model

            self.progress.stage("loading the dense model")

            def tensors(done: int, total: int) -> None:
                self.progress.detail(f"loading the dense model: GGUF tensor {done}/{total}")

            with gguf_tensor_progress(tensors):
                self._loaded = load_model(
                    self.spec.model, device=self.device(), cache_dir=self.cache_dir
                )
        return self._loaded

    def dense(self, runtime: Runtime | None = None) -> DenseState:
        """The dense baseline in ``runtime`` (default ``model.runtime``: the one the
        results' ``dense`` shows)."""
        runtime = runtime or self.spec.model.runtime
        if runtime not in self._dense:
            self._dense[runtime] = self._compute_dense(runtime)
        return self._dense[runtime]

    def dense_gguf(self) -> Path:
        """The dense model as an F32 GGUF file (written once): what llama.cpp runs for it."""
        from bias_gate.compress.gguf_quant import write_dense_gguf

        return write_dense_gguf(self.compression_context())

    def _compute_dense(self, runtime: Runtime) -> DenseState:
        """Load the dense model and answer what every config needs first: all
        disambiguated items (the validity check) and, with a baseline file (which holds
        ``model.runtime``'s baseline), every item. Ambiguous items are otherwise answered
        lazily, look by look (:meth:`dense_answers`)."""
        from bias_gate.judge.validity import validity, validity_by_category
        from bias_gate.models.runtimes import open_llama

        loaded = self.loaded()
        self.progress.stage("dense baseline")
        model = loaded.model if runtime == TORCH else open_llama(self.dense_gguf(), loaded)
        items = self.items()
        parts = self.baseline_parts()
        baseline_fp = baseline_key(parts)
        baseline = self.baseline if runtime == self.spec.model.runtime else BaselineFile(None)
        stored = baseline.load(baseline_fp)
        disambiguated = [item for item in items.items if not item.is_ambiguous]
        measure = self.measurements
        if stored is not None:
            answers, perplexity = stored
        elif baseline.path is not None:
            answers = measure.answers(loaded, model, NO_COMPRESSION, items.items, runtime)
            perplexity = measure.perplexity(loaded, model, NO_COMPRESSION, runtime)
            name = self.spec.model.display_name
            baseline.save(parts, baseline_fp, name, answers, perplexity)
        else:
            answers = measure.answers(loaded, model, NO_COMPRESSION, disambiguated, runtime)
            perplexity = measure.perplexity(loaded, model, NO_COMPRESSION, runtime)
        diagnostics = validity(disambiguated, answers)
        base = self.thresholds.base
        judged = diagnostics.judge(base.validity, base.power, who="the dense model")
        result = DenseResult(
            perplexity=perplexity,
            validity=diagnostics.to_json() | {"notes": diagnostics.notes()},
            informative=judged.state == "valid",
            validity_reasons=judged.reasons,
            fingerprint=baseline_fp,
            validity_by_category=validity_by_category(
                disambiguated, answers, self.spec.data.categories, base.validity, base.power
            ),
            validity_state=judged.state,
        )
        return DenseState(loaded, runtime, model, items, dict(answers), perplexity, result)

    def dense_answers(
        self, wanted: Sequence[BBQItem], runtime: Runtime | None = None
    ) -> dict[str, Answer]:
        """The dense model's answers in ``runtime`` to ``wanted`` (answered now where
        missing)."""
        dense = self.dense(runtime)
        missing = [item for item in wanted if item.key not in dense.answers]
        if missing:
            dense.answers.update(
                self.measurements.answers(
                    dense.loaded, dense.model, NO_COMPRESSION, missing, dense.runtime
                )
            )
        return {item.key: dense.answers[item.key] for item in wanted}

    def plans(self) -> dict[str, CategoryPlan]:
        """Each category's items in answering order, and its looks (:mod:`bias_gate.judge.plan`)."""
        if self._plans is None:
            self._plans = category_plans(self.spec, self.items().items)
        return self._plans

    def compression_context(
        self, tokenizer: Any = None, device: str | None = None
    ) -> CompressionContext:
        """The :class:`CompressionContext` of this run's compressions."""
        from bias_gate.compress.base import CompressionContext
        from bias_gate.models.loading import gguf_file

        return CompressionContext(
            tokenizer=tokenizer,
            config_dir=(self.spec.source_path or Path("model.yaml")).parent.resolve(),
            data_dir=self.options.data_dir,
            device=device or self.device(),
            dense_gguf=gguf_file(self.spec.model),
            artifact_dir=self.cache_dir / "artifacts",
            cache_dir=self.cache_dir,
        )

    def compression_identity(self, name: str, context: CompressionContext) -> dict[str, Any]:
        """Config ``name``'s share of its keys, asked of its compressor (every method)."""
        method = self.methods[name]
        return compression_part(method.spec, method.compressor, method.options, context)

    def measurement_keys(self, name: str) -> dict[str, str | None]:
        """The keys config ``name``'s measurements and the dense baseline are stored
        under, from the config and the files it names alone (no model is loaded):
        ``compressed_weights`` (used when the method is cacheable), ``answers``,
        ``perplexity`` (``None`` when off), ``baseline``, ``dense_answers`` (in the
        config's runtime)."""
        from bias_gate.models.loading import model_fingerprint

        model, device = model_fingerprint(self.spec.model), self.device()
        compression = self.compression_identity(name, self.compression_context(device=device))
        enabled = self.spec.perplexity.enabled
        runtime = self.spec.runtime_of(name)
        keys = self.measurements
        return {
            "compressed_weights": compressed_weights_key(model, compression, device),
            "answers": keys.answers_key(model, compression, device, runtime),
            "perplexity": (
                keys.perplexity_key(model, compression, device, runtime) if enabled else None
            ),
            "baseline": baseline_key(self.baseline_parts()),
            "dense_answers": keys.answers_key(model, NO_COMPRESSION, device, runtime),
        }

    # -- one compression config -------------------------------------------------------------------

    def config_outcome(self, name: str) -> ConfigOutcome:
        if name not in self._outcomes:
            try:
                outcome = self._compute_config(name)
            except BaseException:  # an error or Ctrl-C: the progress line ends too
                self.progress.finish("stopped")
                raise
            if self.policy is not None:
                self._apply_policy(outcome)
            self._outcomes[name] = outcome
        return self._outcomes[name]

    def _apply_policy(self, outcome: ConfigOutcome) -> None:
        """The user's policy on this config's verdicts (:mod:`bias_gate.gate.policy`)."""
        assert self.policy is not None
        apply_policy(self.policy, self.results([outcome.result]))
        outcome.by_category = {item.category: item for item in outcome.result.items}

    def planned_items(self) -> int:
        """The most items one config's compressed model answers (every look of every
        category; a category that settles early stops before)."""
        return sum(
            len(plan.items_through(plan.looks) if plan.looks else plan.disambiguated)
            for plan in self.plans().values()
        )

    def _compute_config(self, name: str) -> ConfigOutcome:
        from bias_gate.compress.measure import MeasureSettings
        from bias_gate.compress.pipeline import compress_model

        source = self.spec.source_path.name if self.spec.source_path else "model.yaml"
        self.progress.start(f"{source}::{name}", self.planned_items())
        runtime = self.spec.runtime_of(name)
        dense = self.dense(runtime)
        self.progress.stage("compressing")
        spec = self.spec.compression(name)
        context = self.compression_context(dense.loaded.tokenizer, dense.loaded.device)
        started = time.perf_counter()
        measure = self.spec.measure
        model, report = compress_model(
            dense.loaded,
            self.methods[name],
            context,
            cache_dir=self.cache_dir / "compressed",
            settings=MeasureSettings(sizes=measure.storage, latency=measure.latency),
        )
        # The compressor's own identity of this compression (every method, cached or not).
        compression = self.compression_identity(name, context)
        answering = model
        if runtime == LLAMA_CPP:
            from bias_gate.models.runtimes import open_llama

            path = Path(report.artifact_path) if report.artifact_path else self.dense_gguf()
            answering = open_llama(path, dense.loaded)
            if not measure.agreement:
                del model
                model = None
                gc.collect()
        self.progress.stage("perplexity")
        perplexity = self.measurements.perplexity(dense.loaded, answering, compression, runtime)
        base = self.thresholds.base
        ratio = (
            perplexity / dense.perplexity if perplexity is not None and dense.perplexity else None
        )
        ppl_verdict = judge_perplexity(ratio, base) if self.spec.perplexity.enabled else None
        answered: list[BBQItem] = []
        items = self._judge(name, dense, answering, compression, ppl_verdict, answered)
        agreement = None
        if runtime == LLAMA_CPP and measure.agreement:
            agreement = self._agreement(dense.loaded, model, answering, compression, answered)
        del model, answering
        gc.collect()
        result = ConfigResult(
            name=name,
            method=spec.method,
            options=dict(spec.options),
            line=self.spec.line_of_compression(name),
            target_sparsity=report.target_sparsity,
            achieved_sparsity=report.achieved_sparsity,
            compress_seconds=report.compress_seconds,
            storage=_storage(report),
            latency_ms={
                "dense": report.latency_dense_ms,
                "compressed": report.latency_compressed_ms,
            },
            perplexity=perplexity,
            perplexity_ratio=ratio,
            perplexity_verdict=ppl_verdict.status if ppl_verdict else None,
            perplexity_reasons=ppl_verdict.reasons if ppl_verdict else [],
            perplexity_reason_category=ppl_verdict.category if ppl_verdict else None,
            notes=[
                *report.notes,
                *([agreement.note()] if agreement is not None else []),
                f"computed in {time.perf_counter() - started:.1f}s"
                + (" in llama.cpp" if runtime == LLAMA_CPP else ""),
            ],
            items=items,
            runtime=runtime,
            dense_perplexity=dense.perplexity,
            agreement=agreement.to_dict() if agreement is not None else None,
        )
        self.progress.finish()
        return ConfigOutcome(result=result, by_category={i.category: i for i in items})

    def _agreement(
        self,
        loaded: LoadedModel,
        torch_model: Any,
        llama_model: Any,
        compression: dict[str, Any],
        answered: Sequence[BBQItem],
    ) -> Agreement:
        """``measure.agreement``: the torch engine answers the items llama.cpp answered,
        on the same GGUF (dequantized), and the two are compared item by item."""
        from bias_gate.llama.agreement import agreement

        unique = list({item.key: item for item in answered}.values())
        measure = self.measurements
        in_torch = measure.answers(loaded, torch_model, compression, unique, TORCH)
        in_llama = measure.answers(loaded, llama_model, compression, unique, LLAMA_CPP)
        return agreement(in_torch, in_llama)

    def _judge(
        self,
        name: str,
        dense: DenseState,
        model: Any,
        compression: dict[str, Any],
        ppl_verdict: Verdict | None,
        answered: list[BBQItem],
    ) -> list[ItemResult]:
        """The item results of config ``name`` (:func:`bias_gate.judge.item_results.judge_items`),
        the compressed ``model`` answering only what the looks need (each item asked is
        added to ``answered``), compared with ``dense`` (the same runtime)."""
        from bias_gate.judge.item_results import judge_items
        from bias_gate.metrics.gated import get_metric

        def compressed(wanted: Sequence[BBQItem]) -> dict[str, Answer]:
            answered.extend(wanted)
            return self.measurements.answers(
                dense.loaded, model, compression, wanted, dense.runtime, self.progress.answered
            )

        def dense_answers(wanted: Sequence[BBQItem]) -> dict[str, Answer]:
            return self.dense_answers(wanted, dense.runtime)

        base = self.thresholds.base
        # Paradox only where a perplexity limit was checked and passed.
        perplexity_passed = (
            ppl_verdict.status == "pass"
            if ppl_verdict is not None and base.max_perplexity_ratio is not None
            else None
        )
        return judge_items(
            name,
            self.plans(),
            dense_answers,
            compressed,
            thresholds=self.thresholds,
            metric=get_metric(base.metric),
            dense_result=dense.result,
            perplexity_passed=perplexity_passed,
            spending=self.spec.sequential.spending,
            on_look=self.progress.look,
        )

    # -- reporting --------------------------------------------------------------------------

    def run_info(self) -> dict[str, Any]:
        """The results' ``run`` (:mod:`bias_gate.gate.run_info`)."""
        fingerprint = self.loaded().fingerprint
        return run_info(
            self.spec, self.options, self.thresholds, self.items().fingerprint, fingerprint
        )

    def model_info(self) -> dict[str, Any]:
        """The results' ``model``: name, fingerprint and source of the dense model."""
        return model_info(self.spec, self.loaded().fingerprint)

    def results(self, configs: list[ConfigResult]) -> GateResults:
        """This run's :class:`GateResults` holding ``configs``."""
        return GateResults(
            model=self.model_info(), run=self.run_info(), dense=self.dense().result, configs=configs
        )

    def record(self, outcome: ConfigOutcome, item: ItemResult | None) -> dict[str, Any]:
        """What one pytest item reports to the controller: the results of its config
        holding its item only (none for the perplexity item), in the results' own JSON
        (:meth:`GateResults.to_json`, every flipped item: the controller writes them all
        to the side file; it reads the record with ``from_json``)."""
        config = replace(outcome.result, items=[item] if item is not None else [])
        return self.results([config]).to_json(flip_limit=None)

    def failure_text(self, outcome: ConfigOutcome, item: ItemResult) -> str:
        from bias_gate.report.terminal import item_table

        runtime = self.spec.runtime_of(outcome.result.name)
        return item_table(outcome.result, item, self.dense(runtime).result)

    def header_lines(self) -> list[str]:
        warning = [self.cache.warning] if self.cache.warning else []
        return warning + header_lines(self.spec, self.options, self.thresholds)
