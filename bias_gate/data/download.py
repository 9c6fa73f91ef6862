"""Download-once files with an integrity manifest, and the local-mirror override.

A downloaded file lives in a cache folder beside ``manifest.json``, which records its
URL, size and SHA-256. A cached file is reused only when all three still match; a file
that was truncated or changed on disk is downloaded again. A download is accepted
only when it has the length the server announced and passes the caller's validator
(for BBQ: every line parses); it is then written atomically, so a crash never leaves
half a file under the final name.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from bias_gate.cache import atomic_write_bytes, atomic_write_json
from bias_gate.data.pins import Pin
from bias_gate.errors import DataError
from bias_gate.fingerprint import file_digest

#: The user's default data directory, a local mirror of the third-party data
#: (``<dir>/bbq/<Category>.jsonl`` and ``<dir>/wikitext-2/{valid,test}.txt``). Read by the
#: entry points (pytest options, the CLI) only; the data layer takes the directory as an
#: argument, and nothing ever writes this variable.
ENV_DATA_DIR = "BIAS_GATE_DATA_DIR"
MANIFEST_NAME = "manifest.json"
DOWNLOAD_TIMEOUT_S = 60.0
DOWNLOAD_ATTEMPTS = 2


class ManifestEntry(BaseModel):
    """What was downloaded: from where, how many bytes, and their SHA-256 (hex)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    size: int
    sha256: str


def mirror_dir() -> Path | None:
    """The user's default data directory, ``$BIAS_GATE_DATA_DIR``, or ``None`` when it is
    unset. For entry points: pass the result on as ``data_dir``."""
    value = os.environ.get(ENV_DATA_DIR)
    return Path(value).expanduser() if value else None


def read_manifest(folder: Path) -> dict[str, ManifestEntry]:
    """The manifest of ``folder`` by file name; empty when missing or unreadable (every
    file is then treated as not yet downloaded)."""
    path = folder / MANIFEST_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {name: ManifestEntry.model_validate(entry) for name, entry in raw.items()}
    except (OSError, ValueError, AttributeError):
        return {}


def _is_intact(path: Path, entry: ManifestEntry | None, url: str, pin: Pin | None) -> bool:
    if not (
        entry is not None
        and entry.url == url
        and path.is_file()
        and path.stat().st_size == entry.size
        and file_digest(path) == entry.sha256
    ):
        return False
    if pin is None:
        return True
    if pin.kind == "sha256":
        return entry.sha256 == pin.hexdigest
    return pin.matches(path.read_bytes())


def check_pin(body: bytes, pin: Pin | None, url: str) -> None:
    """A :class:`DataError` naming the file unless ``body`` has the pinned digest."""
    if pin is None or pin.matches(body):
        return
    raise DataError(
        f"download does not match the pinned {pin.describe()} {pin.hexdigest} "
        f"(got {pin.of(body)}); it was changed upstream or in transit: nothing was "
        "cached. Check the source, or give a verified local mirror (--bias-gate-data-dir)",
        file=url,
    )


def _download(url: str, timeout_s: float) -> bytes:
    """The body at ``url``; a :class:`DataError` on failure or a short body."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            body = response.read()
            announced = response.headers.get("Content-Length")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DataError(
            f"could not download {url} ({reason}); check the network, or give a local "
            f"mirror of the data ({ENV_DATA_DIR}; in a pytest run also --bias-gate-data-dir)"
        ) from None
    if announced is not None and int(announced) != len(body):
        raise DataError(f"truncated download of {url}: {len(body)} of {announced} bytes")
    return body


def fetch_cached(
    url: str,
    dest: Path,
    validate: Callable[[bytes], None],
    *,
    pin: Pin | None = None,
    timeout_s: float = DOWNLOAD_TIMEOUT_S,
    attempts: int = DOWNLOAD_ATTEMPTS,
) -> Path:
    """``dest``, downloaded from ``url`` unless an intact copy is cached.

    ``validate`` raises :class:`DataError` for a body that must not be cached; ``pin``
    (:mod:`bias_gate.data.pins`) is the digest the body must have, checked after
    ``validate`` and on every reuse of the cached copy. A failed download, validation or
    pin check is retried up to ``attempts`` times in all; the last error is raised and
    nothing is written.
    """
    manifest = read_manifest(dest.parent)
    if _is_intact(dest, manifest.get(dest.name), url, pin):
        return dest
    error: DataError | None = None
    for _ in range(max(1, attempts)):
        try:
            body = _download(url, timeout_s)
            validate(body)
            check_pin(body, pin, url)
        except DataError as exc:
            error = exc
            continue
        atomic_write_bytes(dest, body)
        manifest = read_manifest(dest.parent)
        manifest[dest.name] = ManifestEntry(
            url=url, size=len(body), sha256=hashlib.sha256(body).hexdigest()
        )
        atomic_write_json(
            dest.parent / MANIFEST_NAME, {k: v.model_dump() for k, v in manifest.items()}
        )
        return dest
    assert error is not None
    raise error
