"""The batched, prefix-cached scorer agrees with a plain unbatched forward pass."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bias_gate.answer.context import ModeContext
from bias_gate.answer.engine import answer_items, run_prefix
from bias_gate.answer.generate import decode_tokens, stop_ids
from bias_gate.answer.modes import MODES, letter_position_probs, to_original_order
from bias_gate.answer.prompts import encode, prompt_text, rotations
from bias_gate.answer.scorer import PrefixScorer, Variant, reference_score
from bias_gate.config import GenerateSpec, PromptSpec, ScoringSpec
from bias_gate.data.bbq import parse_lines

TOLERANCE = 1e-4


def _items(bbq_dir: Path, category: str, n: int, stride: int):
    lines = (bbq_dir / f"{category}.jsonl").read_text(encoding="utf-8").splitlines()
    return parse_lines(lines[: n * stride : stride], f"{category}.jsonl")


@pytest.fixture(scope="module")
def items(bbq_dir: Path):
    """Ambiguous and disambiguated items of two categories, of varied lengths."""
    return _items(bbq_dir, "Age", 5, 41) + _items(bbq_dir, "Religion", 4, 53)


def _max_difference(model, scoring: ScoringSpec, items, tokenizer) -> tuple[float, int]:
    """Largest |batched - reference| over every log-probability the mode reads, and the
    number of values compared."""
    ctx = ModeContext(tokenizer=tokenizer, scoring=scoring)
    mode = MODES[scoring.mode]
    variants = [mode.variants(ctx, item) for item in items]
    read = () if scoring.mode == "continuation" else ctx.read_ids
    scorer = PrefixScorer(model, run_prefix(variants), pad_id=tokenizer.pad_token_id)
    worst, compared = 0.0, 0
    for start in range(0, len(items), scoring.batch_size):
        batch = variants[start : start + scoring.batch_size]
        scores = scorer.score(batch, read)
        for group, group_scores in zip(batch, scores, strict=True):
            for variant, score in zip(group, group_scores, strict=True):
                ref = reference_score(model, variant, read)
                for ours, theirs in (
                    (score.next_logprobs, ref.next_logprobs),
                    (score.token_logprobs, ref.token_logprobs),
                ):
                    assert ours.shape == theirs.shape
                    if ours.numel():
                        worst = max(worst, float((ours - theirs).abs().max()))
                        compared += ours.numel()
    return worst, compared


@pytest.mark.parametrize("mode", ["letter", "permuted", "continuation"])
@pytest.mark.parametrize(
    "prompt",
    [PromptSpec(), PromptSpec(chat_template=False), PromptSpec(system=None, chat_template=False)],
    ids=["chat", "plain", "plain-no-system"],
)
def test_scorer_matches_unbatched_reference_on_tiny_llama(tiny_llama, items, mode, prompt):
    scoring = ScoringSpec(mode=mode, batch_size=4, prompt=prompt)
    worst, compared = _max_difference(tiny_llama.model, scoring, items, tiny_llama.tokenizer)
    assert compared > 0
    assert worst < TOLERANCE


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["letter", "permuted", "continuation"])
def test_scorer_matches_unbatched_reference_on_smollm2(smollm2, bbq_dir, mode):
    few = _items(bbq_dir, "Age", 2, 97) + _items(bbq_dir, "Religion", 1, 31)
    scoring = ScoringSpec(mode=mode, batch_size=3)
    worst, compared = _max_difference(smollm2.model, scoring, few, smollm2.tokenizer)
    assert compared > 0
    assert worst < TOLERANCE


def test_prefix_cache_is_really_shared(tiny_llama, items):
    """The run prefix is the chat system turn, and permuted's stems cover the context."""
    ctx = ModeContext(tokenizer=tiny_llama.tokenizer, scoring=ScoringSpec())
    variants = [MODES["permuted"].variants(ctx, item) for item in items]
    prefix = run_prefix(variants)
    system_turn = encode(tiny_llama.tokenizer, "<|im_start|>system\n" + PromptSpec().system)
    assert list(prefix[: len(system_turn)]) == system_turn
    scorer = PrefixScorer(tiny_llama.model, prefix)
    calls = []
    hook = scorer.decoder.register_forward_hook(
        lambda m, a, kw, out: calls.append(kw), with_kwargs=True
    )
    try:
        scorer.score(variants[:3], ctx.read_ids)
    finally:
        hook.remove()
    stem_call, tail_call = calls
    assert stem_call["input_ids"].shape[0] == 3 and tail_call["input_ids"].shape[0] == 9
    # The tails hold only the options and the answer cue, not the context.
    longest_context = max(len(encode(tiny_llama.tokenizer, i.context)) for i in items[:3])
    assert tail_call["input_ids"].shape[1] < longest_context
    assert stem_call["input_ids"].shape[1] >= longest_context


