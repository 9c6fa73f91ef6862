"""Perplexity through an OpenAI-compatible server, from its prompt log-probabilities.

Each window of :func:`bias_gate.models.perplexity.perplexity` (the same corpus tokens,
the same windows) is sent as one ``/completions`` request with ``echo: true`` and
``logprobs: 1``: the server returns the log-probability of every prompt token given
the ones before it, the first one ``null``. Before the windows, a probe checks that the
server can: it returns one value per prompt token, and the values belong to their
tokens (a counting sequence, which any language model continues with near certainty,
must read as near certain). llama-cpp-python 0.3's server, for one, fails it: it
leaves out every token whose id is the BOS id and reads a prompt's rows one token off
unless the prompt starts with BOS (its ``_create_completion``). A server that cannot is not
used for perplexity: :class:`PerplexityNotMeasured` says why, and the gate reports
the config's perplexity as not measured with that reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bias_gate.config.schema import PerplexitySpec
from bias_gate.models.openai_client import EndpointError
from bias_gate.models.openai_runtime import OpenAIModel
from bias_gate.models.perplexity import (
    PerplexityResult,
    corpus_ids,
    perplexity_result,
    window_starts,
)

#: The probe's text, and the least mean log-probability of its last ``_PROBE_TAIL``
#: tokens that reads as aligned (a model reads them at about 0; shifted by one, a
#: token would have to follow itself: below -5).
PROBE_TEXT = ", ".join(str(n) for n in range(1, 13)) + ","
_PROBE_TAIL = 8
_PROBE_FLOOR = -2.0


class PerplexityNotMeasured(Exception):
    """The server cannot give what perplexity needs; ``str()`` says what."""


def _echo_body(model: OpenAIModel, ids: Sequence[int]) -> dict[str, Any]:
    try:
        text = model.text(ids)
    except EndpointError as exc:
        raise PerplexityNotMeasured(
            "a window's text does not re-tokenize to its own tokens (a completions API takes text)"
        ) from exc
    return {
        "model": model.spec.model,
        "prompt": text,
        "max_tokens": 1,
        "temperature": 0,
        "logprobs": 1,
        "echo": True,
    }


def prompt_logprobs(response: dict[str, Any], n_tokens: int) -> list[float]:
    """The log-probabilities of tokens 2..n of an ``n_tokens``-token prompt from an echo
    ``response``; :class:`PerplexityNotMeasured` when it does not hold one per token."""
    choices = response.get("choices") or [{}]
    values = (choices[0].get("logprobs") or {}).get("token_logprobs")
    if not values:
        raise PerplexityNotMeasured(
            "the server returns no prompt log-probabilities (echo with logprobs on /completions)"
        )
    generated = int((response.get("usage") or {}).get("completion_tokens", 1))
    prompt = values[: len(values) - generated]
    if len(prompt) != n_tokens or any(v is None for v in prompt[1:]):
        raise PerplexityNotMeasured(
            f"the server echoes {len(prompt)} log-probabilities for a prompt of {n_tokens} "
            "tokens (it must give one per token, the first null)"
        )
    return [float(v) for v in prompt[1:]]


def check_prompt_logprobs(model: OpenAIModel) -> None:
    """The probe: :class:`PerplexityNotMeasured` unless the server's echoed prompt
    log-probabilities are one per token and belong to their tokens."""
    ids = list(model.tokenizer.encode(PROBE_TEXT, add_special_tokens=False))
    [response] = model.client.post_many("/completions", [_echo_body(model, ids)])
    values = prompt_logprobs(response, len(ids))
    tail = values[-_PROBE_TAIL:]
    mean = sum(tail) / len(tail)
    if mean < _PROBE_FLOOR:
        raise PerplexityNotMeasured(
            f"the server's prompt log-probabilities are not aligned with their tokens (a "
            f"counting sequence reads at {mean:.2f} nats a token)"
        )


def endpoint_perplexity(
    model: OpenAIModel,
    spec: PerplexitySpec,
    *,
    data_dir: Path | None = None,
    base_dir: Path | None = None,
) -> PerplexityResult:
    """:func:`bias_gate.models.perplexity.perplexity` through the server: the same corpus
    tokens, the same windows, one echo request per window."""
    check_prompt_logprobs(model)
    ids = corpus_ids(model.tokenizer, spec.corpus, data_dir, base_dir)
    starts = window_starts(ids.numel(), spec.window, spec.windows)
    windows = [ids[s : s + spec.window].tolist() for s in starts]
    responses = model.client.post_many("/completions", [_echo_body(model, w) for w in windows])
    total = sum(-sum(prompt_logprobs(r, len(w))) for r, w in zip(responses, windows, strict=True))
    return perplexity_result(total, len(starts), spec)
