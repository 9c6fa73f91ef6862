"""Where cached things live, atomic writes so a crash never leaves half a file, and the
one cleanup that knows every temporary name those writes (and the libraries under them)
create.

Temporary names, all hidden and removed by :func:`remove_stale_temporaries` once stale:

* ``.<name>.<random>.tmp``: :func:`atomic_replace`'s file, and a folder staged to be
  renamed into place (:func:`staging_dir`, e.g. a dequantized model under ``models/``);
* ``.tmpXXXXXX``: the file safetensors itself writes and renames into the first.

A cache write that fails (a full or read-only disk, a file-size limit) is a
:class:`CacheWarning` and the run goes on without caching that value
(:func:`write_or_warn`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ENV_CACHE_DIR = "BIAS_GATE_CACHE_DIR"
#: The temporary names of :mod:`bias_gate.cache`'s writes and of safetensors' own.
_TEMPORARY = re.compile(r"^\.(.+\.[A-Za-z0-9_]+\.tmp|tmp[A-Za-z0-9]{6})$")
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
    replaces ``path`` in one rename. The one atomic write every cache goes through; it
    then removes the stale temporaries a killed writer of ``path`` left beside it."""
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
    # What a killed writer of this same file left (an output folder's `.r.json.*.tmp`).
    remove_stale_temporaries(path.parent, owners=[path.name])


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


def staging_dir(target: Path) -> Path:
    """A new empty folder beside ``target`` (``.<name>.<random>.tmp``) to fill and then
    rename onto ``target``; :func:`remove_stale_temporaries` clears one a killed run left."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))


def fill_folder_once(target: Path, fill: Callable[[Path], None]) -> None:
    """Create the folder ``target`` through ``fill(staging)`` so readers see no folder
    or the whole one: ``fill`` fills a staging folder beside it (:func:`staging_dir`),
    which is then renamed onto ``target``. If another process renamed its own there
    first, that one is kept. The staging folder never stays, whatever failed."""
    staging = staging_dir(target)
    try:
        fill(staging)
        try:
            os.replace(staging, target)
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def is_temporary(name: str, owners: Iterable[str] | None = None) -> bool:
    """Whether ``name`` is a temporary name of the writes above; with ``owners``, only
    those of :func:`atomic_replace` for one of these file names (what a folder that is not
    the cache's own, such as an output folder, may have removed)."""
    if owners is not None:
        return any(name.startswith(f".{owner}.") and name.endswith(".tmp") for owner in owners)
    return _TEMPORARY.match(name) is not None


def remove_stale_temporaries(
    folder: Path,
    older_than_s: float = STALE_TEMPORARY_S,
    owners: Iterable[str] | None = None,
) -> int:
    """Remove the temporaries (files and staging folders, :func:`is_temporary`) that a
    killed process left in ``folder`` more than ``older_than_s`` seconds ago; a younger
    one may still be being written by another process. ``owners``: remove only the
    temporaries of these file names. Returns how many; never raises."""
    removed = 0
    cutoff = time.time() - older_than_s
    owned = list(owners) if owners is not None else None
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not is_temporary(entry.name, owned):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed += 1
        except OSError:
            continue
    return removed


class CacheWarning(UserWarning):
    """A cache write failed; the run went on without caching that value."""


def is_write_error(exc: BaseException) -> bool:
    """An error a failed write raises: the OS's (``OSError``: full or read-only disk,
    ``EFBIG`` past ``ulimit -f``) or safetensors' ``SafetensorError``, which is not an
    ``OSError`` (safetensors is not imported here: the gate's plugin imports no torch)."""
    return isinstance(exc, OSError) or type(exc).__name__ == "SafetensorError"


def write_error_reason(exc: BaseException) -> str:
    """One line: the OS's words for it, else the exception's first line."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def write_or_warn(what: str, folder: Path, write: Callable[[], object]) -> bool:
    """Run the cache write ``write``; if it fails with a write error
    (:func:`is_write_error`), warn once in one line (:class:`CacheWarning`) and return
    False: the value is not cached and the run goes on. Other errors propagate."""
    try:
        write()
    except Exception as exc:
        if not is_write_error(exc):
            raise
        warnings.warn(
            CacheWarning(
                f"bias-gate: could not cache {what} in {folder} ({write_error_reason(exc)}); "
                "the run goes on without caching it"
            ),
            stacklevel=2,
        )
        return False
    return True