def test_permuted_probabilities_are_rotation_averages_in_original_order(tiny_llama, items):
    scoring = ScoringSpec(mode="permuted", batch_size=4)
    answers = answer_items(tiny_llama.model, tiny_llama.tokenizer, items, scoring)
    ctx = ModeContext(tokenizer=tiny_llama.tokenizer, scoring=scoring)
    for item in items:
        expected = [0.0, 0.0, 0.0]
        votes = []
        for order in rotations(3):
            ids = encode(
                tiny_llama.tokenizer, prompt_text(item, scoring.prompt, ctx.tokenizer, order)
            )
            ref = reference_score(tiny_llama.model, Variant(tuple(ids)), ctx.read_ids)
            by_position = letter_position_probs(ref, ctx.letter_ids)
            votes.append(max(range(3), key=lambda p: by_position[p]))
            for option, p in enumerate(to_original_order(by_position, order)):
                expected[option] += p / 3
        answer = answers[item.key]
        assert answer.probs == pytest.approx(expected, abs=1e-5)
        assert answer.choice == max(range(3), key=lambda o: expected[o])
        assert answer.position_votes == tuple(votes)
        assert sum(answer.probs) == pytest.approx(1.0)


def test_permuted_answers_follow_the_options_when_they_are_rotated(tiny_llama, items):
    """Rotating an item's options gives the same three prompts, so the averaged
    probabilities must move with the options: a mapping error would break this."""
    import dataclasses

    scoring = ScoringSpec(mode="permuted", batch_size=8)
    shifted = []
    for item in items:
        a = item.answers
        shifted.append(
            dataclasses.replace(
                item, example_id=item.example_id + 100000, answers=(a[1], a[2], a[0])
            )
        )
    base = answer_items(tiny_llama.model, tiny_llama.tokenizer, items, scoring)
    moved = answer_items(tiny_llama.model, tiny_llama.tokenizer, shifted, scoring)
    for item, other in zip(items, shifted, strict=True):
        p, q = base[item.key].probs, moved[other.key].probs
        assert q == pytest.approx((p[1], p[2], p[0]), abs=1e-5)


@pytest.mark.parametrize("which", ["tiny_llama", pytest.param("smollm2", marks=pytest.mark.slow)])
def test_greedy_generation_matches_transformers_generate(request, which, items):
    loaded = request.getfixturevalue(which)
    model, tok = loaded.model, loaded.tokenizer
    few = items[:4] if which == "tiny_llama" else [items[0], items[-1]]
    ctx = ModeContext(tokenizer=tok, scoring=ScoringSpec(mode="generate"))
    variants = [MODES["generate"].variants(ctx, item) for item in few]
    scorer = PrefixScorer(model, run_prefix(variants), pad_id=tok.pad_token_id)
    ours = decode_tokens(
        scorer,
        [v[0].ids for v in variants],
        [None] * len(few),
        temperature=0.0,
        max_new_tokens=5,
        stops=stop_ids(model, tok),
    )
    for variant, tokens in zip(variants, ours, strict=True):
        ids = torch.tensor([variant[0].ids])
        out = model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=5,
            do_sample=False,
            pad_token_id=tok.pad_token_id,
        )[0, ids.shape[1] :].tolist()
        expected = []
        for token in out:
            if token in stop_ids(model, tok):
                break
            expected.append(token)
        assert tokens == expected


def test_sampled_generation_does_not_depend_on_batching(tiny_llama, items):
    spec = GenerateSpec(temperature=0.7, seeds=[0, 1, 2], max_new_tokens=4)
    few = items[:5]
    together = answer_items(
        tiny_llama.model,
        tiny_llama.tokenizer,
        few,
        ScoringSpec(mode="generate", batch_size=5, generate=spec),
    )
    alone = answer_items(
        tiny_llama.model,
        tiny_llama.tokenizer,
        few,
        ScoringSpec(mode="generate", batch_size=1, generate=spec),
    )
    for item in few:
        assert together[item.key].texts == alone[item.key].texts
        assert len(together[item.key].texts) == 3
    # Different seeds do sample differently (a random model at T=0.7 is near uniform).
    assert any(len(set(together[i.key].texts)) > 1 for i in few)
