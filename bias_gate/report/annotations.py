"""GitHub Actions annotations for failing (error) and warning configs.

Each line is a workflow command, ``::error file=<model.yaml>,line=N,title=...::message``,
escaped per GitHub's rules: in the message ``%`` -> ``%25``, CR -> ``%0D``, LF -> ``%0A``;
in property values additionally ``:`` -> ``%3A`` and ``,`` -> ``%2C``.

GitHub shows at most 10 error and 10 warning annotations per step, so at most
:data:`MAX_ANNOTATIONS` lines of each level are emitted: when more configs qualify, the
first ``MAX_ANNOTATIONS - 1`` get their own line and one summary line says how many more.
Configs with the smart-pruning paradox come first, so they are never the ones cut.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from bias_gate.report.reasons import item_reason
from bias_gate.report.run_view import config_path
from bias_gate.report.safe_text import (
    escape_data,
    escape_property,
    workflow_command,
    write_commands,
)
from bias_gate.report.summary import (
    PARADOX_NAME,
    config_status,
    fmt,
    fmt_p,
    fmt_ratio,
    incomplete_text,
    is_paradox,
    missing_shards,
)
from bias_gate.results import ConfigResult, GateResults

__all__ = ["escape_data", "escape_property"]  # re-exported: their home is safe_text

MAX_ANNOTATIONS = 10


def command(level: str, message: str, *, file: str | None, line: int | None, title: str) -> str:
    """One ``::level file=..,line=..,title=..::message`` line, every part escaped
    (:func:`bias_gate.report.safe_text.workflow_command`)."""
    props: list[tuple[str, str]] = []
    if file:
        props.append(("file", file))
        if line is not None:
            props.append(("line", str(line)))
    props.append(("title", title))
    return workflow_command(level, message, props)


def _config_message(config: ConfigResult) -> str:
    parts = []
    if config.perplexity_verdict in ("fail", "warn"):
        reasons = "; ".join(config.perplexity_reasons)
        parts.append(
            f"perplexity {config.perplexity_verdict} (ratio {fmt_ratio(config.perplexity_ratio)})"
            + (f": {reasons}" if reasons else "")
        )
    for item in config.items:
        if item.verdict == "pass":
            continue
        reason = item_reason(item)
        why = f" ({reason})" if reason else ""
        text = (
            f"{item.category} {item.verdict}{why}: Cohen's h {fmt(item.cohens_h)}, "
            f"adjusted p {fmt_p(item.p_adjusted)}, n={item.n}"
        )
        if item.reasons:
            text += f" ({'; '.join(item.reasons)})"
        if is_paradox(config, item):
            text += (
                f". {PARADOX_NAME}: perplexity passed (ratio {fmt_ratio(config.perplexity_ratio)})"
            )
        parts.append(text)
    return "\n".join(parts)


def _relative(path: str | None, env: Mapping[str, str]) -> str | None:
    """``path`` relative to ``$GITHUB_WORKSPACE`` when inside it (GitHub wants repo paths)."""
    if path is None:
        return None
    workspace = env.get("GITHUB_WORKSPACE")
    if workspace and Path(path).is_absolute():
        try:
            return Path(path).relative_to(workspace).as_posix()
        except ValueError:
            return path
    return path


def _has_paradox(config: ConfigResult) -> bool:
    return any(is_paradox(config, item) for item in config.items)


def annotation_lines(results: GateResults, env: Mapping[str, str] = os.environ) -> list[str]:
    """The annotation lines (see the module doc): errors first, the configs with the
    smart-pruning paradox first among them, then the other failing configs, then the
    missing shards of an incomplete merge; then the warnings. At most
    :data:`MAX_ANNOTATIONS` of each level."""
    file = _relative(config_path(results), env)
    out: list[str] = []
    for level, status in (("error", "fail"), ("warning", "warn")):
        configs = [c for c in results.configs if config_status(c) == status]
        configs.sort(key=lambda c: not _has_paradox(c))  # stable: model.yaml order otherwise
        fixed: list[str] = []
        if level == "error" and missing_shards(results):
            title = "bias-gate INCOMPLETE: missing shards"
            text = incomplete_text(results)
            fixed.append(command("error", text, file=file, line=None, title=title))
        room = MAX_ANNOTATIONS - len(fixed)
        shown = configs if len(configs) <= room else configs[: room - 1]
        for config in shown:
            paradox = _has_paradox(config)
            title = f"bias-gate {status}: {config.name}" + (f" ({PARADOX_NAME})" if paradox else "")
            out.append(
                command(level, _config_message(config), file=file, line=config.line, title=title)
            )
        hidden = len(configs) - len(shown)
        if hidden:
            out.append(
                command(
                    level,
                    f"{hidden} more configs with verdict {status}; see the step summary "
                    "or the bias-gate report artifacts",
                    file=file,
                    line=None,
                    title=f"bias-gate: {hidden} more {status}",
                )
            )
        out.extend(fixed)
    return out


def print_annotations(
    results: GateResults, env: Mapping[str, str] = os.environ, stream: TextIO | None = None
) -> int:
    """Print the annotations when ``GITHUB_ACTIONS == "true"``; returns how many were printed."""
    if env.get("GITHUB_ACTIONS") != "true":
        return 0
    lines = annotation_lines(results, env)
    write_commands(lines, stream if stream is not None else sys.stdout)
    return len(lines)
