"""The baseline file (``--bias-gate-baseline``): the dense model's answers and
perplexity kept in a file to commit, read instead of recomputed, and refused when it
was made for other inputs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias_gate.cache import atomic_write_json
from bias_gate.errors import BaselineError
from bias_gate.utf8 import read_utf8

if TYPE_CHECKING:
    from bias_gate.answer.types import Answer


@dataclass(frozen=True)
class BaselineFile:
    """``path``: the file (``None``: no baseline file, the answer cache serves).
    ``update``: rewrite it (``--bias-gate-update-baseline``) instead of reading it."""

    path: Path | None
    update: bool = False

    @property
    def readable(self) -> bool:
        """There is a file to read: given, present, and not being rewritten."""
        return self.path is not None and not self.update and self.path.is_file()

    def check(self, parts: Mapping[str, Any]) -> None:
        """Refuse a file made for another model, items, prompt or library: ``parts``
        is everything that determines the baseline now, by name."""
        if not self.readable:
            return
        assert self.path is not None
        stored = _read(self.path)
        made_for = stored.get("parts", {})
        differing = [k for k in {**made_for, **parts} if made_for.get(k) != parts.get(k)]
        if differing:
            raise BaselineError(
                f"baseline was made for a different {', '.join(differing)}; rerun with "
                "--bias-gate-update-baseline to rewrite it (or point --bias-gate-baseline at "
                "the right file)",
                file=self.path,
            )

    def load(self, fingerprint: str) -> tuple[dict[str, Answer], float | None] | None:
        """The stored answers by item key and perplexity, or ``None`` when there is no
        file to read; a file with another ``fingerprint`` is an error."""
        from bias_gate.answer.types import Answer

        if not self.readable:
            return None
        assert self.path is not None
        stored = _read(self.path)
        if stored.get("fingerprint") != fingerprint:
            raise BaselineError("baseline fingerprint changed during the run", file=self.path)
        answers = {a["key"]: Answer.from_json(a) for a in stored["answers"]}
        return answers, stored.get("perplexity")

    def save(
        self,
        parts: Mapping[str, Any],
        fingerprint: str,
        model_name: str,
        answers: Mapping[str, Answer],
        perplexity: float | None,
    ) -> None:
        """Write the baseline (atomically) unless there is a file to keep."""
        if self.path is None or (self.path.is_file() and not self.update):
            return
        atomic_write_json(
            self.path,
            {
                "fingerprint": fingerprint,
                "parts": dict(parts),
                "model": model_name,
                "perplexity": perplexity,
                "answers": [answers[key].to_json() for key in sorted(answers)],
            },
        )


def _read(path: Path) -> dict[str, Any]:
    """The baseline file's object; anything else (unreadable, not UTF-8, not a JSON
    object) is one :class:`BaselineError` line."""
    fix = "delete it or rerun with --bias-gate-update-baseline"
    text = read_utf8(path, BaselineError)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BaselineError(f"cannot read baseline ({exc}); {fix}", file=path) from None
    if not isinstance(data, dict):
        raise BaselineError(f"baseline is not a JSON object; {fix}", file=path)
    return data
