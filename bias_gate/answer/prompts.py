"""Build the text the model reads for one BBQ item, in a given option order.

An *option order* is a tuple ``order`` of the three original option indices in the
order they are shown: ``order[position]`` is the original option printed at letter
``LETTERS[position]``. The identity order ``(0, 1, 2)`` shows the options as BBQ lists
them; :func:`rotations` gives the cyclic rotations used by the ``permuted`` mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bias_gate.config.schema import PromptSpec
from bias_gate.data.items import LETTERS as LETTERS  # re-exported: the letters shown
from bias_gate.data.items import BBQItem

Order = tuple[int, int, int]

IDENTITY: Order = (0, 1, 2)


def rotations(k: int = 3) -> tuple[Order, ...]:
    """The first ``k`` cyclic rotations of the options: ``(0,1,2), (1,2,0), (2,0,1)``.

    Over all three rotations every option is shown once at every letter, so averaging
    over them cancels any preference for a letter position.
    """
    if not 1 <= k <= 3:
        raise ValueError(f"k must be 1, 2 or 3 (got {k})")
    return tuple((r % 3, (r + 1) % 3, (r + 2) % 3) for r in range(k))  # type: ignore[misc]


def user_message(item: BBQItem, spec: PromptSpec, order: Order = IDENTITY) -> str:
    """The user message: ``spec.template`` filled with the item's context, question and
    the options in ``order``."""
    shown = [item.answers[i] for i in order]
    return spec.template.format_map(
        {
            "context": item.context,
            "question": item.question,
            "a": shown[0],
            "b": shown[1],
            "c": shown[2],
        }
    )


def prompt_text(item: BBQItem, spec: PromptSpec, tokenizer: Any, order: Order = IDENTITY) -> str:
    """The whole prompt string for ``item`` with options in ``order``.

    With ``spec.chat_template`` the tokenizer's chat template is applied (system message
    first when ``spec.system`` is set; the template may insert its own default system
    message otherwise, as SmolLM2's does) with the generation prompt, so the next token
    is the start of the assistant's answer. Without it: the system message, a blank
    line, then the user message.
    """
    if spec.chat_template:
        messages = prompt_messages(item, spec, order)
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    user = user_message(item, spec, order)
    return f"{spec.system}\n\n{user}" if spec.system else user


def prompt_messages(
    item: BBQItem, spec: PromptSpec, order: Order = IDENTITY
) -> list[dict[str, str]]:
    """The chat messages of ``item``'s prompt (system first when ``spec.system`` is set),
    what :func:`prompt_text` renders with the chat template and what a server's chat
    completions API takes."""
    messages = []
    if spec.system is not None:
        messages.append({"role": "system", "content": spec.system})
    messages.append({"role": "user", "content": user_message(item, spec, order)})
    return messages


def continuation_separator(spec: PromptSpec) -> str:
    """What goes between the prompt and an answer text in ``continuation`` mode: nothing
    after a chat template's assistant header (it ends in a newline), a space after a
    plain template (which ends in ``Answer:``)."""
    return "" if spec.chat_template else " "


def encode(tokenizer: Any, text: str) -> list[int]:
    """Token ids of ``text`` without added special tokens (a chat template already
    carries its own)."""
    return list(tokenizer.encode(text, add_special_tokens=False))


def letter_token_ids(tokenizer: Any) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """For each letter A, B, C: the ids of the single tokens that spell it, bare (``"B"``)
    and space-prefixed (``" B"``).

    After a chat template's assistant header the answer starts with a bare letter; after a
    plain ``Answer:`` it starts with a space-prefixed one; a tokenizer may have either.
    The probability of a letter is the *sum* over its variants (they are different next
    tokens with the same meaning). A variant that does not encode to exactly one token
    is left out; a letter with no single-token variant is an error.
    """
    out: list[tuple[int, ...]] = []
    for letter in LETTERS:
        ids: list[int] = []
        for text in (letter, " " + letter):
            encoded = encode(tokenizer, text)
            if len(encoded) == 1 and encoded[0] not in ids:
                ids.append(encoded[0])
        if not ids:
            raise ValueError(f"the tokenizer has no single token for the letter {letter!r}")
        out.append(tuple(ids))
    return out[0], out[1], out[2]


def common_prefix_length(sequences: Sequence[Sequence[int]]) -> int:
    """The length of the longest prefix that all ``sequences`` share (0 for none)."""
    if not sequences:
        return 0
    shortest = min(len(s) for s in sequences)
    first = sequences[0]
    for i in range(shortest):
        token = first[i]
        if any(s[i] != token for s in sequences[1:]):
            return i
    return shortest
