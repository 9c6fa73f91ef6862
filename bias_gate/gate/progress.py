"""Live progress of a gate run: per config, its stage, items answered of planned, items/s
and ETA, while the run computes.

    GateRun (any process) -> ProgressTracker -> Snapshot -> a report through
    ``pytest_runtest_logreport`` (xdist carries it from a worker) -> the controller's
    ProgressView -> the terminal

The tracker lives where the config is computed (an xdist worker, or the only process);
it sends a :class:`Snapshot` on every stage change and at most every ``min_gap`` seconds
while items are answered. Only the controller shows them (:class:`ProgressView`): on a
terminal one line updated in place, elsewhere (GitHub Actions, a pipe) a plain line
every ``interval`` seconds; a finished config always leaves one line. ``-q`` shows none.
Nothing here imports torch or pytest.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

#: The ``when`` of a progress report: not a test phase; no outcome letter, no JUnit case.
REPORT_WHEN = "bias_gate_progress"
#: The report attribute holding the snapshot (JSON, so xdist serialises it).
REPORT_ATTRIBUTE = "bias_gate_progress"
#: Seconds between the plain progress lines when the output is not a terminal.
DEFAULT_INTERVAL = 30.0

Clock = Callable[[], float]


def duration(seconds: float) -> str:
    """``7s``, ``1m05s``, ``2h03m``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


@dataclass(frozen=True)
class Snapshot:
    """Where one config stands. ``label``: ``model.yaml::config``; ``stage``: loading,
    dense baseline, compressing, perplexity, answering look k/K, done (or stopped, by an
    error); ``answered`` of
    ``planned``: the compressed model's items (the most the looks may ask; a category
    that settles early stops before); ``rate``: items answered per second in this run
    (cached answers excluded); ``eta``: seconds to answer the rest at that rate."""

    label: str
    stage: str
    answered: int
    planned: int
    elapsed: float
    rate: float | None = None
    eta: float | None = None

    @property
    def done(self) -> bool:
        """The config's last snapshot: computed (``done``) or ended by an error."""
        return self.stage in ("done", "stopped")

    def text(self) -> str:
        head = f"bias-gate {self.label}: {self.stage}"
        if self.done:
            return f"{head}, {self.answered}/{self.planned} items in {duration(self.elapsed)}"
        parts = [head, f"{self.answered}/{self.planned} items"]
        if self.rate is not None:
            parts.append(f"{self.rate:.1f} items/s")
        if self.eta is not None:
            parts.append(f"ETA {duration(self.eta)}")
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        return cls(**data)


class ProgressTracker:
    """The progress of the config being computed in this process, sent through ``send``
    (``None``: nothing is sent). :class:`~bias_gate.gate.runner.GateRun` calls
    :meth:`start`, :meth:`stage` and :meth:`finish`; the judge :meth:`look`; the answer
    engine :meth:`answered` after each batch."""

    def __init__(
        self,
        send: Callable[[Snapshot], None] | None = None,
        clock: Clock = time.monotonic,
        min_gap: float = 0.5,
    ):
        self.send = send
        self.clock = clock
        self.min_gap = min_gap
        self.label = ""
        self.stage_name = ""
        self.answered_items = 0
        self.planned = 0
        self.fresh = 0
        self.started = 0.0
        self.answering_since: float | None = None
        self.last_sent = -math.inf

    def start(self, label: str, planned: int) -> None:
        """Config ``label`` starts; its first stage is sent by :meth:`stage`."""
        self.label, self.planned = label, planned
        self.answered_items = self.fresh = 0
        self.started = self.clock()
        self.answering_since = None
        self.stage_name = "starting"

    def stage(self, name: str) -> None:
        """A new stage: sent at once."""
        if not self.label:
            return
        self.stage_name = name
        self._send(force=True)

    def detail(self, name: str) -> None:
        """The stage's progress (e.g. tensors loaded): sent at most every ``min_gap``."""
        if not self.label:
            return
        self.stage_name = name
        self._send(force=False)

    def look(self, look: int, looks: int) -> None:
        if self.answering_since is None:
            self.answering_since = self.clock()
        self.stage(f"answering look {look}/{looks}")

    def answered(self, count: int, fresh: bool = True) -> None:
        """``count`` more items answered (``fresh``: computed now, not read from the cache)."""
        if not self.label:
            return
        self.answered_items = min(self.planned, self.answered_items + count)
        if fresh:
            if self.answering_since is None:
                self.answering_since = self.clock()
            self.fresh += count
        # The batch that completes the plan is always shown, with its rate.
        self._send(force=self.answered_items >= self.planned)

    def finish(self, stage: str = "done") -> None:
        """The config is computed (``done``) or ended by an error (``stopped``)."""
        self.stage(stage)
        self.label = ""

    def snapshot(self) -> Snapshot:
        now = self.clock()
        rate = eta = None
        if self.answering_since is not None and self.fresh and now > self.answering_since:
            rate = self.fresh / (now - self.answering_since)
            eta = (self.planned - self.answered_items) / rate
        return Snapshot(
            self.label,
            self.stage_name,
            self.answered_items,
            self.planned,
            now - self.started,
            rate,
            eta,
        )

    def _send(self, force: bool) -> None:
        now = self.clock()
        if self.send is None or (not force and now - self.last_sent < self.min_gap):
            return
        self.last_sent = now
        self.send(self.snapshot())


class Terminal(Protocol):
    """Where the view writes: ``rewrite`` replaces the current progress line (a
    terminal); ``line`` writes a whole line."""

    def rewrite(self, text: str) -> None: ...

    def line(self, text: str) -> None: ...


class ProgressView:
    """Shows snapshots (the controller's side). ``tty``: one line updated in place;
    otherwise each running config's latest snapshot as a plain line every ``interval``
    seconds (the first at once). A finished config always leaves its line."""

    def __init__(
        self,
        terminal: Terminal,
        tty: bool,
        interval: float = DEFAULT_INTERVAL,
        clock: Clock = time.monotonic,
    ):
        self.terminal = terminal
        self.tty = tty
        self.interval = interval
        self.clock = clock
        self.running: dict[str, Snapshot] = {}
        self.last_lines = -math.inf

    def show(self, snapshot: Snapshot) -> None:
        if snapshot.done:
            self.running.pop(snapshot.label, None)
            self.terminal.line(snapshot.text())
            return
        self.running[snapshot.label] = snapshot
        if self.tty:
            self.terminal.rewrite(snapshot.text())
            return
        now = self.clock()
        if now - self.last_lines >= self.interval:
            self.last_lines = now
            for running in self.running.values():
                self.terminal.line(running.text())
