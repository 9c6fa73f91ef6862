"""The batched, prefix-cached scorer agrees with a plain unbatched forward pass."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from bias_gate.answer.context import ModeContext
from bias_gate.answer.engine import answer_items, run_prefix
from bias_gate.answer.generate import decode_tokens, stop_ids
from bias_gate.answer.modes import MODES, letter_position_probs, to_original_order
from bias_gate.answer.prompts import encode, prompt_text, rotations
from bias_gate.answer.reference import reference_score
from bias_gate.answer.scorer import PrefixScorer
from bias_gate.answer.variants import Variant
from bias_gate.config.schema import GenerateSpec, PromptSpec, ScoringSpec
from bias_gate.data.bbq import parse_lines
from bias_gate.errors import ConfigError

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


def _record_passes(scorer: PrefixScorer) -> tuple[list[dict], Any]:
    calls: list[dict] = []
    hook = scorer.decoder.register_forward_hook(
        lambda m, a, kw, out: calls.append(kw), with_kwargs=True
    )
    return calls, hook


def test_shared_tokens_are_computed_once(tiny_llama, items):
    """The run prefix is the chat system turn; after it, one packed pass holds each
    item's context and question once, whatever the number of rotations."""
    tok = tiny_llama.tokenizer
    ctx = ModeContext(tokenizer=tok, scoring=ScoringSpec())
    variants = [MODES["permuted"].variants(ctx, item) for item in items]
    prefix = run_prefix(variants)
    system_turn = encode(tok, "<|im_start|>system\n" + PromptSpec().system)
    assert list(prefix[: len(system_turn)]) == system_turn
    # One row wide enough for all three items, so the pass holds no padding.
    scorer = PrefixScorer(tiny_llama.model, prefix, row_tokens=4096, max_batch_tokens=4096)
    calls, hook = _record_passes(scorer)
    try:
        scorer.score(variants[:3], ctx.read_ids)
    finally:
        hook.remove()
    (call,) = calls
    sent = call["input_ids"].numel()
    one_each = sum(len(v[0].ids) - len(prefix) for v in variants[:3])
    all_three = sum(len(x.ids) - len(prefix) for v in variants[:3] for x in v)
    # Each item costs one prompt plus two extra option tails, far less than 3 prompts.
    assert one_each < sent < 0.6 * all_three
    # The context is not repeated: it appears once in the packed row.
    context = encode(tok, " " + items[0].context)[2:12]
    row = call["input_ids"][0].tolist()
    hits = [i for i in range(len(row)) if row[i : i + len(context)] == context]
    assert len(hits) == 1


def test_items_sharing_a_context_share_its_tokens(tiny_llama, bbq_dir):
    """BBQ's four items of one context (ambiguous/disambiguated x negative/non-negative
    question) pack into one row holding the ambiguous context once."""
    lines = (bbq_dir / "Age.jsonl").read_text(encoding="utf-8").splitlines()
    parsed = parse_lines(lines[:200], "Age.jsonl")
    first = parsed[0]
    family = [
        i
        for i in parsed
        if i.question_index == first.question_index
        and i.context.startswith(first.context.split(".")[0])
    ][:4]
    assert {(i.context_condition, i.question_polarity) for i in family} == {
        ("ambig", "neg"),
        ("ambig", "nonneg"),
        ("disambig", "neg"),
        ("disambig", "nonneg"),
    }
    tok = tiny_llama.tokenizer
    scoring = ScoringSpec(mode="letter")
    ctx = ModeContext(tokenizer=tok, scoring=scoring)
    variants = [MODES["letter"].variants(ctx, item) for item in family]
    # The run's prefix as in a run over several contexts: the system turn, no context.
    other = MODES["letter"].variants(ctx, parsed[-1])
    prefix = run_prefix([*variants, other])
    assert len(prefix) < len(run_prefix(variants))
    scorer = PrefixScorer(tiny_llama.model, prefix)
    calls, hook = _record_passes(scorer)
    try:
        scores = scorer.score(variants, ctx.read_ids)
    finally:
        hook.remove()
    (call,) = calls
    assert call["input_ids"].shape[0] == 1
    separate = sum(len(v[0].ids) - len(prefix) for v in variants)
    ambiguous = min(len(encode(tok, i.context)) for i in family)
    assert call["input_ids"].shape[1] <= separate - 3 * (ambiguous - 2)
    for group, got in zip(variants, scores, strict=True):
        ref = reference_score(tiny_llama.model, group[0], ctx.read_ids)
        assert float((got[0].next_logprobs - ref.next_logprobs).abs().max()) < TOLERANCE


