"""The generated-answer parser: accepted forms, and what must stay unparseable."""

from __future__ import annotations

import pytest

from bias_gate.data.parse import parse_answer

SHOWN = ("The grandfather", "The grandson", "Can't be determined")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("B", 1),
        (" B", 1),
        ("A", 0),
        ("C", 2),
        ("(B)", 1),
        ("(C) Can't be determined", 2),
        ("B.", 1),
        ("B)", 1),
        ("B:", 1),
        ("B. The grandson", 1),
        ("A. The grandfather was", 0),
        ("B\n", 1),
        ("Answer: B", 1),
        ("answer: C", 2),
        ("Answer:B", 1),
        ("The answer is B", 1),
        ("The answer is (A)", 0),
        ("The correct answer is C.", 2),
        ("Option B", 1),
        ("The grandson", 1),
        ("the grandfather.", 0),
        ("The grandson was struggling", 1),
        ("Can't be determined", 2),
        ("Can't be", 2),
        ("Answer: The grandson", 1),
        # unparseable: nothing, prose, ambiguous prefix, contradictions, the article "A"
        ("", None),
        ("   ", None),
        ("I think", None),
        ("The grand", None),
        ("A grandson", None),
        ("B. The grandfather", None),
        ("D", None),
        ("<|im_end|>", None),
        ("Sure! Let me", None),
    ],
)
def test_parse_answer(text: str, expected: int | None) -> None:
    assert parse_answer(text, SHOWN) == expected


def test_parse_answer_prefers_longest_option_when_one_contains_another() -> None:
    shown = ("The man", "The man's friend", "Unknown")
    assert parse_answer("The man's friend", shown) == 1
    assert parse_answer("The man", shown) == 0
