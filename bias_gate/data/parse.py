"""Read the chosen option out of a generated answer, or say that it cannot be read.

Accepted forms (case of the letter must be upper, as the prompt shows it):
``"B"``, ``"(B)"``, ``"B."``, ``"B)"``, ``"B: text"``, ``"Answer: B"``,
``"The answer is B"``, ``"The correct answer is (B)"``, ``"Option B"``, and the text of
one option (``"The grandson"``; also a prefix of it cut off by the token limit, when it
is long enough and fits only that option). Anything else, or text that names two
different options, is unparseable: :func:`parse_answer` returns ``None`` and the caller
counts it. Nothing is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bias_gate.data.items import LETTERS

_LEAD = re.compile(
    r"^\s*(?:(?:the\s+)?(?:correct\s+|right\s+|best\s+)?answer\s*(?:is|would\s+be)?\s*[:\-]?\s*"
    r"|option\s+|choice\s+)?",
    re.IGNORECASE,
)
# A letter standing alone: "B", "(B)", "[B]", "B.", "B)", "B:", "B," then end or space.
_LETTER = re.compile(r"^\(?\[?\s*([ABC])\s*[\)\]]?\s*(?:[.:,)]|$|\s*\n|\s+(?=\S))")
_ANSWER_IS = re.compile(
    r"\b(?:answer|option|choice)\s*(?:is|would\s+be)?\s*[:\-]?\s*\(?([ABC])\)?(?![A-Za-z])",
    re.IGNORECASE,
)
_NORMALIZE = re.compile(r"[^a-z0-9]+")

#: A cut-off answer text must have at least this many characters to be matched by prefix.
MIN_PREFIX_CHARS = 4


def _normalize(text: str) -> str:
    return _NORMALIZE.sub(" ", text.lower()).strip()


def _letter_position(text: str) -> int | None:
    rest = _LEAD.sub("", text, count=1)
    match = _LETTER.match(rest)
    if match is not None:
        after = rest[match.end() :]
        # "A grandson ..." is the article, not option A: a bare capital followed by a
        # lowercase word is not a letter answer.
        if not (re.match(r"^\s*[a-z]", after) and not re.match(r"^\(?\[?[ABC][\)\].:,]", rest)):
            return LETTERS.index(match.group(1))
    match = _ANSWER_IS.search(text)
    if match is not None:
        return LETTERS.index(match.group(1).upper()) if match.group(1).isupper() else None
    return None


def _text_position(text: str, shown: Sequence[str]) -> int | None:
    said = _normalize(_LEAD.sub("", text, count=1))
    options = [_normalize(option) for option in shown]
    if not said:
        return None
    exact = [i for i, option in enumerate(options) if option and said == option]
    if len(exact) == 1:
        return exact[0]
    starts = [i for i, option in enumerate(options) if option and said.startswith(option)]
    if len(starts) == 1:
        return starts[0]
    if len(starts) > 1:
        longest = max(starts, key=lambda i: len(options[i]))
        if all(options[longest].startswith(options[i]) for i in starts):
            return longest
        return None
    if len(said) >= MIN_PREFIX_CHARS:
        cut = [i for i, option in enumerate(options) if option.startswith(said)]
        if len(cut) == 1:
            return cut[0]
    return None


def parse_answer(text: str, shown: Sequence[str]) -> int | None:
    """The display position (0 = A) of the option ``text`` names, or ``None``.

    ``shown``: the three option texts in the order the prompt showed them. A letter form
    wins over the option text; when both are present and disagree the answer is
    unparseable.
    """
    first_line = text.strip()
    if not first_line:
        return None
    by_letter = _letter_position(first_line)
    # "B. The grandson": the text after the letter must not name another option.
    if by_letter is not None:
        rest = re.sub(r"^\W*[ABC]\W+", "", _LEAD.sub("", first_line, count=1), count=1)
        by_text = _text_position(rest, shown) if rest and rest != first_line else None
        if by_text is not None and by_text != by_letter:
            return None
        return by_letter
    return _text_position(first_line, shown)
