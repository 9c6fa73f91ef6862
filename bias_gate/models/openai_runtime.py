"""Answering through an OpenAI-compatible server (``runtime: openai``).

:class:`OpenAIModel` stands where the torch model stands in
:func:`bias_gate.answer.engine.answer_items`: its :meth:`~OpenAIModel.prefix_scorer`
gives an :class:`OpenAIScorer` with the ``score`` interface of the scoring modes. The
engine builds the same token ids as for the in-process runtimes; each log-probability
it needs, "token ``t`` after the ids ``p``", becomes one ``/completions`` request:
the text of ``p`` as the prompt, one greedy token forced to ``t`` by ``logit_bias``,
``logprobs: 1``. The server reports the log-probability of the token it returns under
the model's own distribution (the bias chooses the token; it does not change the
reported value: llama.cpp and vLLM report raw log-probabilities), so the reply is
``log p(t | p)``. Three checks keep the tokens equal to the engine's, each a one-line
:class:`EndpointError`: the prompt text re-tokenizes (by the model's tokenizer) to
exactly ``p``; the server counts ``len(p)`` prompt tokens; and it returns ``t``.

docs/scoring.md ("Answering through a server") states the mapping for each mode.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from bias_gate.answer.variants import DecodeState, Variant, VariantScore
from bias_gate.config.endpoint import EndpointSpec
from bias_gate.models.openai_client import EndpointClient, EndpointError

if TYPE_CHECKING:
    from bias_gate.answer.context import ModeContext
    from bias_gate.data.items import BBQItem

#: The bias that forces the one token a request asks about.
FORCE = 100


class OpenAIModel:
    """A model served at ``spec``; ``tokenizer``: the model's own (it builds the ids the
    engine scores); ``cache_dir``: where the client caches answers (``None``: not
    cached); ``key``: the config key of ``spec`` (for error lines)."""

    def __init__(
        self,
        spec: EndpointSpec,
        tokenizer: Any,
        cache_dir: Path | None = None,
        *,
        key: str = "model.endpoint",
        generation_config: Any = None,
    ) -> None:
        self.spec = spec
        self.tokenizer = tokenizer
        self.key = key
        self.client = EndpointClient(spec, cache_dir, key=key)
        self.generation_config = generation_config
        #: Why perplexity was not measured through this server (set when it was not).
        self.perplexity_reason: str | None = None

    def identity(self) -> dict[str, Any]:
        """The served model's identity (part of every cache key of its answers)."""
        return self.client.identity()

    def prefix_scorer(self, run_prefix: Sequence[int] = ()) -> OpenAIScorer:
        return OpenAIScorer(self)

    # -- text and requests ------------------------------------------------------------
    def text(self, ids: Sequence[int]) -> str:
        """The text of ``ids``, refused unless the tokenizer reads it back as ``ids``
        (a completions API takes text, so a prompt must survive the round trip)."""
        text = str(
            self.tokenizer.decode(
                list(ids), skip_special_tokens=False, clean_up_tokenization_spaces=False
            )
        )
        again = list(self.tokenizer.encode(text, add_special_tokens=False))
        if again != list(ids):
            raise EndpointError(
                f"a prompt of {len(ids)} tokens does not re-tokenize to the same tokens as "
                f"text (it gives {len(again)}); a completions API takes text, so this prompt "
                "cannot be sent: change scoring.prompt so it ends at a word boundary",
                key=self.key,
            )
        return text

    def forced_body(self, prefix: Sequence[int], target: int) -> dict[str, Any]:
        """The request for ``log p(target | prefix)``."""
        return {
            "model": self.spec.model,
            "prompt": self.text(prefix),
            "max_tokens": 1,
            "temperature": 0,
            "logprobs": 1,
            "logit_bias": {str(int(target)): FORCE},
        }

    def read_forced(self, response: dict[str, Any], prefix: Sequence[int], target: int) -> float:
        """``log p(target | prefix)`` from the server's ``response``, checked."""
        usage = response.get("usage") or {}
        counted = usage.get("prompt_tokens")
        if counted is not None and int(counted) != len(prefix):
            raise EndpointError(
                f"the server counts {counted} tokens in a prompt the model's tokenizer reads "
                f"as {len(prefix)}: serve the model with the same tokenizer (and no added "
                "BOS token)",
                key=self.key,
            )
        choices = response.get("choices") or [{}]
        logprobs = choices[0].get("logprobs") or {}
        values = logprobs.get("token_logprobs") or []
        if not values or values[0] is None:
            raise EndpointError(
                "the server returns no token log-probabilities on /completions "
                "(logprobs): runtime openai needs them for every scoring mode",
                key=self.key,
            )
        tokens = logprobs.get("tokens") or []
        wanted = str(self.tokenizer.decode([int(target)], clean_up_tokenization_spaces=False))
        if tokens and "\ufffd" not in wanted and tokens[0] != wanted:
            raise EndpointError(
                f"the server ignored logit_bias (asked to return {wanted!r}, it returned "
                f"{tokens[0]!r}): runtime openai needs logit_bias on /completions",
                key=self.key,
            )
        value = float(values[0])
        if math.isnan(value):
            raise EndpointError("the server returned a NaN log-probability", key=self.key)
        return value

    def logprobs(self, asks: Sequence[tuple[Sequence[int], int]]) -> list[float]:
        """``log p(target | prefix)`` for each ``(prefix, target)``, requested
        ``concurrency`` at a time (each answer cached)."""
        bodies = [self.forced_body(prefix, target) for prefix, target in asks]
        responses = self.client.post_many("/completions", bodies)
        return [
            self.read_forced(response, prefix, target)
            for response, (prefix, target) in zip(responses, asks, strict=True)
        ]


