"""How many processes ``bias-gate compare`` judges its configs in, and the judging of
one config in such a process.

Each config's judgement is a pure function of its answers, the dense answers and the
profile, so configs can be judged in any process and in any order: the results are
collected in the input's order and are identical to a one-process run (a test compares
the two). ``--jobs auto`` uses every core this process may run on once there are at
least :data:`CONFIGS_PER_JOB` configs per process (below that, starting processes costs
more than it saves); ``--jobs N`` asks for N.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any, TypeVar

#: Configs each process should have before ``--jobs auto`` starts another one.
CONFIGS_PER_JOB = 16

_T = TypeVar("_T")
_R = TypeVar("_R")

# A worker's fixed arguments, set once per process by :func:`_install`.
_WORK: dict[str, Any] = {}


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def parse_jobs(text: str) -> int | None:
    """``--jobs``: ``auto`` (None) or a positive count."""
    if text == "auto":
        return None
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        import argparse

        raise argparse.ArgumentTypeError(f"--jobs takes 'auto' or a count >= 1, got {text!r}")
    return jobs


def job_count(requested: int | None, configs: int) -> int:
    """The processes to judge ``configs`` configs in (``requested`` None: auto)."""
    if requested is None:
        requested = min(usable_cores(), configs // CONFIGS_PER_JOB)
    return max(1, min(requested, configs))


def _install(function: Callable[..., Any], fixed: tuple[Any, ...]) -> None:
    _WORK["function"], _WORK["fixed"] = function, fixed


def _call(argument: Any) -> Any:
    return _WORK["function"](argument, *_WORK["fixed"])


def map_in_processes(
    function: Callable[..., _R], arguments: Iterable[_T], fixed: tuple[Any, ...], jobs: int
) -> list[_R]:
    """``[function(a, *fixed) for a in arguments]``, in ``jobs`` processes when more
    than one (``fixed`` is sent to each process once; the order is kept)."""
    if jobs <= 1:
        return [function(argument, *fixed) for argument in arguments]
    listed = list(arguments)
    chunk = max(1, len(listed) // (jobs * 4))
    # spawn: the same on Linux, macOS and Windows, and safe beside any thread.
    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=get_context("spawn"),
        initializer=_install,
        initargs=(function, fixed),
    ) as pool:
        return list(pool.map(_call, listed, chunksize=chunk))
