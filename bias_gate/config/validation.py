"""Pydantic validation errors as one usage line: file, line, key, and what to do.

Every schema bias-gate validates (model.yaml, a compression method's options, a
threshold profile and its overrides) reports its problems through
:func:`validation_error`, so the same mistake reads the same wherever it is made. All the
problems pydantic found are reported at once, one line each (:class:`ConfigErrors`), so
three typos take one run to see, not three.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bias_gate.config.yaml_source import Loc, YamlDocument
from bias_gate.errors import ConfigError

#: Parts of pydantic's error locations that name its machinery, not a key.
_MACHINERY = ("function-after", "function-before")


def dotted(loc: Loc) -> str:
    """``("compressions", 1, "sparsity")`` -> ``compressions[1].sparsity``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


class ConfigErrors(ConfigError):
    """Several problems of one file: the first is this error's own message, file, line
    and key (what a caller reading one error sees); rendered one line per problem."""

    def __init__(self, errors: Sequence[ConfigError]):
        first = errors[0]
        super().__init__(first.message, first.file, first.line, first.key)
        self.errors = list(errors)

    def __str__(self) -> str:
        return "\n".join(ConfigError.__str__(error) for error in self.errors)


def combined(errors: Sequence[ConfigError]) -> ConfigError:
    """One error for ``errors`` (each of them flattened): itself when there is one."""
    flat = [e for error in errors for e in getattr(error, "errors", [error])]
    return flat[0] if len(flat) == 1 else ConfigErrors(flat)


def validation_error(
    exc: ValidationError,
    doc: YamlDocument | None,
    model: type[BaseModel] | None,
    prefix: Loc = (),
    *,
    hidden: Collection[str] = (),
    file: Path | None = None,
) -> ConfigError:
    """The :class:`ConfigError` of ``exc``'s problems (:class:`ConfigErrors` for several).

    ``model``: the schema that was validated (to list the keys allowed where an unknown
    one was given); ``prefix``: where that schema's value sits in ``doc`` (the file the
    line is looked up in); ``hidden``: location parts the schema nests that users do not
    write (``options``, under which a compression's flat method keys are kept); ``file``:
    the file to name when there is no ``doc``."""
    return combined([_one(error, doc, model, prefix, hidden, file) for error in exc.errors()])


def _one(
    error: Any,
    doc: YamlDocument | None,
    model: type[BaseModel] | None,
    prefix: Loc,
    hidden: Collection[str],
    file: Path | None,
) -> ConfigError:
    own: Loc = tuple(
        part
        for part in error["loc"]
        if part not in _MACHINERY and not (isinstance(part, str) and part[:1] == "_")
    )
    loc: Loc = (*prefix, *(part for part in own if part not in hidden))
    return ConfigError(
        _message(error, model, own),
        file=doc.path if doc is not None else file,
        line=doc.line_of(loc) if doc is not None else None,
        key=dotted(loc) or None,
    )


def _message(error: Any, model: type[BaseModel] | None, loc: Loc) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = ", ".join(_allowed_keys(model, loc)) if model is not None else ""
        return f"unknown key; allowed keys here: {allowed}" if allowed else "unknown key"
    if kind == "missing":
        return "required key is missing; add it"
    return str(error["msg"]).removeprefix("Value error, ")


def _allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names of the pydantic model that ``loc``'s parent lives in."""
    current: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if current is None or not hasattr(current, "model_fields"):
            return []
        field = current.model_fields.get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
    if current is None or not hasattr(current, "model_fields"):
        return []
    return [f.alias or name for name, f in current.model_fields.items() if not f.exclude]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None
