"""``generate`` mode through a server: the model writes its answer, the gate reads it.

With a chat prompt (``scoring.prompt.chat_template``, the default) each request goes to
``/chat/completions`` with the same messages the in-process engine renders with the
model's chat template (:func:`bias_gate.answer.prompts.prompt_messages`); the server
applies the served model's template, and the reply's ``usage.prompt_tokens`` must equal
the length of the engine's own prompt, else the server's template differs and the run
stops with one line. A plain prompt goes to ``/completions`` as the engine's prompt
text (re-tokenized to the same ids, as every request of ``runtime: openai``).

``max_tokens`` is ``scoring.generate.max_new_tokens``. Greedy (``temperature`` 0): one
request per item, the same text as in process on a server that computes the same
logits. Sampled: one request per (item, seed) with the server's ``seed`` parameter set
from the seed and the item key, and ``top_k`` / ``top_p`` as the engine samples; the
server's random numbers are its own, so sampled texts match the in-process ones only in
distribution. Each reply is cached like every request (docs/serving.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bias_gate.answer.generate import sampling_seed
from bias_gate.answer.prompts import IDENTITY, prompt_messages
from bias_gate.data.items import BBQItem
from bias_gate.models.openai_client import EndpointError

if TYPE_CHECKING:
    from bias_gate.answer.context import ModeContext
    from bias_gate.models.openai_runtime import OpenAIModel

CHAT = "/chat/completions"
COMPLETIONS = "/completions"


def route(ctx: ModeContext) -> str:
    """Where ``generate`` requests go for this prompt."""
    return CHAT if ctx.scoring.prompt.chat_template else COMPLETIONS


def request_body(
    served: OpenAIModel, ctx: ModeContext, item: BBQItem, ids: Sequence[int], seed: int | None
) -> dict[str, Any]:
    """One generation request for ``item`` (``seed`` None: greedy)."""
    spec = ctx.scoring.generate
    body: dict[str, Any] = {
        "model": served.spec.model,
        "max_tokens": spec.max_new_tokens,
        "temperature": 0 if seed is None else spec.temperature,
    }
    if route(ctx) == CHAT:
        body["messages"] = prompt_messages(item, ctx.scoring.prompt, IDENTITY)
    else:
        body["prompt"] = served.text(ids)
    if seed is not None:
        config = served.generation_config
        body["seed"] = sampling_seed(seed, item.key)
        body["top_k"] = getattr(config, "top_k", 50)
        top_p = getattr(config, "top_p", None)
        if top_p is not None:
            body["top_p"] = top_p
    return body


def read_text(served: OpenAIModel, response: dict[str, Any], ids: Sequence[int], chat: bool) -> str:
    """The generated text of ``response``, after checking that the server read a prompt
    of the engine's length."""
    counted = (response.get("usage") or {}).get("prompt_tokens")
    if counted is not None and int(counted) != len(ids):
        where = "its chat template gives" if chat else "it counts"
        raise EndpointError(
            f"the server's prompt has {counted} tokens where the model's own "
            f"{'chat template' if chat else 'tokenizer'} gives {len(ids)} ({where} another "
            "prompt): serve the model with its own chat template and tokenizer",
            key=served.key,
        )
    choice = (response.get("choices") or [{}])[0]
    text = (choice.get("message") or {}).get("content") if chat else choice.get("text")
    if not isinstance(text, str):
        api = "/chat/completions" if chat else "/completions"
        raise EndpointError(f"the server's {api} reply holds no text", key=served.key)
    return text


def request_bodies(
    served: OpenAIModel,
    ctx: ModeContext,
    items: Sequence[BBQItem],
    prompts: Sequence[Sequence[int]],
    per_item: int,
) -> list[dict[str, Any]]:
    """The requests for each item's ``per_item`` texts, item-major: greedy, one per item
    (``temperature`` 0); sampled, one per seed, even a single one."""
    spec = ctx.scoring.generate
    seeds = list(spec.seeds)
    return [
        request_body(served, ctx, item, ids, None if spec.temperature == 0 else seeds[s])
        for item, ids in zip(items, prompts, strict=True)
        for s in range(per_item)
    ]


def generate_texts(
    served: OpenAIModel,
    ctx: ModeContext,
    items: Sequence[BBQItem],
    prompts: Sequence[Sequence[int]],
    per_item: int,
) -> list[str]:
    """Each item's ``per_item`` texts (one when greedy; else one per seed), item-major,
    requested ``concurrency`` at a time."""
    bodies = request_bodies(served, ctx, items, prompts, per_item)
    responses = served.client.post_many(route(ctx), bodies)
    chat = route(ctx) == CHAT
    lengths = [ids for ids in prompts for _ in range(per_item)]
    return [
        read_text(served, response, ids, chat)
        for response, ids in zip(responses, lengths, strict=True)
    ]
