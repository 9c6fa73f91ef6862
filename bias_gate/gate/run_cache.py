"""The run's cache folder, checked when the gate is configured, before any model loads.

A folder that cannot be written (a path under a file, a read-only cold cache, no space)
is one warning line, and the run goes on with a temporary cache of its own, removed at
the end: nothing from that run is cached for the next. When not even a temporary folder
can be made, nothing could work: one usage error, before anything loads. Writes that
fail later (a file-size limit, a disk filling mid-run) are handled where they happen
(:func:`bias_gate.cache.write_or_warn`). With ``cache.max_size``, the cache is cut down
to it when the run ends, least recently used weights first, never what the run used
(:meth:`RunCache.close`).

matplotlib keeps its own config and font cache in ``$MPLCONFIGDIR`` (default
``~/.cache/matplotlib``); unless the user set it, it is pointed into the run's cache, so a
run writes nothing outside its cache and output paths.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bias_gate.cache import write_error_reason
from bias_gate.cache_usage import Entry, evict
from bias_gate.errors import ConfigError

MPLCONFIGDIR = "MPLCONFIGDIR"


#: Entries used this long before the run started count as used by it (file times are
#: coarse on some file systems): eviction errs on keeping.
PROTECT_SLACK_S = 5.0


@dataclass(frozen=True)
class RunCache:
    """``path``: where this run caches; ``requested``: the folder asked for;
    ``warning``: one line to show when ``path`` is a temporary stand-in (removed by
    :meth:`close`), else ``None``; ``max_size``: bytes the cache is cut down to when the
    run ends (``cache.max_size``), ``None`` for no limit; ``started``: when the run
    opened it (what it used since then is never evicted)."""

    path: Path
    requested: Path
    warning: str | None = None
    max_size: int | None = None
    started: float = field(default_factory=time.time)

    @property
    def temporary(self) -> bool:
        return self.path != self.requested

    def close(self, evict_weights: bool = True) -> list[Entry]:
        """Remove a temporary stand-in (the run's own, never the requested folder); else,
        with a ``max_size`` and ``evict_weights`` (the caller is no xdist worker: only
        the controller evicts, decided from pytest's ``workerinput``, never from an
        environment variable a gate run started by a test would inherit), evict
        least-recently-used weights down to it (:func:`bias_gate.cache_usage.evict`),
        keeping everything this run used. Returns what was evicted."""
        if self.temporary:
            shutil.rmtree(self.path, ignore_errors=True)
            return []
        if self.max_size is None or not evict_weights:
            return []
        return evict(self.path, self.max_size, protect_since=self.started - PROTECT_SLACK_S)


def unwritable(folder: Path) -> str | None:
    """Why nothing can be written in ``folder`` (created if missing), or ``None``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        return write_error_reason(exc)
    return None


def open_run_cache(requested: Path, key: str = "cache", max_size: int | None = None) -> RunCache:
    """The cache this run uses (module docstring); ``key``: what named the folder, for
    the error (``--bias-gate-cache-dir`` or ``output.cache_dir``); ``max_size``: the
    size it is cut down to when the run ends (:meth:`RunCache.close`)."""
    problem = unwritable(requested)
    if problem is None:
        return RunCache(requested, requested, max_size=max_size)
    try:
        stand_in = Path(tempfile.mkdtemp(prefix="bias-gate-cache-"))
    except OSError as exc:
        raise ConfigError(
            f"cache folder {str(requested)!r} cannot be written ({problem}) and no "
            f"temporary folder could be made ({write_error_reason(exc)}); give a writable "
            "cache folder",
            key=key,
        ) from None
    warning = (
        f"bias-gate: warning: cache folder {requested} cannot be written ({problem}); this "
        f"run caches nothing there and uses the temporary folder {stand_in}, removed at the "
        "end"
    )
    return RunCache(stand_in, requested, warning)


def confine_matplotlib(cache: Path) -> None:
    """Point matplotlib's config dir into ``cache`` unless the user chose one."""
    if not os.environ.get(MPLCONFIGDIR):
        os.environ[MPLCONFIGDIR] = str(cache / "matplotlib")
