"""The dense baseline of a gate run, in each runtime its configs use: the dense model's
answers (all disambiguated items first, for the validity check; ambiguous ones look by
look), its perplexity and its validity, computed once per runtime or read from the
baseline file (which holds ``model.runtime``'s)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bias_gate.config.schema import GateSpec, Runtime
from bias_gate.gate.baseline import BaselineFile
from bias_gate.gate.measurements import Measurements
from bias_gate.gate.run_models import RunModels
from bias_gate.identity import NO_COMPRESSION, baseline_key, baseline_parts
from bias_gate.judge.thresholds import ThresholdSet
from bias_gate.models.runtimes import TORCH, runtime_device, runtime_part
from bias_gate.results import DenseResult

if TYPE_CHECKING:
    from bias_gate.answer.types import Answer
    from bias_gate.data.items import BBQItem
    from bias_gate.data.loader import ItemSet
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


def dense_result(
    spec: GateSpec,
    thresholds: ThresholdSet,
    disambiguated: Sequence[BBQItem],
    answers: Mapping[str, Answer],
    perplexity: float | None,
    fingerprint: str,
) -> DenseResult:
    """The results' ``dense``: its perplexity and whether it answers validly enough for
    its comparisons to be informative (overall and per category)."""
    from bias_gate.judge.validity import validity, validity_by_category

    diagnostics = validity(disambiguated, answers)
    base = thresholds.base
    judged = diagnostics.judge(base.validity, base.power, who="the dense model")
    return DenseResult(
        perplexity=perplexity,
        validity=diagnostics.to_json() | {"notes": diagnostics.notes()},
        informative=judged.state == "valid",
        validity_reasons=judged.reasons,
        fingerprint=fingerprint,
        validity_by_category=validity_by_category(
            disambiguated, answers, spec.data.categories, base.validity, base.power
        ),
        validity_state=judged.state,
    )


class DenseBaselines:
    """The dense baseline per runtime, each computed the first time a config needs it."""

    def __init__(
        self,
        spec: GateSpec,
        models: RunModels,
        measurements: Measurements,
        baseline: BaselineFile,
        thresholds: ThresholdSet,
    ):
        self.spec = spec
        self.models = models
        self.measurements = measurements
        self.baseline = baseline
        self.thresholds = thresholds
        self._states: dict[Runtime, DenseState] = {}

    def parts(self) -> dict[str, Any]:
        """Everything that determines the dense baseline (in ``model.runtime``, the one a
        baseline file holds), by name (to say what differs)."""
        from bias_gate.models.loading import model_fingerprint

        runtime = self.spec.model.runtime
        return baseline_parts(
            model=model_fingerprint(self.spec.model),
            items=self.models.items().fingerprint,
            scoring=self.spec.scoring,
            perplexity=self.spec.perplexity,
            corpus_digest=(
                self.measurements.corpus_digest() if self.spec.perplexity.enabled else None
            ),
            device=runtime_device(runtime, self.models.device()),
            runtime=runtime_part(runtime),
        )

    def get(self, runtime: Runtime | None = None) -> DenseState:
        """The dense baseline in ``runtime`` (default ``model.runtime``: the one the
        results' ``dense`` shows)."""
        runtime = runtime or self.spec.model.runtime
        if runtime not in self._states:
            self._states[runtime] = self._compute(runtime)
        return self._states[runtime]

    def answers(
        self, wanted: Sequence[BBQItem], runtime: Runtime | None = None
    ) -> dict[str, Answer]:
        """The dense model's answers in ``runtime`` to ``wanted`` (answered now where
        missing)."""
        dense = self.get(runtime)
        missing = [item for item in wanted if item.key not in dense.answers]
        if missing:
            dense.answers.update(
                self.measurements.answers(
                    dense.loaded, dense.model, NO_COMPRESSION, missing, dense.runtime
                )
            )
        return {item.key: dense.answers[item.key] for item in wanted}

    def _compute(self, runtime: Runtime) -> DenseState:
        """Load the dense model and answer what every config needs first: all
        disambiguated items (the validity check) and, with a baseline file (which holds
        ``model.runtime``'s baseline), every item. Ambiguous items are otherwise answered
        lazily, look by look (:meth:`answers`)."""
        from bias_gate.models.runtimes import open_llama

        loaded = self.models.loaded()
        self.models.progress.stage("dense baseline")
        model = loaded.model if runtime == TORCH else open_llama(self.models.dense_gguf(), loaded)
        items = self.models.items()
        parts = self.parts()
        fingerprint = baseline_key(parts)
        disambiguated = [item for item in items.items if not item.is_ambiguous]
        answers, perplexity = self._measure(
            runtime, loaded, model, items, disambiguated, parts, fingerprint
        )
        result = dense_result(
            self.spec, self.thresholds, disambiguated, answers, perplexity, fingerprint
        )
        return DenseState(loaded, runtime, model, items, dict(answers), perplexity, result)

    def _measure(
        self,
        runtime: Runtime,
        loaded: LoadedModel,
        model: Any,
        items: ItemSet,
        disambiguated: list[BBQItem],
        parts: dict[str, Any],
        fingerprint: str,
    ) -> tuple[Mapping[str, Answer], float | None]:
        """The dense answers and perplexity: read from the baseline file when it holds
        them, else measured (every item when a baseline file is to be written, then
        written; else the disambiguated items)."""
        baseline = self.baseline if runtime == self.spec.model.runtime else BaselineFile(None)
        stored = baseline.load(fingerprint)
        if stored is not None:
            return stored
        measure = self.measurements
        wanted = items.items if baseline.path is not None else disambiguated
        answers = measure.answers(loaded, model, NO_COMPRESSION, wanted, runtime)
        perplexity = measure.perplexity(loaded, model, NO_COMPRESSION, runtime)
        if baseline.path is not None:
            name = self.spec.model.display_name
            baseline.save(parts, fingerprint, name, answers, perplexity)
        return answers, perplexity
