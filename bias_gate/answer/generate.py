"""The ``generate`` mode: let the model write its answer, as the 2026 study did.

Chat prompt with the options in original order; up to ``max_new_tokens`` new tokens per
seed; greedy decoding when ``temperature`` is 0 (then one decode serves every seed),
otherwise sampling at that temperature with the model's top-k / top-p defaults (what
``transformers``' ``generate(do_sample=True)`` applies: top-k 50 unless the model's
generation config says otherwise). Each (item, seed) has its own random generator seeded
from the seed and the item key, so an item's answers do not depend on which batch it was
in. The text is read by the benchmark's parser (``ModeContext.parse_answer``); the choice is the
majority vote over seeds (ties and all-unparseable: ``None``, counted, never guessed).

Speed: each prompt is computed once for all its seeds, and while decoding the seeds read
its keys and values from one shared copy; items are decoded as many at a time as the
scorer's ``max_batch_tokens`` allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from bias_gate.answer.context import ModeContext
from bias_gate.answer.prompts import IDENTITY, encode, prompt_text
from bias_gate.answer.scorer import PrefixScorer
from bias_gate.answer.seeds import majority_vote as majority
from bias_gate.answer.seeds import seed_shares
from bias_gate.answer.types import Answer
from bias_gate.answer.variants import Variant
from bias_gate.data.items import BBQItem
from bias_gate.fingerprint import fingerprint


def generate_variants(ctx: ModeContext, item: BBQItem) -> list[Variant]:
    """One prompt: the item with its options in original order."""
    text = prompt_text(item, ctx.scoring.prompt, ctx.tokenizer, IDENTITY)
    return [Variant(tuple(encode(ctx.tokenizer, text)))]


def stop_ids(model: Any, tokenizer: Any) -> frozenset[int]:
    """Token ids that end a generation: the tokenizer's and the model's end-of-sequence."""
    ids: set[int] = set()
    for value in (tokenizer.eos_token_id, getattr(model.generation_config, "eos_token_id", None)):
        if isinstance(value, int):
            ids.add(value)
        elif value is not None:
            ids.update(int(v) for v in value)
    return frozenset(ids)


def seed_generator(seed: int, key: str) -> torch.Generator:
    """The random generator of one (seed, item): independent of batch composition."""
    return torch.Generator().manual_seed(int(fingerprint("generate", seed, key), 16) % (2**63))


def filter_logits(logits: torch.Tensor, top_k: int | None, top_p: float | None) -> torch.Tensor:
    """Top-k then top-p (nucleus) filtering of one row of logits; removed entries -inf."""
    out = logits.clone()
    if top_k is not None and 0 < top_k < out.numel():
        kth = torch.topk(out, top_k).values[-1]
        out[out < kth] = -float("inf")
    if top_p is not None and top_p < 1.0:
        ordered, index = torch.sort(out, descending=True)
        cumulative = torch.softmax(ordered, dim=-1).cumsum(dim=-1)
        remove = cumulative > top_p
        remove[1:] = remove[:-1].clone()
        remove[0] = False
        out[index[remove]] = -float("inf")
    return out


def decode_tokens(
    scorer: PrefixScorer,
    prompts: Sequence[Sequence[int]],
    generators: Sequence[torch.Generator | None],
    *,
    temperature: float,
    max_new_tokens: int,
    stops: frozenset[int],
    top_k: int | None = None,
    top_p: float | None = None,
    repeats: int = 1,
) -> list[list[int]]:
    """Generate up to ``max_new_tokens`` tokens for each prompt, ``repeats`` rows per
    prompt (one per seed: the prompt is computed once), batched; greedy where
    ``temperature`` is 0. ``generators`` has one entry per row, prompt-major. Returns
    each row's tokens before the first stop token."""
    for prompt in prompts:
        scorer.check_window(len(prompt) + max_new_tokens)
    state = scorer.prefill(prompts, repeats)
    rows = len(prompts) * repeats
    if len(generators) != rows:
        raise ValueError(f"{rows} rows need {rows} generators, not {len(generators)}")
    out: list[list[int]] = [[] for _ in range(rows)]
    done = [False] * rows
    for step in range(max_new_tokens):
        next_tokens = torch.empty(rows, dtype=torch.long)
        logprobs = state.last_logprobs.float().cpu()  # sampling generators live on the CPU
        for row in range(rows):
            lp = logprobs[row]
            if temperature == 0:
                token = int(torch.argmax(lp))
            else:
                filtered = filter_logits(lp / temperature, top_k, top_p)
                probs = torch.softmax(filtered, dim=-1)
                token = int(torch.multinomial(probs, 1, generator=generators[row]))
            next_tokens[row] = token
            if not done[row]:
                if token in stops:
                    done[row] = True
                else:
                    out[row].append(token)
        if all(done) or step == max_new_tokens - 1:
            break
        state = scorer.step(state, next_tokens)
    return out


