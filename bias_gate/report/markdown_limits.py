"""The markdown summary within GitHub's step-summary limit: cut at whole lines, with its
open code fence and ``<details>`` blocks closed, and appended to
``$GITHUB_STEP_SUMMARY`` in Actions."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bias_gate.report.trend import Trend
    from bias_gate.results import GateResults

#: GitHub refuses step summaries over 1 MiB; what we append stays below this many bytes.
STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024 - 1024


def truncate_markdown(text: str, limit_bytes: int) -> str:
    """``text`` if its UTF-8 form fits in ``limit_bytes``, else its first whole lines plus a
    note saying it was cut; the result's UTF-8 form never exceeds ``limit_bytes``."""
    data = text.encode("utf-8")
    if len(data) <= limit_bytes:
        return text
    note = (
        f"\n\n> Summary truncated to fit GitHub's step-summary limit ({len(data)} bytes "
        "in all); the full report is in the uploaded artifacts.\n"
    )
    budget = max(0, limit_bytes - len(note.encode("utf-8")))
    kept = data[:budget].decode("utf-8", errors="ignore")
    lines = kept.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines.pop()  # a partial line
    while True:
        text_kept = "".join(lines)
        candidate = text_kept + _closers(text_kept) + note
        if len(candidate.encode("utf-8")) <= limit_bytes or not lines:
            return candidate if lines else note.lstrip("\n")
        lines.pop()


def _closers(text: str) -> str:
    """What closes the code fence and the ``<details>`` blocks ``text`` leaves open."""
    fence: str | None = None
    open_details = 0
    for line in text.splitlines():
        stripped = line.strip()
        if fence is not None:
            if stripped == fence:
                fence = None
            continue
        if stripped.startswith("```"):
            fence = stripped[: len(stripped) - len(stripped.lstrip("`"))]
            continue
        open_details += line.count("<details>") - line.count("</details>")
    closing = "" if fence is None else f"{fence}\n"
    return closing + "\n</details>\n" * max(0, open_details)


def write_step_summary(
    results: GateResults, env: Mapping[str, str] = os.environ, trend: Trend | None = None
) -> Path | None:
    """When ``GITHUB_ACTIONS == "true"``, append the summary to ``$GITHUB_STEP_SUMMARY``,
    keeping the file under 1 MiB; returns the file written, or None when not in Actions."""
    if env.get("GITHUB_ACTIONS") != "true" or not env.get("GITHUB_STEP_SUMMARY"):
        return None
    path = Path(env["GITHUB_STEP_SUMMARY"])
    existing = path.stat().st_size if path.exists() else 0
    budget = max(0, STEP_SUMMARY_LIMIT_BYTES - existing)
    from bias_gate.report.markdown import render_markdown

    text = truncate_markdown(render_markdown(results, trend), budget)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)
    return path
