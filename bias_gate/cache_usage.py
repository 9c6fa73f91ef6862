"""What the cache holds, when each entry was last used, and least-recently-used
eviction down to a size (``cache.max_size``, ``bias-gate cache prune``).

Entries, by folder of the cache root:

* ``compressed/<key>.json`` + ``<key>.safetensors``: one config's compressed weights
  (kind ``compressed``), evictable;
* ``artifacts/<file>.gguf``: a GGUF file a method wrote (kind ``artifact``), evictable;
* ``models/<key>/``: a GGUF file's config and tokenizer (kind ``model``), evictable;
  earlier versions kept the whole dequantized model here, and a run now dequantizes into
  ``scratch/`` and removes that copy once the model is loaded (decision #110);
* ``answers/<key>/``, ``perplexity/<key>.json``: measured answers and perplexity (kinds
  ``answers``, ``perplexity``), always kept: they are the run's results, small, and
  cost model time to measure again;
* anything else (``data/``, ``matplotlib/``, ``scratch/``): kind ``other``, kept.

Last use is the modification time of the entry's marker file (the ``.json`` of a
compressed entry, the ``.gguf`` file, a model's ``config.json``), which every use sets
(:func:`mark_used`); an answers folder's is its newest file. Eviction never touches what
was used at or after ``protect_since`` (the running gate's start): nothing a run needs
is removed under it. An entry is removed by first renaming it to a temporary name
(:mod:`bias_gate.cache`), so no reader sees half of one. Imports no torch.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from bias_gate.cache import is_temporary

EVICTABLE = ("compressed", "artifact", "model")
_UNITS = {
    "": 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")


def parse_size(text: str | int) -> int:
    """Bytes in a size such as ``5GB``, ``500 MB``, ``1.5GiB`` or ``1000000`` (decimal
    units KB/MB/GB/TB, binary KiB/MiB/GiB/TiB); a ``ValueError`` saying what is accepted."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise ValueError(f"a size cannot be negative, got {text}")
        return text
    match = _SIZE.match(str(text))
    unit = match[2].upper() if match else ""
    if match is None or unit not in _UNITS:
        raise ValueError(
            f"not a size: {text!r}; write a number of bytes with a unit, e.g. 5GB, 500MB or 2GiB"
        )
    return int(float(match[1]) * _UNITS[unit])


def format_size(size: int) -> str:
    """``size`` bytes for people: ``1.23 GB``, ``45.6 MB``, ``789 B``."""
    for unit, factor in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= factor:
            return f"{size / factor:.2f} {unit}"
    return f"{size} B"


def mark_used(path: Path) -> None:
    """Record that the entry whose marker file is ``path`` was used now (never raises:
    a read-only cache still works, it only cannot order its entries)."""
    with contextlib.suppress(OSError):
        os.utime(path)


@dataclass(frozen=True)
class Entry:
    """One cache entry: ``kind``, ``name`` (its key or file name), ``paths`` (its files
    and folders), ``size`` in bytes, ``last_used`` (seconds since the epoch)."""

    kind: str
    name: str
    paths: tuple[Path, ...]
    size: int
    last_used: float

    @property
    def evictable(self) -> bool:
        return self.kind in EVICTABLE


def _size(path: Path) -> int:
    try:
        if path.is_dir() and not path.is_symlink():
            return sum(_size(child) for child in path.iterdir())
        return path.lstat().st_size
    except OSError:
        return 0


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _entry(kind: str, name: str, paths: list[Path], marker: Path) -> Entry:
    return Entry(kind, name, tuple(paths), sum(_size(p) for p in paths), _mtime(marker))


def _newest(folder: Path) -> Path:
    """The most recently written file of ``folder`` (an answers folder's last shard)."""
    files = [p for p in _listing(folder) if p.is_file()]
    return max(files, key=_mtime) if files else folder


def _listing(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if not is_temporary(p.name))
    except OSError:
        return []


def _compressed(folder: Path) -> list[Entry]:
    keys: dict[str, list[Path]] = {}
    for path in _listing(folder):
        if path.suffix in (".json", ".safetensors"):
            keys.setdefault(path.stem, []).append(path)
    entries = []
    for key, paths in keys.items():
        marker = folder / f"{key}.json"
        entries.append(_entry("compressed", key, paths, marker if marker.exists() else paths[0]))
    return entries


def entries(root: Path) -> list[Entry]:
    """Every entry of the cache at ``root`` (module docstring), oldest last use first."""
    found: list[Entry] = []
    for top in _listing(root):
        if top.name == "compressed" and top.is_dir():
            found += _compressed(top)
        elif top.name in ("artifacts", "perplexity") and top.is_dir():
            kind = "artifact" if top.name == "artifacts" else "perplexity"
            found += [_entry(kind, p.name, [p], p) for p in _listing(top)]
        elif top.name in ("models", "answers") and top.is_dir():
            kind = "model" if top.name == "models" else "answers"
            for path in _listing(top):
                marker = path / "config.json" if kind == "model" else _newest(path)
                found.append(_entry(kind, path.name, [path], marker))
        else:
            found.append(_entry("other", top.name, [top], top))
    return sorted(found, key=lambda e: (e.last_used, e.kind, e.name))


def remove(entry: Entry) -> None:
    """Remove ``entry``: each path is renamed to a temporary name first (a compressed
    entry's ``.json`` first, which makes it unusable at once), then deleted."""
    for path in sorted(entry.paths, key=lambda p: p.suffix != ".json"):
        try:
            hidden = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
            os.replace(path, hidden)
        except OSError:
            continue
        if hidden.is_dir() and not hidden.is_symlink():
            shutil.rmtree(hidden, ignore_errors=True)
        else:
            hidden.unlink(missing_ok=True)


def evict(
    root: Path, max_size: int | None, protect_since: float | None = None, everything: bool = False
) -> list[Entry]:
    """Remove evictable entries, least recently used first, until the whole cache is at
    most ``max_size`` bytes (``everything``: all evictable entries). Entries used at or
    after ``protect_since`` are never removed. Returns what was removed."""
    found = entries(root)
    total = sum(e.size for e in found)
    removed: list[Entry] = []
    for entry in found:
        if not everything and (max_size is None or total <= max_size):
            break
        if not entry.evictable:
            continue
        if protect_since is not None and entry.last_used >= protect_since:
            continue
        remove(entry)
        removed.append(entry)
        total -= entry.size
    return removed
