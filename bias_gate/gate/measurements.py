"""What the gate measures of a model, each behind one identity-keyed cache: answers
(the answer store) and perplexity. Compressed weights have their own cache in
:mod:`bias_gate.compress.pipeline`. Keys come from :mod:`bias_gate.identity`, so a
killed run resumes where it stopped and a changed input is never answered from the
cache."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias_gate.cache import atomic_write_json, write_or_warn
from bias_gate.config.schema import GateSpec, Runtime, ScoringSpec
from bias_gate.identity import answers_key, perplexity_key
from bias_gate.models.runtimes import LLAMA_CPP, OPENAI, TORCH, runtime_device, runtime_part

if TYPE_CHECKING:
    from bias_gate.answer.types import Answer
    from bias_gate.data.items import BBQItem
    from bias_gate.models.loading import LoadedModel


class Measurements:
    """Answers and perplexities of one model.yaml's models, cached under
    ``cache_dir``. ``items_fingerprint``: the planned items' content fingerprint (asked
    only when a key is needed, so the items load lazily); ``benchmark_fingerprints``: in
    a run of several benchmarks, each one's (:attr:`ItemSet.benchmark_fingerprints`).
    ``data_dir``: the local data mirror (``None``: download)."""

    def __init__(
        self,
        spec: GateSpec,
        cache_dir: Path,
        data_dir: Path | None,
        items_fingerprint: Callable[[], str],
        benchmark_fingerprints: Callable[[], dict[str, str]] = dict,
    ):
        self.spec = spec
        self.cache_dir = cache_dir
        self.data_dir = data_dir
        self.items_fingerprint = items_fingerprint
        self.benchmark_fingerprints = benchmark_fingerprints

    def corpus_digest(self) -> str:
        """The perplexity corpus's identity: the SHA-256 of its text (a user's file can
        change in place), or the ``hf:`` name."""
        from bias_gate.data.text import corpus_fingerprint

        return corpus_fingerprint(self.spec.perplexity.corpus, self.data_dir)

    def answers_key(
        self,
        model: str,
        compression: dict[str, Any],
        device: str,
        runtime: Runtime = TORCH,
        served: dict[str, Any] | None = None,
        benchmark: str | None = None,
    ) -> str:
        """The answers key of ``benchmark``'s items (default: the run's one benchmark).
        Another benchmark reads generated answers with its own parser and prompt: its
        name is part of the items' identity (BBQ's keys are those of earlier releases,
        in a run of several benchmarks too, so a BBQ-only run's answers are reused)."""
        benchmark = benchmark or self.spec.data.benchmark
        items = self.items_fingerprint()
        if self.spec.data.benchmarks:
            items = self.benchmark_fingerprints()[benchmark]
        if benchmark != "bbq":
            items = f"{benchmark}:{items}"
        return answers_key(
            model,
            compression,
            items,
            self.scoring(benchmark),
            runtime_device(runtime, device),
            runtime=runtime_part(runtime, served),
        )

    def scoring(self, benchmark: str) -> ScoringSpec:
        """The scoring settings ``benchmark``'s items are asked with: the config's, with
        that benchmark's prompt in a run of several (:attr:`GateSpec.benchmark_prompts`)."""
        prompt = self.spec.benchmark_prompts.get(benchmark)
        scoring = self.spec.scoring
        return scoring if prompt is None else scoring.model_copy(update={"prompt": prompt})

    def perplexity_key(
        self,
        model: str,
        compression: dict[str, Any],
        device: str,
        runtime: Runtime = TORCH,
        served: dict[str, Any] | None = None,
    ) -> str:
        return perplexity_key(
            model,
            compression,
            self.spec.perplexity,
            self.corpus_digest(),
            runtime_device(runtime, device),
            runtime=runtime_part(runtime, served),
        )

    def answers(
        self,
        loaded: LoadedModel,
        model: Any,
        compression: dict[str, Any],
        wanted: Sequence[BBQItem],
        runtime: Runtime = TORCH,
        on_answered: Callable[[int, bool], None] | None = None,
    ) -> dict[str, Answer]:
        """Answers of ``model`` (``loaded``'s model under ``compression``, in
        ``runtime``: a torch module, or a :class:`~bias_gate.llama.runtime.LlamaModel`)
        to ``wanted`` (a part of the planned items), through the answer store keyed by
        the whole plan (each benchmark's, in a run of several), so later looks and reruns
        reuse them; the key's batch shards are compacted into one file after each call (a
        look's answers are then one file). Each benchmark's items are asked with its own
        prompt and their generated answers read by its parser. ``on_answered``: told the
        number of items read from the store, then of each batch answered (live progress)."""
        grouped: dict[str, list[BBQItem]] = {}
        for item in wanted:
            grouped.setdefault(self.benchmark_of(item), []).append(item)
        answers: dict[str, Answer] = {}
        for benchmark, items in grouped.items():
            answers.update(
                self._benchmark_answers(
                    loaded, model, compression, items, runtime, on_answered, benchmark
                )
            )
        return answers

    def benchmark_of(self, item: BBQItem) -> str:
        """The benchmark ``item`` is from: the run's one, or its gate category's."""
        if not self.spec.data.benchmarks:
            return self.spec.data.benchmark
        from bias_gate.data.benchmark_set import split_category

        return split_category(item.category)[0]

    def _benchmark_answers(
        self,
        loaded: LoadedModel,
        model: Any,
        compression: dict[str, Any],
        wanted: Sequence[BBQItem],
        runtime: Runtime,
        on_answered: Callable[[int, bool], None] | None,
        benchmark: str,
    ) -> dict[str, Answer]:
        """:meth:`answers` of one benchmark's items."""
        from bias_gate.answer.engine import answer_items
        from bias_gate.answer.store import AnswerStore
        from bias_gate.compress.in_place import use_state
        from bias_gate.registry import BENCHMARKS

        key = self.answers_key(
            loaded.fingerprint,
            compression,
            loaded.device,
            runtime,
            served=_served(model, runtime),
            benchmark=benchmark,
        )
        store = AnswerStore(self.cache_dir / "answers")

        def prepare() -> None:
            use_state(loaded, model, compression)

        answers = answer_items(
            model,
            loaded.tokenizer,
            wanted,
            self.scoring(benchmark),
            store=store,
            store_key=key,
            parse_answer=BENCHMARKS.get(benchmark)().parse_answer,
            on_answered=on_answered,
            prepare=prepare,
        )
        store.compact(key)
        return answers

    def perplexity(
        self,
        loaded: LoadedModel,
        model: Any,
        compression: dict[str, Any],
        runtime: Runtime = TORCH,
    ) -> float | None:
        """The perplexity of ``model`` (in ``runtime``) on the configured corpus;
        ``None`` when off, or when a server cannot give prompt log-probabilities (then
        ``model.perplexity_reason`` says why)."""
        settings = self.spec.perplexity
        if not settings.enabled:
            return None
        key = self.perplexity_key(
            loaded.fingerprint, compression, loaded.device, runtime, _served(model, runtime)
        )
        path = self.cache_dir / "perplexity" / f"{key}.json"
        cached = _read_perplexity(path)
        if cached is not None:
            return cached
        if runtime == OPENAI:
            from bias_gate.models.openai_perplexity import (
                PerplexityNotMeasured,
                endpoint_perplexity,
            )

            try:
                result = endpoint_perplexity(model, settings, data_dir=self.data_dir)
            except PerplexityNotMeasured as exc:
                model.perplexity_reason = str(exc)  # the runner reports it (never a pass)
                return None
        elif runtime == LLAMA_CPP:
            from bias_gate.llama.runtime import llama_perplexity

            result = llama_perplexity(model, loaded.tokenizer, settings, data_dir=self.data_dir)
        else:
            from bias_gate.compress.in_place import use_state
            from bias_gate.models.perplexity import perplexity

            use_state(loaded, model, compression)
            result = perplexity(model, loaded.tokenizer, settings, data_dir=self.data_dir)
        value = result.perplexity
        write_or_warn(
            "a perplexity",
            path.parent,
            lambda: atomic_write_json(path, {"perplexity": value, "key": key}),
        )
        return value


def _served(model: Any, runtime: Runtime) -> dict[str, Any] | None:
    """The served model's identity (a server's answers are keyed by it)."""
    return model.identity() if runtime == OPENAI else None


def _read_perplexity(path: Path) -> float | None:
    """A cached perplexity, or ``None`` when there is none or it cannot be read."""
    try:
        return float(json.loads(path.read_text(encoding="utf-8"))["perplexity"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
