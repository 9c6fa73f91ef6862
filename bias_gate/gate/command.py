"""The command line of a gate run, built in one place for the scripts, the benchmarks
and the tests that run the real gate (``pytest --bias-gate model.yaml ...``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path


def gate_args(
    config: Path,
    *,
    data_dir: Path,
    cache_dir: Path,
    json_out: Path,
    limit: int | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """pytest's arguments for a gate run of ``config``: its data and cache folders, the
    results JSON at ``json_out``, ``limit`` items per category (all when ``None``), no
    pytest cache and no deprecation warnings from the libraries; ``extra`` last."""
    return [
        "--bias-gate",
        str(config),
        "--bias-gate-data-dir",
        str(data_dir),
        "--bias-gate-cache-dir",
        str(cache_dir),
        "--bias-gate-json",
        str(json_out),
        *(["--bias-gate-limit", str(limit)] if limit is not None else []),
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::DeprecationWarning",
        *extra,
    ]


def gate_command(
    config: Path,
    *,
    data_dir: Path,
    cache_dir: Path,
    json_out: Path,
    limit: int | None = None,
    extra: Sequence[str] = (),
) -> list[str]:
    """The whole command (this Python's ``-m pytest`` and :func:`gate_args`), for
    :func:`subprocess.run`."""
    args = gate_args(
        config, data_dir=data_dir, cache_dir=cache_dir, json_out=json_out, limit=limit, extra=extra
    )
    return [sys.executable, "-m", "pytest", *args]
