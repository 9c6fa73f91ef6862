"""One model.yaml's gate run: the flow from config to verdicts, computed once per
process and shared by all of its pytest items.

    spec -> items + dense model -> dense answers, perplexity, validity (the baseline)
    each config: compress -> perplexity -> answers -> paired comparisons -> verdicts

Each config is answered in its runtime (:mod:`bias_gate.models.runtimes`: torch, or the GGUF
file in llama.cpp) and compared with the dense model in the same runtime: the dense
baseline is computed once per runtime the configs use.

A config is computed whole (all its categories) the first time one of its items runs,
and its compressed model is released at once, so at most two models (dense and one
compressed) are in memory; on CPU with weights mapped from their file, one, compressed in
place (:mod:`bias_gate.compress.in_place`). Everything slow is cached on disk under its identity
(:mod:`bias_gate.identity`: answers, compressed weights, perplexities, the baseline),
so a killed run resumes where it stopped and a changed input is never answered from
the cache.

:class:`GateRun` coordinates the parts, each doing one thing: the command line's
overrides (:mod:`bias_gate.gate.overrides`), the items and dense model loaded once
(:mod:`bias_gate.gate.run_models`), the dense baseline per runtime
(:mod:`bias_gate.gate.dense`, with the baseline file :mod:`bias_gate.gate.baseline`), one
config computed (:mod:`bias_gate.gate.compute_config`) into its result
(:mod:`bias_gate.gate.config_result`), the cached measurements
(:mod:`bias_gate.gate.measurements`), the user's policy (:mod:`bias_gate.gate.policy`) and
what the run says about itself (:mod:`bias_gate.gate.run_info`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bias_gate.cache import cache_root
from bias_gate.config.validated import GateConfig
from bias_gate.gate.baseline import BaselineFile
from bias_gate.gate.compute_config import ConfigComputer
from bias_gate.gate.config_result import ConfigOutcome
from bias_gate.gate.dense import DenseBaselines, DenseState
from bias_gate.gate.measurements import Measurements
from bias_gate.gate.options import GateOptions
from bias_gate.gate.overrides import apply_overrides
from bias_gate.gate.policy import Policy, apply_policy
from bias_gate.gate.progress import ProgressTracker
from bias_gate.gate.run_cache import confine_matplotlib, open_run_cache
from bias_gate.gate.run_info import header_lines, model_info, run_info
from bias_gate.gate.run_models import RunModels
from bias_gate.identity import NO_COMPRESSION, baseline_key, compressed_weights_key
from bias_gate.judge.thresholds import ThresholdSet
from bias_gate.models.runtimes import OPENAI
from bias_gate.results import ConfigResult, GateResults, ItemResult

__all__ = ["ConfigOutcome", "DenseState", "GateRun", "apply_overrides"]


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
        self.policy = policy
        self.thresholds: ThresholdSet = config.thresholds
        requested = options.cache_dir or self.spec.output.cache_dir or cache_root()
        key = "--bias-gate-cache-dir" if options.cache_dir else "output.cache_dir"
        max_size = options.cache_max_size
        if max_size is None:
            max_size = self.spec.cache.max_size
        self.cache = open_run_cache(
            requested, key if requested != cache_root() else "cache", max_size
        )
        self.cache_dir = self.cache.path
        confine_matplotlib(self.cache_dir)
        self.baseline = BaselineFile(options.baseline, options.update_baseline)
        self.models = RunModels(self.spec, options, worker, self.progress, self.cache_dir)
        self.measurements = Measurements(
            self.spec,
            self.cache_dir,
            options.data_dir,
            lambda: self.models.items().fingerprint,
            lambda: self.models.items().benchmark_fingerprints,
        )
        self.dense = DenseBaselines(
            self.spec, self.models, self.measurements, self.baseline, self.thresholds
        )
        self.computer = ConfigComputer(
            self.spec, self.methods, self.thresholds, self.models, self.dense, self.measurements
        )
        self._outcomes: dict[str, ConfigOutcome] = {}

    # -- checks at configure time ---------------------------------------------------------

    def check_baseline(self) -> None:
        """Refuse a baseline file made for another model, items, prompt or library."""
        if self.baseline.readable:
            self.baseline.check(self.dense.parts())

    def measurement_keys(self, name: str) -> dict[str, str | None]:
        """The keys config ``name``'s measurements and the dense baseline are stored
        under, from the config and the files it names alone (no model is loaded):
        ``compressed_weights`` (used when the method is cacheable), ``answers``,
        ``perplexity`` (``None`` when off), ``baseline``, ``dense_answers`` (in the
        config's runtime)."""
        from bias_gate.models.loading import model_fingerprint

        model, device = model_fingerprint(self.spec.model), self.models.device()
        context = self.models.compression_context(device=device)
        compression = self.computer.identity(name, context)
        enabled = self.spec.perplexity.enabled
        runtime = self.spec.runtime_of(name)
        keys = self.measurements
        served, dense_served = None, None
        if runtime == OPENAI:  # a server's answers are keyed by what it serves
            from bias_gate.models.runtimes import served_identity

            served, dense_served = (
                served_identity(self.spec, name),
                served_identity(self.spec, None),
            )
        return {
            "compressed_weights": compressed_weights_key(model, compression, device),
            "answers": keys.answers_key(model, compression, device, runtime, served),
            "perplexity": (
                keys.perplexity_key(model, compression, device, runtime, served)
                if enabled
                else None
            ),
            "baseline": baseline_key(self.dense.parts()),
            "dense_answers": keys.answers_key(model, NO_COMPRESSION, device, runtime, dense_served),
        }

    # -- one compression config -------------------------------------------------------------

    def config_outcome(self, name: str) -> ConfigOutcome:
        """Config ``name``, computed the first time it is asked for (with the policy
        applied)."""
        if name not in self._outcomes:
            try:
                outcome = self.computer.compute(name)
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

    # -- reporting --------------------------------------------------------------------------

    def run_info(self) -> dict[str, Any]:
        """The results' ``run`` (:mod:`bias_gate.gate.run_info`)."""
        loaded = self.models.loaded()
        items = self.models.items().fingerprint
        return run_info(
            self.spec,
            self.options,
            self.thresholds,
            items,
            loaded.fingerprint,
            loaded.in_place_reason,
        )

    def model_info(self) -> dict[str, Any]:
        """The results' ``model``: name, fingerprint and source of the dense model."""
        return model_info(self.spec, self.models.loaded().fingerprint)

    def results(self, configs: list[ConfigResult]) -> GateResults:
        """This run's :class:`GateResults` holding ``configs``."""
        dense = self.dense.get().result
        return GateResults(
            model=self.model_info(), run=self.run_info(), dense=dense, configs=configs
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
        return item_table(outcome.result, item, self.dense.get(runtime).result)

    def header_lines(self) -> list[str]:
        warning = [self.cache.warning] if self.cache.warning else []
        return warning + header_lines(self.spec, self.options, self.thresholds)
