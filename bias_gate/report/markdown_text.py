"""Markdown text made safe: a table cell or sentence (:func:`cell`), an inline code span
(:func:`code`), and the verdict icons every markdown report shares."""

from __future__ import annotations

import re

from bias_gate.report.safe_text import one_line

ICONS: dict[str, str] = {"pass": "✅ pass", "fail": "❌ fail", "warn": "⚠️ warn"}


#: What a markdown cell or sentence escapes so data opens no table column, code span,
#: HTML tag or comment: ``\\``, ``|`` and backticks backslash-escaped, ``<`` as an entity
#: (``>`` and ``&`` cannot start markup; emphasis and link brackets cannot add a line, a
#: column or hide text, and GitHub links bare URLs anyway).
_MARKDOWN_ESCAPES = {"<": "&lt;"} | {char: "\\" + char for char in "\\|`"}
_MARKDOWN_SPECIAL = re.compile("[" + re.escape("".join(_MARKDOWN_ESCAPES)) + "]")


def cell(text: str) -> str:
    """``text`` made safe for one markdown table cell or sentence: one line, controls
    removed, HTML and markdown punctuation escaped (it renders as written)."""
    return _MARKDOWN_SPECIAL.sub(lambda m: _MARKDOWN_ESCAPES[m.group()], one_line(text))


def code(text: str) -> str:
    """``text`` as one inline code span, whatever backticks it holds."""
    text = one_line(text)
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def status_icon(status: str | None) -> str:
    """The icon and word of a verdict (``–`` for none)."""
    return ICONS.get(status or "", "–")
