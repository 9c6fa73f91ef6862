"""Errors a user can act on: each renders as one line naming file, line, key and fix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(eq=False)  # exceptions must stay hashable (tracebacks keep them in sets)
class BiasGateError(Exception):
    """A problem with the user's input, rendered as a single actionable line.

    ``file`` and ``line`` point at where the problem is (``line`` is 1-based, or
    ``None`` when unknown); ``key`` is the dotted path of the offending setting
    (``compressions[1].sparsity``); ``message`` says what is wrong and what is allowed.
    """

    message: str
    file: str | Path | None = None
    line: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = str(self.file)
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{key}{self.message}".replace("\n", " ")


class ConfigError(BiasGateError):
    """model.yaml or a threshold profile is invalid."""


class DataError(BiasGateError):
    """BBQ or text data is missing or malformed."""


class ModelLoadError(BiasGateError):
    """The model named in the config cannot be loaded."""


class BaselineError(BiasGateError):
    """A stored dense baseline does not match the current run."""