@pytest.mark.parametrize("budget", [16, 200, 100000])
def test_token_budget_bounds_every_pass_and_changes_no_score(tiny_llama, items, budget):
    scoring = ScoringSpec(mode="continuation", max_batch_tokens=max(budget, 16))
    ctx = ModeContext(tokenizer=tiny_llama.tokenizer, scoring=scoring)
    variants = [MODES["continuation"].variants(ctx, item) for item in items]
    prefix = run_prefix(variants)
    scorer = PrefixScorer(tiny_llama.model, prefix, max_batch_tokens=scoring.max_batch_tokens)
    calls, hook = _record_passes(scorer)
    try:
        scores = scorer.score(variants)
    finally:
        hook.remove()
    widest_item = max(
        len({x.ids[: j + 1] for x in v for j in range(len(prefix), len(x.ids))}) for v in variants
    )
    for call in calls:
        assert call["input_ids"].numel() <= max(scoring.max_batch_tokens, widest_item)
    assert len(calls) > 1 if budget <= 200 else len(calls) == 1
    for group, got in zip(variants, scores, strict=True):
        for variant, score in zip(group, got, strict=True):
            ref = reference_score(tiny_llama.model, variant)
            assert float((score.token_logprobs - ref.token_logprobs).abs().max()) < TOLERANCE


def test_eager_attention_takes_an_additive_mask(tiny_llama, items):
    """Models on eager attention get the packed mask as 0 / dtype-min and agree too."""
    import copy

    model = copy.deepcopy(tiny_llama.model)
    model.config._attn_implementation = "eager"
    scoring = ScoringSpec(mode="permuted", batch_size=4)
    worst, compared = _max_difference(model, scoring, items, tiny_llama.tokenizer)
    assert compared > 0
    assert worst < TOLERANCE


def test_prompts_longer_than_a_sliding_window_are_refused(tiny_llama, items):
    import copy

    model = copy.deepcopy(tiny_llama.model)
    ctx = ModeContext(tokenizer=tiny_llama.tokenizer, scoring=ScoringSpec(mode="letter"))
    variants = [MODES["letter"].variants(ctx, item) for item in items[:2]]
    scorer = PrefixScorer(model, run_prefix(variants))
    model.config.sliding_window = max(len(v[0].ids) for v in variants)
    scorer.score(variants, ctx.read_ids)  # every prompt fits: fine
    model.config.sliding_window -= 1
    with pytest.raises(ConfigError, match="sliding window"):
        scorer.score(variants, ctx.read_ids)
    # Generation counts the tokens it will add.
    longest = max((v[0].ids for v in variants), key=len)
    model.config.sliding_window = len(longest) + 2
    settings = {"temperature": 0.0, "stops": frozenset()}
    decode_tokens(scorer, [longest], [None], max_new_tokens=2, **settings)
    with pytest.raises(ConfigError, match="sliding window"):
        decode_tokens(scorer, [longest], [None], max_new_tokens=3, **settings)


def test_unsupported_attention_is_refused_when_scoring(tiny_llama, items):
    ctx = ModeContext(tokenizer=tiny_llama.tokenizer, scoring=ScoringSpec(mode="letter"))
    variants = [MODES["letter"].variants(ctx, item) for item in items[:2]]
    scorer = PrefixScorer(tiny_llama.model, run_prefix(variants))
    scorer.attention = "flash_attention_2"  # as read from such a model's config
    with pytest.raises(ConfigError, match="sdpa"):
        scorer.score(variants, ctx.read_ids)


def test_without_a_run_prefix_every_token_is_packed(tiny_llama, items):
    """No shared run prefix (no cache at all): the packed rows alone agree too."""
    ctx = ModeContext(tokenizer=tiny_llama.tokenizer, scoring=ScoringSpec(mode="continuation"))
    variants = [MODES["continuation"].variants(ctx, item) for item in items[:4]]
    scorer = PrefixScorer(tiny_llama.model, (), max_batch_tokens=300)
    for group, got in zip(variants, scorer.score(variants), strict=True):
        for variant, score in zip(group, got, strict=True):
            ref = reference_score(tiny_llama.model, variant)
            assert float((score.token_logprobs - ref.token_logprobs).abs().max()) < TOLERANCE


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


def test_seeds_share_one_prefill_and_sample_as_separate_prompts(tiny_llama, items):
    """Computing a prompt once for all its seeds (``repeats``) samples exactly what
    decoding one copy of the prompt per seed samples."""
    from bias_gate.answer.generate import seed_generator

    tok = tiny_llama.tokenizer
    ctx = ModeContext(tokenizer=tok, scoring=ScoringSpec(mode="generate"))
    few = items[:3]
    prompts = [MODES["generate"].variants(ctx, item)[0].ids for item in few]
    scorer = PrefixScorer(tiny_llama.model, run_prefix([[Variant(p)] for p in prompts]))
    seeds = [0, 1, 2, 3]

    def generators():
        return [seed_generator(s, item.key) for item in few for s in seeds]

    settings = {"temperature": 0.8, "max_new_tokens": 4, "stops": stop_ids(tiny_llama.model, tok)}
    calls, hook = _record_passes(scorer)
    try:
        shared = decode_tokens(scorer, prompts, generators(), repeats=len(seeds), **settings)
    finally:
        hook.remove()
    assert calls[0]["input_ids"].shape[0] == len(few)  # one prefill row per prompt
    copied = [p for p in prompts for _ in seeds]
    separate = decode_tokens(scorer, copied, generators(), **settings)
    assert shared == separate
    assert len({tuple(t) for t in shared}) > 1
    with pytest.raises(ValueError, match="generators"):
        decode_tokens(scorer, prompts, generators()[:-1], repeats=len(seeds), **settings)
