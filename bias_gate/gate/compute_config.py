"""One compression config computed whole, the first time one of its items runs:

    compress -> (open the GGUF in llama.cpp) -> perplexity -> answers, look by look,
    compared with the dense model in the same runtime -> item results -> ConfigResult

The compressed model lives only inside :meth:`ConfigComputer._measure`: it is released
(and collected) before the result is built, so at most two models (dense and one
compressed) are in memory; where the dense model's projections are mapped from their
file, one: the compression is done in place and the dense weights come back from the file
when the dense model answers (:mod:`bias_gate.compress.in_place`)."""

from __future__ import annotations

import gc
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias_gate.config.schema import GateSpec, Runtime
from bias_gate.gate.config_result import ConfigOutcome, Measured, config_result
from bias_gate.gate.dense import DenseBaselines, DenseState
from bias_gate.gate.measurements import Measurements
from bias_gate.gate.run_models import RunModels
from bias_gate.identity import compression_part
from bias_gate.judge.plan import category_plans
from bias_gate.judge.thresholds import ThresholdSet
from bias_gate.judge.verdict import judge_perplexity
from bias_gate.models.runtimes import LLAMA_CPP, OPENAI, TORCH
from bias_gate.results import PERPLEXITY, ItemResult, Verdict

if TYPE_CHECKING:
    from bias_gate.answer.types import Answer
    from bias_gate.compress.base import CompressionContext
    from bias_gate.compress.measure import CompressionReport
    from bias_gate.compress.methods import CompressionMethod
    from bias_gate.data.items import BBQItem
    from bias_gate.judge.looks import CategoryPlan
    from bias_gate.llama.agreement import Agreement
    from bias_gate.models.loading import LoadedModel