def generate_answers(
    ctx: ModeContext,
    scorer: PrefixScorer,
    items: Sequence[BBQItem],
    variants: Sequence[Sequence[Variant]],
) -> list[Answer]:
    """Answers of a batch in ``generate`` mode: the texts decoded here, or written by a
    server where the scorer has ``generate_texts`` (``runtime: openai``), read alike."""
    spec = ctx.scoring.generate
    seeds = list(spec.seeds)
    greedy = spec.temperature == 0
    per_item = 1 if greedy else len(seeds)
    prompts = [item_variants[0].ids for item_variants in variants]
    served = getattr(scorer, "generate_texts", None)
    if served is not None:
        texts: list[str] = served(ctx, items, prompts, per_item)
    else:
        texts = _decoded_texts(ctx, scorer, items, prompts, per_item)
    answers = []
    for i, item in enumerate(items):
        item_texts = texts[i * per_item : (i + 1) * per_item]
        if greedy:
            item_texts = item_texts * len(seeds)
        shown = [item.answers[j] for j in IDENTITY]
        positions = [ctx.parse_answer(text, shown) for text in item_texts]
        choices = [IDENTITY[p] if p is not None else None for p in positions]
        answers.append(
            Answer(
                key=item.key,
                choice=majority(choices),
                probs=seed_shares(choices),
                position_votes=tuple(p for p in positions if p is not None),
                seed_choices=tuple(choices),
                raw=item_texts[0],
                texts=tuple(item_texts),
                mode="generate",
            )
        )
    return answers


def sampling_seed(seed: int, key: str) -> int:
    """The seed of one (seed, item), as a server's ``seed`` parameter takes it."""
    return int(fingerprint("generate", seed, key), 16) % (2**31)


def _decoded_texts(
    ctx: ModeContext,
    scorer: PrefixScorer,
    items: Sequence[BBQItem],
    prompts: Sequence[Sequence[int]],
    per_item: int,
) -> list[str]:
    """Each item's ``per_item`` generated texts, decoded in process (prompt-major)."""
    spec = ctx.scoring.generate
    model = scorer.model
    seeds = list(spec.seeds)
    generators: list[torch.Generator | None] = [
        None if spec.temperature == 0 else seed_generator(seeds[s], item.key)
        for item in items
        for s in range(per_item)
    ]
    config = model.generation_config
    # Decoding holds each item's prompt once and each seed's new tokens: that is kept
    # within the scorer's token budget (at least one item at a time).
    held = max(len(p) for p in prompts) + per_item * spec.max_new_tokens
    step = max(1, scorer.max_batch_tokens // held)
    tokens: list[list[int]] = []
    for start in range(0, len(prompts), step):
        tokens += decode_tokens(
            scorer,
            prompts[start : start + step],
            generators[start * per_item : (start + step) * per_item],
            temperature=spec.temperature,
            max_new_tokens=spec.max_new_tokens,
            stops=stop_ids(model, ctx.tokenizer),
            top_k=getattr(config, "top_k", 50),
            top_p=getattr(config, "top_p", None),
            repeats=per_item,
        )
    return [ctx.tokenizer.decode(t, skip_special_tokens=True) for t in tokens]
