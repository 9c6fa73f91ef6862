"""Where cached things live, and atomic writes so a crash never leaves half a file."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV_CACHE_DIR = "BIAS_GATE_CACHE_DIR"
#: A temporary file older than this was left by a killed process (no write takes so long).
STALE_TEMPORARY_S = 3600.0


def cache_root() -> Path:
    """The cache root: ``$BIAS_GATE_CACHE_DIR`` or the platform's user cache dir."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("bias-gate"))


def atomic_replace(path: Path, write: Callable[[Path], None]) -> None:
    """Create ``path`` through ``write(temporary)`` so readers see the old file or the
    whole new one: ``write`` fills a temporary file in the same folder
    (``.<name>.<random>.tmp``, what :func:`remove_stale_temporaries` clears), which then
    replaces ``path`` in one rename. The one atomic write every cache goes through."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; honour the umask instead
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (:func:`atomic_replace`), synced to disk."""

    def write(tmp: Path) -> None:
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    atomic_replace(path, write)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    """Text variant of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON, atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def remove_stale_temporaries(folder: Path, older_than_s: float = STALE_TEMPORARY_S) -> int:
    """Remove the temporary files of the atomic writes above (``.<name>.<random>.tmp``)
    that a killed process left in ``folder`` more than ``older_than_s`` seconds ago; a
    younger one may still be being written by another process. Returns how many."""
    removed = 0
    cutoff = time.time() - older_than_s
    for path in folder.glob(".*.tmp"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
