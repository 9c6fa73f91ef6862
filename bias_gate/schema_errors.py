"""Pydantic errors of a JSON document the gate reads (a results file, a side-file line)
as one line: the field as a path (``configs[0].items[1].cohens_h``) and what was
expected, with "or null" where the schema allows null (found from the schema itself).
model.yaml's errors have their own translation, with file lines
(:mod:`bias_gate.config.validation`)."""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from bias_gate.errors import BiasGateError


def schema_error(exc: ValidationError, root: type[BaseModel]) -> BiasGateError:
    """The one-line error of ``exc``'s first problem (``key``: the field's path)."""
    error = exc.errors()[0]
    return BiasGateError(_message(error, root), key=_path(error["loc"]))


def _own(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``loc`` without the parts that name pydantic's machinery (``function-after[...]``)."""
    return tuple(p for p in loc if isinstance(p, int) or not any(c in p for c in "[("))


def _path(loc: tuple[Any, ...]) -> str:
    """``("configs", 0, "items", 2, "cohens_h")`` -> ``configs[0].items[2].cohens_h``."""
    out = ""
    for part in _own(loc):
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _annotation(root: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    """The type the schema declares at ``loc`` (None when it cannot tell)."""
    current: Any = root
    annotation: Any = None
    for part in _own(loc):
        if isinstance(part, int):  # an element of a list or a tuple, maybe optional
            if type(None) in get_args(annotation):
                annotation = next(a for a in get_args(annotation) if a is not type(None))
            args = get_args(annotation)
            annotation = args[min(part, len(args) - 1)] if args else None
        else:
            fields = getattr(current, "model_fields", None)
            if fields is None or part not in fields:
                return None
            annotation = fields[part].annotation
        current = _model_in(annotation)
    return annotation


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


_EXPECTED: dict[str, str] = {
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}


def _message(error: Any, root: type[BaseModel]) -> str:
    kind, given = error["type"], error.get("input")
    if kind == "missing":
        return "required field is missing"
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}{_or_null(error, root)}, got {shown(given)}"
    if kind == "literal_error":
        return f"expected {error['ctx']['expected']}, got {shown(given)}"
    if kind in ("too_short", "too_long"):
        return f"{error['msg'].lower()}".replace("tuple", "list")
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return f"{str(error['msg']).lower().removeprefix('input ')}, got {shown(given)}"


def _or_null(error: Any, root: type[BaseModel]) -> str:
    return " or null" if type(None) in get_args(_annotation(root, error["loc"])) else ""


def kind(value: Any) -> str:
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return names.get(type(value), repr(value))


def shown(value: Any) -> str:
    if isinstance(value, dict | list):
        return kind(value)
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
