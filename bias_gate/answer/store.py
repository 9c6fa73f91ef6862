"""The answer store: per-item answers cached on disk, safe against interrupted runs.

Layout: ``<root>/<key>/shard-<time>-<pid>-<n>.jsonl``, one shard per completed batch,
each written atomically (temporary file + rename), so a run killed at any moment leaves
only whole shards (and perhaps a hidden temporary file, which is never read); the next
run with the same key loads them and computes only the missing items.
:meth:`AnswerStore.compact` merges a key's files into one ``answers-<time>-<pid>-<n>.jsonl``
when its answers are complete. Several processes may share a store (xdist workers,
runs on one cache): every file has a name of its own and is only ever created whole,
compaction removes only files whose answers it has already written into its own file,
and a reader that finds a file gone under it lists the folder again.

The key must change whenever anything that determines an answer changes:
:func:`bias_gate.identity.answers_key` (model, compression, items, scoring settings,
device kind, library versions). It must not depend on which of the planned items are
being answered: a caller may answer growing subsets of them under one key.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from bias_gate.answer.types import Answer
from bias_gate.cache import atomic_write_text, remove_stale_temporaries, write_or_warn
from bias_gate.config.schema import ScoringSpec
from bias_gate.identity import answers_key

_SHARD_GLOB = "shard-*.jsonl"
_COMPACT_GLOB = "answers*.jsonl"  # answers-<time>-<pid>-<n>.jsonl (and the legacy answers.jsonl)
_LOAD_ATTEMPTS = 100
_counter = itertools.count()


def answer_store_key(
    *,
    model: str,
    compression: Any,
    items: str,
    scoring: ScoringSpec,
    device: str = "cpu",
    versions: dict[str, str | None] | None = None,
) -> str:
    """The store key of one set of answers: :func:`bias_gate.identity.answers_key`.

    ``model``: the model fingerprint (``LoadedModel.fingerprint``); ``compression``: the
    compression's identity part (:func:`bias_gate.identity.compression_part`, or
    :data:`bias_gate.identity.NO_COMPRESSION` for the dense model); ``items``: the
    planned items' fingerprint (:func:`bias_gate.data.items.items_fingerprint`);
    ``device``: where the answers are computed; ``versions``: library versions
    (default: the installed torch, transformers and bias-gate).
    """
    return answers_key(model, compression, items, scoring, device, versions)


def _unique_name(prefix: str) -> str:
    return f"{prefix}-{time.time_ns():020d}-{os.getpid()}-{next(_counter):06d}.jsonl"


def _lines(answers: Iterable[Answer]) -> str:
    return "".join(json.dumps(a.to_json(), sort_keys=True) + "\n" for a in answers)


class AnswerStore:
    """Answers on disk under ``root``, grouped by store key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _dir(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"bad answer store key {key!r}")
        return self.root / key

    def _files(self, folder: Path) -> list[Path]:
        """The answer files of a key's folder: compacted ones first, then the shards
        (hidden temporary files never match)."""
        return sorted(folder.glob(_COMPACT_GLOB)) + sorted(folder.glob(_SHARD_GLOB))

    def load(self, key: str) -> dict[str, Answer]:
        """Every answer stored under ``key``, by item key (empty if none). A file that
        cannot be parsed is skipped (its items are then recomputed); a file removed
        while it was being read (another process compacted the key) means the folder is
        listed again, since the merged file that replaced it is there now."""
        answers, _files = self._load_files(self._dir(key))
        return answers

    def _load_files(self, folder: Path) -> tuple[dict[str, Answer], list[Path]]:
        """The answers of ``folder`` and the files that hold nothing else: those read
        and those that cannot be parsed (whole files that are not answers)."""
        for _attempt in range(_LOAD_ATTEMPTS):
            answers: dict[str, Answer] = {}
            files = self._files(folder) if folder.is_dir() else []
            read: list[Path] = []
            vanished = False
            for path in files:
                try:
                    text = path.read_text(encoding="utf-8")
                except FileNotFoundError:
                    vanished = True
                    break
                except OSError:
                    continue
                read.append(path)
                try:
                    lines = [line for line in text.splitlines() if line.strip()]
                    parsed = [Answer.from_json(json.loads(line)) for line in lines]
                except (ValueError, KeyError, TypeError):
                    continue
                for answer in parsed:
                    answers[answer.key] = answer
            if not vanished:
                return answers, read
        return answers, read

    def write(self, key: str, answers: Sequence[Answer]) -> Path | None:
        """Store ``answers`` (one completed batch) as a new shard, atomically."""
        if not answers:
            return None
        path = self._dir(key) / _unique_name("shard")
        text = _lines(answers)
        written = write_or_warn("answers", path.parent, lambda: atomic_write_text(path, text))
        return path if written else None

    def compact(self, key: str) -> Path | None:
        """Merge the files of ``key`` into one new file (written atomically), then remove
        the files it merged, and any temporary file a killed run left behind. Does
        nothing when the key has no shard. Safe while other processes write, load or
        compact the same key: nothing is removed before its answers are in a file."""
        folder = self._dir(key)
        if not any(folder.glob(_SHARD_GLOB)):
            return None
        answers, merged = self._load_files(folder)
        if not answers:
            return None
        path = folder / _unique_name("answers")
        text = _lines(answers[k] for k in sorted(answers))
        if not write_or_warn("answers", folder, lambda: atomic_write_text(path, text)):
            return None
        for old in merged:
            old.unlink(missing_ok=True)
        remove_stale_temporaries(folder)
        return path

    def shard_count(self, key: str) -> int:
        """How many batch shards ``key`` has (not counting a compacted file)."""
        folder = self._dir(key)
        return len(list(folder.glob(_SHARD_GLOB))) if folder.is_dir() else 0
