"""Reports written all or none: each is written into a temporary folder beside its target,
and only when every one has been written are they renamed into place together.

A report that cannot be written (a parent that is a file, a folder without write
permission, a full disk) then leaves no partial set: the reports written before it are
discarded with it, and the error is one line naming the report and the path. Targets are
checked before the work starts too (:func:`check_output`), so a gate run with an
unwritable ``--bias-gate-json`` stops before the model loads.

Temporary folders are named ``.<report name>.<random>.stage`` in the target's folder; one
an interrupted run left is removed by the next write of that report after an hour.
"""

from __future__ import annotations

import errno
import glob
import os
import shutil
import tempfile
import time
from pathlib import Path

from bias_gate.errors import BiasGateError

#: The end of a stage folder's name (not ``.tmp``: the cache's cleanup of ``.*.tmp``
#: files must not meet a folder).
STAGE_SUFFIX = ".stage"
#: A stage folder older than this (seconds) is an interrupted run's, removed.
STALE_STAGE_S = 3600

#: The shipped reports that are a folder of files; the others shipped are one file.
FOLDER_REPORTS = frozenset({"plots"})
FILE_REPORTS = frozenset({"json", "junit", "markdown", "html", "comment"})


def check_output(path: Path, key: str, name: str) -> None:
    """Raise a one-line :class:`BiasGateError` unless report ``name`` can be written at
    ``path``: every existing parent a folder, the nearest one writable, and for a
    shipped report ``path`` itself not a folder where a file goes or the reverse."""
    path = Path(path).absolute()
    folder = name in FOLDER_REPORTS
    if path.exists() and (name in FOLDER_REPORTS | FILE_REPORTS) and path.is_dir() != folder:
        kind = "a folder" if path.is_dir() else "a file"
        raise BiasGateError(f"{path} is {kind}; give a {'folder' if folder else 'file'}", key=key)
    parent = path.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise BiasGateError(
            f"cannot write {path}: {parent} is a file, not a folder; choose another path",
            key=key,
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BiasGateError(f"cannot write {path}: {parent} is not writable", key=key)


class Staging:
    """Temporary places for a set of reports, renamed into place by :meth:`commit` or
    removed by :meth:`discard`. Use as a context manager: an exception discards."""

    def __init__(self) -> None:
        self._stages: list[tuple[Path, Path]] = []  # (temporary folder, target's folder)

    def path(self, target: Path, key: str) -> Path:
        """Where to write the report meant for ``target`` (same name, temporary folder)."""
        target = Path(target).absolute()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _remove_stale(target)
            stage = Path(
                tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=STAGE_SUFFIX)
            )
        except OSError as exc:
            raise BiasGateError(f"cannot write {target} ({_reason(exc)})", key=key) from None
        self._stages.append((stage, target.parent))
        return stage / target.name

    def final(self, staged: Path) -> Path:
        """The path a file written at ``staged`` will have after :meth:`commit`."""
        for stage, parent in self._stages:
            if staged.is_relative_to(stage):
                return parent / staged.relative_to(stage)
        return staged

    def commit(self) -> None:
        """Rename every staged file into place, then remove the temporary folders. Every
        target is checked first (no folder where a file goes), so a rename that cannot
        succeed fails before any has been made."""
        moves = [
            (staged, parent / staged.relative_to(stage))
            for stage, parent in self._stages
            for staged in sorted(stage.rglob("*"))
            if staged.is_file()
        ]
        for _, target in moves:
            if target.is_dir():
                raise IsADirectoryError(errno.EISDIR, "a folder is in the way", str(target))
        for staged, target in moves:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, target)
        self.discard()

    def discard(self) -> None:
        """Remove every temporary folder and what is in it."""
        for stage, _ in self._stages:
            shutil.rmtree(stage, ignore_errors=True)
        self._stages.clear()

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        self.discard()  # after commit there is nothing left to remove


def _remove_stale(target: Path) -> None:
    """Remove the stage folders of ``target`` an interrupted run (kill -9) left, once
    they are older than :data:`STALE_STAGE_S`."""
    for stage in target.parent.glob(f".{glob.escape(target.name)}.*{STAGE_SUFFIX}"):
        try:
            if stage.is_dir() and time.time() - stage.stat().st_mtime > STALE_STAGE_S:
                shutil.rmtree(stage, ignore_errors=True)
        except OSError:
            continue


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def write_error(name: str, target: Path, exc: OSError) -> BiasGateError:
    """The one line for a report that could not be written (nothing was written)."""
    return BiasGateError(
        f"cannot write the {name} report at {target} ({_reason(exc)}); no report was written"
    )