class OpenAIScorer:
    """The scorer interface of :class:`bias_gate.answer.scorer.PrefixScorer`, over
    HTTP: ``score`` for the scoring modes, ``generate_texts`` for ``generate``."""

    max_batch_tokens = 1

    def __init__(self, model: OpenAIModel) -> None:
        self.served = model
        self.forward_calls = 0

    def check_window(self, length: int) -> None:
        """The server checks its own context length (a prompt too long is a 400)."""

    def score(
        self, groups: Sequence[Sequence[Variant]], read_ids: Sequence[int] = ()
    ) -> list[list[VariantScore]]:
        """Every variant's log-probabilities of ``read_ids`` as its next token and of its
        continuation's tokens (as :meth:`PrefixScorer.score`), from one request each."""
        asks: list[tuple[Sequence[int], int]] = []
        for group in groups:
            for variant in group:
                ids, k = variant.ids, variant.n_scored
                asks.extend((ids, int(r)) for r in read_ids)
                asks.extend((ids[:j], ids[j]) for j in range(len(ids) - k, len(ids)))
        values = iter(self.served.logprobs(asks))
        self.forward_calls += len(asks)
        out: list[list[VariantScore]] = []
        for group in groups:
            scored = []
            for variant in group:
                nxt = [next(values) for _ in read_ids]
                own = [next(values) for _ in range(variant.n_scored)]
                scored.append(
                    VariantScore(
                        torch.tensor(nxt, dtype=torch.float32),
                        torch.tensor(own, dtype=torch.float32),
                    )
                )
            out.append(scored)
        return out

    def generate_texts(
        self,
        ctx: ModeContext,
        items: Sequence[BBQItem],
        prompts: Sequence[Sequence[int]],
        per_item: int,
    ) -> list[str]:
        """``generate`` mode: the server writes the texts
        (:mod:`bias_gate.models.openai_generate`)."""
        from bias_gate.models.openai_generate import generate_texts

        texts = generate_texts(self.served, ctx, items, prompts, per_item)
        self.forward_calls += len(texts)
        return texts

    def prefill(self, prompts: Sequence[Sequence[int]], repeats: int = 1) -> DecodeState:
        raise AssertionError("generate mode goes through generate_texts over HTTP")

    def step(self, state: DecodeState, tokens: torch.Tensor) -> DecodeState:
        raise AssertionError("generate mode goes through generate_texts over HTTP")