class ConfigComputer:
    """Computes one config at a time from the run's shared parts."""

    def __init__(
        self,
        spec: GateSpec,
        methods: Mapping[str, CompressionMethod],
        thresholds: ThresholdSet,
        models: RunModels,
        dense: DenseBaselines,
        measurements: Measurements,
    ):
        self.spec = spec
        self.methods = methods
        self.thresholds = thresholds
        self.models = models
        self.dense = dense
        self.measurements = measurements
        self.progress = models.progress
        self._plans: dict[str, CategoryPlan] | None = None

    def plans(self) -> dict[str, CategoryPlan]:
        """Each category's items in answering order, and its looks (:mod:`bias_gate.judge.plan`)."""
        if self._plans is None:
            self._plans = category_plans(self.spec, self.models.items().items)
        return self._plans

    def planned_items(self) -> int:
        """The most items one config's compressed model answers (every look of every
        category; a category that settles early stops before)."""
        return sum(
            len(plan.items_through(plan.looks) if plan.looks else plan.disambiguated)
            for plan in self.plans().values()
        )

    def identity(self, name: str, context: CompressionContext) -> dict[str, Any]:
        """Config ``name``'s share of its keys, asked of its compressor (every method)."""
        method = self.methods[name]
        return compression_part(method.spec, method.compressor, method.options, context)

    def compute(self, name: str) -> ConfigOutcome:
        """Config ``name`` computed whole: every category judged, the result built."""
        source = self.spec.source_path.name if self.spec.source_path else "model.yaml"
        self.progress.start(f"{source}::{name}", self.planned_items())
        runtime = self.spec.runtime_of(name)
        dense = self.dense.get(runtime)
        started = time.perf_counter()
        measured = self._measure(name, dense, runtime)
        gc.collect()  # the compressed model, released by _measure
        seconds = time.perf_counter() - started
        result = config_result(self.spec, name, runtime, dense.perplexity, measured, seconds)
        self.progress.finish()
        return ConfigOutcome(result=result, by_category={i.category: i for i in measured.items})

    def _measure(self, name: str, dense: DenseState, runtime: Runtime) -> Measured:
        """Compress, then measure the compressed model in ``runtime``. Every reference to
        a model is local here: returning releases them."""
        from bias_gate.compress.measure import MeasureSettings
        from bias_gate.compress.pipeline import compress_model

        self.progress.stage("compressing")
        context = self.models.compression_context(dense.loaded.tokenizer, dense.loaded.device)
        measure = self.spec.measure
        model, report = compress_model(
            dense.loaded,
            self.methods[name],
            context,
            cache_dir=self.models.cache_dir / "compressed",
            settings=MeasureSettings(sizes=measure.storage, latency=measure.latency),
            in_place=True,
        )
        # The compressor's own identity of this compression (every method, cached or not).
        compression = self.identity(name, context)
        answering = model
        if runtime == LLAMA_CPP:
            answering = self._open_llama(report, dense.loaded)
            if not measure.agreement:
                model = None  # only llama.cpp answers: the torch model goes now
                gc.collect()
        elif runtime == OPENAI:
            from bias_gate.models.runtimes import open_endpoint

            answering = open_endpoint(self.spec, name, dense.loaded, self.models.cache_dir)
            model = None  # the server answers: what was compressed here is not used
        self.progress.stage("perplexity")
        perplexity = self.measurements.perplexity(dense.loaded, answering, compression, runtime)
        unmeasured = [
            f"{who} perplexity not measured: {reason}"
            for who, reason in (
                ("the dense model's", getattr(dense.model, "perplexity_reason", None)),
                ("this config's", getattr(answering, "perplexity_reason", None)),
            )
            if reason
        ]
        ratio, ppl_verdict = self._perplexity_verdict(perplexity, dense.perplexity, unmeasured)
        answered: list[BBQItem] = []
        items = self._judge(name, dense, answering, compression, ppl_verdict, answered)
        agreement = None
        if runtime == LLAMA_CPP and measure.agreement:
            agreement = self._agreement(dense.loaded, model, answering, compression, answered)
        return Measured(report, perplexity, ratio, ppl_verdict, items, agreement)

    def _open_llama(self, report: CompressionReport, loaded: LoadedModel) -> Any:
        """The GGUF the compression wrote (or the dense one) opened in llama.cpp."""
        from bias_gate.models.runtimes import open_llama

        path = Path(report.artifact_path) if report.artifact_path else self.models.dense_gguf()
        return open_llama(path, loaded)

    def _perplexity_verdict(
        self,
        perplexity: float | None,
        dense_perplexity: float | None,
        unmeasured: Sequence[str] = (),
    ) -> tuple[float | None, Verdict | None]:
        """The compressed/dense perplexity ratio, and its verdict when perplexity is on:
        a fail naming why when a server could not measure it (``unmeasured``)."""
        ratio = (
            perplexity / dense_perplexity if perplexity is not None and dense_perplexity else None
        )
        if self.spec.perplexity.enabled and unmeasured:
            return None, Verdict("fail", list(unmeasured), PERPLEXITY)
        base = self.thresholds.base
        verdict = judge_perplexity(ratio, base) if self.spec.perplexity.enabled else None
        return ratio, verdict

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
        from bias_gate.data.benchmark_set import benchmark_of_category
        from bias_gate.judge.item_results import judge_items
        from bias_gate.metrics.gated import get_metric

        def compressed(wanted: Sequence[BBQItem]) -> dict[str, Answer]:
            answered.extend(wanted)
            return self.measurements.answers(
                dense.loaded, model, compression, wanted, dense.runtime, self.progress.answered
            )

        def dense_answers(wanted: Sequence[BBQItem]) -> dict[str, Answer]:
            return self.dense.answers(wanted, dense.runtime)

        base = self.thresholds.base
        # Paradox only where a perplexity limit was checked and passed.
        perplexity_passed = (
            ppl_verdict.status == "pass"
            if ppl_verdict is not None and base.max_perplexity_ratio is not None
            else None
        )
        items = judge_items(
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
        for item in items:
            item.benchmark = benchmark_of_category(self.spec.data, item.category)
        return items
