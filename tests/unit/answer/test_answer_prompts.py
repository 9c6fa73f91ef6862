"""Prompt building: option orders, letter tokens, prefixes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bias_gate.answer.modes import letter_position_probs, to_original_order
from bias_gate.answer.prompts import (
    common_prefix_length,
    continuation_separator,
    letter_token_ids,
    prompt_text,
    rotations,
    user_message,
)
from bias_gate.answer.variants import VariantScore
from bias_gate.config.schema import PromptSpec
from bias_gate.data.bbq import parse_lines


@pytest.fixture(scope="module")
def item(bbq_dir: Path):
    lines = (bbq_dir / "Age.jsonl").read_text(encoding="utf-8").splitlines()[:1]
    return parse_lines(lines, "Age.jsonl")[0]


def test_rotations_show_every_option_at_every_letter() -> None:
    orders = rotations(3)
    assert orders == ((0, 1, 2), (1, 2, 0), (2, 0, 1))
    for position in range(3):
        assert sorted(order[position] for order in orders) == [0, 1, 2]
    assert rotations(1) == ((0, 1, 2),)
    with pytest.raises(ValueError):
        rotations(4)


def test_user_message_lists_options_in_the_given_order(item) -> None:
    text = user_message(item, PromptSpec(), (2, 0, 1))
    assert f"A. {item.answers[2]}\nB. {item.answers[0]}\nC. {item.answers[1]}" in text
    assert text.startswith(item.context)
    assert text.endswith("Answer:")


def test_chat_prompt_has_system_and_assistant_turn(item, tiny_llama) -> None:
    spec = PromptSpec(system="SYSTEM TEXT")
    text = prompt_text(item, spec, tiny_llama.tokenizer)
    assert "SYSTEM TEXT" in text
    assert text.endswith("<|im_start|>assistant\n")
    plain = prompt_text(item, PromptSpec(chat_template=False), tiny_llama.tokenizer)
    assert plain.startswith(PromptSpec().system + "\n\n")
    assert continuation_separator(PromptSpec(chat_template=False)) == " "
    assert continuation_separator(PromptSpec()) == ""


def test_letter_token_ids_cover_bare_and_space_prefixed_letters(tiny_llama) -> None:
    tok = tiny_llama.tokenizer
    ids = letter_token_ids(tok)
    for letter, letter_ids in zip("ABC", ids, strict=True):
        assert tok.encode(letter, add_special_tokens=False)[0] in letter_ids
        assert tok.encode(" " + letter, add_special_tokens=False)[0] in letter_ids
        assert len(set(letter_ids)) == 2


def test_letter_probs_sum_variants_and_map_back_to_options() -> None:
    import math

    import torch

    # A: 0.1 + 0.1, B: 0.3 + 0.0 (one variant only), C: 0.2; rest of vocab ignored.
    lp = torch.tensor([math.log(0.1), math.log(0.1), math.log(0.3), math.log(0.2)])
    score = VariantScore(lp, torch.empty(0))
    by_position = letter_position_probs(score, ((0, 1), (2,), (3,)))
    assert by_position == pytest.approx((0.2 / 0.7, 0.3 / 0.7, 0.2 / 0.7))
    # Shown order (2, 0, 1): option 2 at A, option 0 at B, option 1 at C.
    assert to_original_order((0.5, 0.3, 0.2), (2, 0, 1)) == [0.3, 0.2, 0.5]


def test_common_prefix_length() -> None:
    assert common_prefix_length([[1, 2, 3], [1, 2, 4], [1, 2]]) == 2
    assert common_prefix_length([[1, 2, 3]]) == 3
    assert common_prefix_length([[5], [6]]) == 0
    assert common_prefix_length([]) == 0
