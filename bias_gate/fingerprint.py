"""Fingerprints: stable hashes of everything that determines a cached result.

A cache key that forgets an input returns a stale answer that looks valid, so every
cached value (dense answers, compressed weights, baselines) is keyed by
:func:`fingerprint` over all of its inputs, library versions included.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def canonical_json(obj: Any) -> str:
    """JSON with sorted keys and no whitespace: equal values give equal text."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_default)


def _default(obj: Any) -> Any:
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"cannot fingerprint {type(obj).__name__}")


def fingerprint(*parts: Any, length: int = 16) -> str:
    """The first ``length`` hex digits of the SHA-256 of the canonical JSON of ``parts``."""
    return hashlib.sha256(canonical_json(list(parts)).encode()).hexdigest()[:length]


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (full hex)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def library_versions(names: Iterable[str] = ("torch", "transformers", "bias-gate")) -> dict:
    """Installed versions of the libraries whose behaviour changes results."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions
