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


#: Digests already computed in this process, by resolved path; reused only while the
#: file's size, modification time and inode are unchanged (a file rewritten in place
#: is hashed again).
_digests: dict[Path, tuple[tuple[int, int, int], str]] = {}


def cached_file_digest(path: Path) -> str:
    """:func:`file_digest`, remembered for the process while the file is unchanged."""
    resolved = path.resolve()
    stat = resolved.stat()
    signature = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
    known = _digests.get(resolved)
    if known is not None and known[0] == signature:
        return known[1]
    digest = file_digest(resolved)
    _digests[resolved] = (signature, digest)
    return digest


def directory_digest(folder: Path) -> str:
    """A digest of a directory's content: every regular file below it (hidden files and
    folders such as ``.git`` or ``.cache`` left out) by its path *relative to the
    directory* and the SHA-256 of its bytes. Where the directory lies never enters it."""
    root = folder.resolve()
    files = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        files.append((relative.as_posix(), cached_file_digest(path)))
    return fingerprint("directory", files, length=64)


def installed_version(name: str) -> str | None:
    """The installed version of distribution ``name`` (``importlib.metadata``), or
    ``None`` when it is not installed. Every version in a cache key comes from here."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def library_versions(names: Iterable[str] = ("torch", "transformers", "pytest-bias-gate")) -> dict:
    """Installed versions of the libraries whose behaviour changes results."""
    return {name: installed_version(name) for name in names}
