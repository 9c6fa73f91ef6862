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
from bias_gate.config.schema import GateSpec, Runtime
from bias_gate.identity import answers_key, perplexity_key
from bias_gate.models.runtimes import LLAMA_CPP, OPENAI, TORCH, runtime_device, runtime_part

if TYPE_CHECKING:
    from bias_gate.answer.types import Answer
    from bias_gate.data.items import BBQItem
    from bias_gate.models.loading import LoadedModel


class Measurements:
    """Answers and perplexities of one model.yaml's models, cached under
    ``cache_dir``. ``items_fingerprint``: the planned items' content fingerprint (asked
    only when a key is needed, so the items load lazily). ``data_dir``: the local data
    mirror (``None``: download)."""

    def __init__(
        self,
        spec: GateSpec,
        cache_dir: Path,
        data_dir: Path | None,
        items_fingerprint: Callable[[], str],
    ):
        self.spec = spec
        self.cache_dir = cache_dir
        self.data_dir = data_dir
        self.items_fingerprint = items_fingerprint

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
    ) -> str:
        # Another benchmark reads generated answers with its own parser: its name is
        # part of the items' identity (BBQ's keys are those of earlier releases).
        items = self.items_fingerprint()
        benchmark = self.spec.data.benchmark
        if benchmark != "bbq":
            items = f"{benchmark}:{items}"
        return answers_key(
            model,
            compression,
            items,
            self.spec.scoring,
            runtime_device(runtime, device),
            runtime=runtime_part(runtime, served),
        )

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
        the whole plan, so later looks and reruns reuse them; the key's batch shards are
        compacted into one file after each call (a look's answers are then one file).
        Generated answers are read by the benchmark's parser. ``on_answered``: told the
        number of items read from the store, then of each batch answered (live progress)."""
        from bias_gate.answer.engine import answer_items
        from bias_gate.answer.store import AnswerStore
        from bias_gate.registry import BENCHMARKS

        key = self.answers_key(
            loaded.fingerprint, compression, loaded.device, runtime, _served(model, runtime)
        )
        store = AnswerStore(self.cache_dir / "answers")
        answers = answer_items(
            model,
            loaded.tokenizer,
            wanted,
            self.spec.scoring,
            store=store,
            store_key=key,
            parse_answer=BENCHMARKS.get(self.spec.data.benchmark)().parse_answer,
            on_answered=on_answered,
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
            from bias_gate.models.perplexity import perplexity

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
