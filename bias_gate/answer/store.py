"""The answer store: per-item answers cached on disk, safe against interrupted runs.

Layout: ``<root>/<key>/shard-<time>-<pid>-<n>.jsonl``, one shard per completed batch,
each written atomically (temporary file + rename), so a run killed at any moment leaves
only whole shards; the next run with the same key loads them and computes only the
missing items. :meth:`AnswerStore.compact` merges the shards of a finished run into one.

The key must change whenever anything that determines an answer changes:
:func:`answer_store_key` hashes the model, compression and items fingerprints, the scoring
settings (prompt, mode and the mode's options) and library versions.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from bias_gate.answer.types import Answer
from bias_gate.cache import atomic_write_text
from bias_gate.config import ScoringSpec
from bias_gate.data.items import BBQItem
from bias_gate.fingerprint import fingerprint, library_versions

_SHARD_GLOB = "shard-*.jsonl"
_COMPACT = "answers.jsonl"
_counter = itertools.count()


def items_fingerprint(items: Iterable[BBQItem]) -> str:
    """A fingerprint of the items' full content, in order."""
    return fingerprint("items", [dataclasses.asdict(item) for item in items])


def scoring_fingerprint(scoring: ScoringSpec) -> str:
    """A fingerprint of what in ``scoring`` determines answers (all but ``batch_size`` and
    ``max_batch_tokens``, which change only the arithmetic order, not the answers)."""
    return fingerprint(
        "scoring",
        scoring.model_dump(mode="json", exclude={"batch_size", "max_batch_tokens"}),
    )


def answer_store_key(
    *,
    model: str,
    compression: str,
    items: str,
    scoring: ScoringSpec,
    versions: dict[str, str | None] | None = None,
) -> str:
    """The store key of one set of answers.

    ``model``: the model fingerprint (``LoadedModel.fingerprint``); ``compression``: the
    compression's fingerprint (``"dense"`` for none); ``items``: the items fingerprint
    (e.g. :func:`items_fingerprint`); ``versions``: library versions (default: the
    installed torch, transformers and bias-gate).
    """
    return fingerprint(
        "answers",
        model,
        compression,
        items,
        scoring_fingerprint(scoring),
        versions if versions is not None else library_versions(),
        length=24,
    )


class AnswerStore:
    """Answers on disk under ``root``, grouped by store key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _dir(self, key: str) -> Path:
        if not key or "/" in key or key.startswith("."):
            raise ValueError(f"bad answer store key {key!r}")
        return self.root / key

    def load(self, key: str) -> dict[str, Answer]:
        """Every answer stored under ``key``, by item key (empty if none). A shard that
        cannot be read is skipped (its items are then recomputed)."""
        folder = self._dir(key)
        answers: dict[str, Answer] = {}
        if not folder.is_dir():
            return answers
        files = sorted(folder.glob(_SHARD_GLOB))
        compact = folder / _COMPACT
        if compact.is_file():
            files.insert(0, compact)
        for path in files:
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
                parsed = [Answer.from_json(json.loads(line)) for line in lines if line.strip()]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            for answer in parsed:
                answers[answer.key] = answer
        return answers

    def write(self, key: str, answers: Sequence[Answer]) -> Path | None:
        """Store ``answers`` (one completed batch) as a new shard, atomically."""
        if not answers:
            return None
        name = f"shard-{time.time_ns():020d}-{os.getpid()}-{next(_counter):06d}.jsonl"
        path = self._dir(key) / name
        text = "".join(json.dumps(a.to_json(), sort_keys=True) + "\n" for a in answers)
        atomic_write_text(path, text)
        return path

    def compact(self, key: str) -> None:
        """Merge all shards of ``key`` into one file (atomically), then remove them."""
        folder = self._dir(key)
        shards = sorted(folder.glob(_SHARD_GLOB))
        if not shards:
            return
        answers = self.load(key)
        text = "".join(
            json.dumps(answers[k].to_json(), sort_keys=True) + "\n" for k in sorted(answers)
        )
        atomic_write_text(folder / _COMPACT, text)
        for shard in shards:
            shard.unlink(missing_ok=True)

    def shard_count(self, key: str) -> int:
        """How many batch shards ``key`` has (not counting a compacted file)."""
        folder = self._dir(key)
        return len(list(folder.glob(_SHARD_GLOB))) if folder.is_dir() else 0
