"""Compression methods by name.

Built-in and third-party methods are registered the same way: as entry points in the
group ``bias_gate.compressors`` (name -> ``module:Class``), loaded only when a config
asks for that name. Tests and scripts may also call :func:`register` directly.
"""

from __future__ import annotations

from importlib import import_module, metadata
from typing import Any

ENTRY_POINT_GROUP = "bias_gate.compressors"

_registered: dict[str, Any] = {}


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def register(name: str, compressor: Any) -> None:
    """Register ``compressor`` (a class with ``Options`` and ``compress``) as ``name``."""
    _registered[name] = compressor


def unregister(name: str) -> None:
    _registered.pop(name, None)


def available() -> list[str]:
    """Every method name a config may use, sorted."""
    return sorted(set(_registered) | set(_entry_points()))


def get(name: str) -> Any:
    """The compressor class registered as ``name``; ``KeyError`` if none is."""
    if name in _registered:
        return _registered[name]
    entry = _entry_points().get(name)
    if entry is None:
        raise KeyError(name)
    module_name, _, attr = entry.value.partition(":")
    compressor = getattr(import_module(module_name), attr)
    _registered[name] = compressor
    return compressor
