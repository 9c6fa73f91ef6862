"""Compression methods by name, and a compression config resolved to its method.

The methods are the registry :data:`bias_gate.registry.COMPRESSORS` (entry point
group ``bias_gate.compressors``), of the same shape as every other extension: loaded
only when a config asks for that name, checked against
:class:`bias_gate.compress.base.Compressor` when registered or loaded. The functions
here are that registry's, under the names scripts and plug-ins have called.
:func:`resolve_method` validates a compression config's options with its method, once,
when model.yaml is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from bias_gate.compress.base import CONFIG_DIR
from bias_gate.config.schema import CompressionSpec
from bias_gate.config.validation import dotted, validation_error
from bias_gate.config.yaml_source import Loc, YamlDocument
from bias_gate.errors import BiasGateError, ConfigError
from bias_gate.registry import COMPRESSORS, UnknownName

if TYPE_CHECKING:
    from bias_gate.compress.base import Compressor, CompressorOptions

ENTRY_POINT_GROUP = COMPRESSORS.group


def register(name: str, compressor: Any) -> None:
    """Register ``compressor`` (a class with ``Options`` and ``compress``) as ``name``."""
    COMPRESSORS.register(name, compressor)


def unregister(name: str) -> None:
    COMPRESSORS.unregister(name)


def available() -> list[str]:
    """Every method name a config may use, sorted."""
    return COMPRESSORS.available()


def get(name: str) -> Any:
    """The compressor class registered as ``name``; a ``KeyError`` (listing the names
    there are) if none is."""
    return COMPRESSORS.get(name)


@dataclass(frozen=True)
class CompressionMethod:
    """One compression config resolved once: its ``spec`` (options as validated, defaults
    filled in), its ``compressor`` (an instance) and its typed ``options``. What the
    compression step and the cache keys use; nothing validates the options again."""

    spec: CompressionSpec
    compressor: Compressor
    options: CompressorOptions


def resolve_method(
    spec: CompressionSpec, doc: YamlDocument | None = None, loc: Loc | None = None
) -> CompressionMethod:
    """``spec``'s method and its options validated by the method's ``Options``. A bad
    method or option is a :class:`ConfigError` at ``loc`` in ``doc`` (model.yaml's
    ``compressions[i]``), or keyed by the config's name when there is no file."""
    where: Loc = loc if loc is not None else (spec.name,)
    method_loc: Loc = (*where, "method")
    try:
        compressor_class = COMPRESSORS.get(spec.method)
    except (UnknownName, BiasGateError) as exc:
        raise ConfigError(
            str(exc) if isinstance(exc, UnknownName) else exc.message,
            file=doc.path if doc is not None else None,
            line=doc.line_of(method_loc) if doc is not None else None,
            key=dotted(method_loc),
        ) from None
    try:
        options = compressor_class.Options.model_validate(
            spec.options, context={CONFIG_DIR: doc.path.parent} if doc is not None else None
        )
    except ValidationError as exc:
        raise validation_error(exc, doc, compressor_class.Options, where) from None
    checked = spec.model_copy(update={"options": options.model_dump(mode="json")})
    return CompressionMethod(spec=checked, compressor=compressor_class(), options=options)
