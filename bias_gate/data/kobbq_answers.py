"""Reading a generated Korean answer the way KoBBQ's authors read it.

The rules of naver-ai/KoBBQ ``evaluation/3_postprocess_predictions.py``
(``raw2prediction``, lines 26-88; docs/kobbq.md lists them line by line), re-implemented:
an answer becomes a letter A/B/C or stays *out of choice* (its text kept). Then, as
``4_predictions_to_evaluation.py`` and ``5_evaluation.py`` do, a letter stands for the
option shown at it, and an out-of-choice text counts as an option only if it is exactly
that option's text. :func:`parse_answer` is the benchmark's ``parse_answer``: the
display position, or ``None`` for out of choice. This module imports no torch.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

LETTERS = ("A", "B", "C")

# The head of an answer: leading space and one "(" skipped, up to the first "." or
# newline (3_postprocess_predictions.py line 28).
_HEAD = re.compile(r"^\s*\(?([^.\n]*)")
# After a leading letter: the text after its first ":" or ")" (line 38).
_AFTER_MARK = re.compile(r"[:)]\s*(.*)")
# Where else an answer may be, tried in this order on the whole text (lines 61, 67, 73).
_NESTED = (
    re.compile(r"\*\*['\"]?([^.\n*'\"]*)"),  # **bold**
    re.compile(r"답변?[은:]\s*['\"]?([^.\n*'\"]*)"),  # 답은 / 답: / 답변은 / 답변:
    re.compile(r"['\"]([^.\n*'\"]*)"),  # 'quoted' or "quoted"
)


def _leading_letter(head: str, options: dict[str, str]) -> str | None:
    """Lines 36-54: a head that starts with A/B/C (any case). The letter, the head itself
    (out of choice: it names more than one option), or ``None`` (read on)."""
    upper = head.upper()
    letter = upper[0]
    mark = _AFTER_MARK.search(upper)
    said = mark.group(1).strip() if mark is not None else ""
    if said:
        if options[letter] == said.lower():
            return letter
        named = sum(upper.count(text.upper()) for text in options.values())
        return head if named > 1 else letter
    letters = sum(upper.count(x) for x in LETTERS)
    return letter if letters == 1 else None


def read_answer(raw: str, shown: Sequence[str]) -> str:
    """``"A"``, ``"B"`` or ``"C"`` (the option shown at that letter), or the
    out-of-choice text, for a generated ``raw`` answer to options ``shown``."""
    options = {letter: text.lower() for letter, text in zip(LETTERS, shown, strict=True)}
    match = _HEAD.match(raw)
    head = match.group(1) if match is not None else ""
    head = head.replace("없습니다", "없음").replace("입니다", "")
    if head and head.upper()[0] in options:
        read = _leading_letter(head, options)
        if read is not None:
            return read
    if head.lower() in options.values():
        return next(x for x, text in options.items() if text == head.lower())
    for pattern in _NESTED:
        nested = pattern.search(raw)
        if nested is not None:
            return read_answer(nested.group(1), shown)
    upper = raw.upper()
    marked = [x for x in LETTERS if re.search(f"{x}[:)]", upper)]
    return marked[0] if len(marked) == 1 else raw


def parse_answer(text: str, shown: Sequence[str]) -> int | None:
    """The display position ``text`` names under the authors' rules, or ``None`` when
    it is out of choice."""
    read = read_answer(text, shown)
    if read in LETTERS:
        return LETTERS.index(read)
    return shown.index(read) if read in shown else None
