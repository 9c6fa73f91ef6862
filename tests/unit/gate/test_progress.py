"""The progress tracker's numbers (rate, ETA, throttling) and the view's line policy,
on a controlled clock; the model-loading bar turned into progress reports."""

from __future__ import annotations

import importlib

import pytest

from bias_gate.gate.progress import ProgressTracker, ProgressView, Snapshot, duration
from bias_gate.models.load_progress import GGUF_MODULE, gguf_tensor_progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Lines:
    def __init__(self) -> None:
        self.written: list[tuple[str, str]] = []

    def rewrite(self, text: str) -> None:
        self.written.append(("rewrite", text))

    def line(self, text: str) -> None:
        self.written.append(("line", text))


def test_duration():
    seconds = (0, 7.4, 65, 3599, 7380)
    assert [duration(s) for s in seconds] == ["0s", "7s", "1m05s", "59m59s", "2h03m"]


def test_rate_and_eta_count_only_answers_computed_in_this_run():
    clock, sent = Clock(), []
    tracker = ProgressTracker(sent.append, clock, min_gap=1.0)
    tracker.start("m.yaml::int8", planned=200)
    assert sent == []  # the first stage is sent, not the start
    tracker.stage("compressing")
    tracker.look(1, 4)
    tracker.answered(40, fresh=False)  # within min_gap of the stage: counted, not sent
    assert sent[-1].stage == "answering look 1/4" and sent[-1].answered == 0
    clock.now += 1
    tracker.answered(0, fresh=False)  # read from the cache: no rate yet
    assert sent[-1].answered == 40 and sent[-1].rate is None and sent[-1].eta is None
    clock.now += 9
    tracker.answered(20)  # 20 computed in the 10 s since the look started
    last = sent[-1]
    assert (last.answered, last.rate, last.eta) == (60, 2.0, 70.0)
    assert last.text() == (
        "bias-gate m.yaml::int8: answering look 1/4, 60/200 items, 2.0 items/s, ETA 1m10s"
    )
    clock.now += 0.5
    tracker.answered(1)  # within min_gap: counted, not sent
    assert sent[-1] is last and tracker.answered_items == 61
    tracker.look(2, 4)  # a stage is always sent
    assert sent[-1].stage == "answering look 2/4" and sent[-1].answered == 61
    clock.now += 4.5
    tracker.finish()
    assert sent[-1].done and sent[-1].text() == "bias-gate m.yaml::int8: done, 61/200 items in 15s"
    tracker.stage("perplexity")  # no config running: nothing
    assert sent[-1].done


def test_a_tracker_without_a_sender_only_counts():
    tracker = ProgressTracker(None)
    tracker.start("m.yaml::int8", 10)
    tracker.answered(3)
    assert tracker.snapshot().answered == 3


def _snap(label: str, stage: str) -> Snapshot:
    return Snapshot(label, stage, 1, 10, 2.0)


def test_a_terminal_gets_one_rewritten_line_and_each_finished_config_a_line():
    lines = Lines()
    view = ProgressView(lines, tty=True, interval=30, clock=Clock())
    view.show(_snap("m::a", "compressing"))
    view.show(_snap("m::a", "perplexity"))
    view.show(_snap("m::a", "done"))
    assert [kind for kind, _ in lines.written] == ["rewrite", "rewrite", "line"]
    assert lines.written[-1][1].startswith("bias-gate m::a: done")


def test_elsewhere_a_line_per_running_config_every_interval():
    lines, clock = Lines(), Clock()
    view = ProgressView(lines, tty=False, interval=30, clock=clock)
    view.show(_snap("m::a", "compressing"))  # the first at once
    clock.now += 10
    view.show(_snap("m::b", "loading"))
    view.show(_snap("m::a", "perplexity"))
    assert [text for _, text in lines.written] == ["bias-gate m::a: compressing, 1/10 items"]
    clock.now += 20
    view.show(_snap("m::a", "answering look 1/4"))
    assert [text for _, text in lines.written[1:]] == [
        "bias-gate m::a: answering look 1/4, 1/10 items",
        "bias-gate m::b: loading, 1/10 items",
    ]
    view.show(_snap("m::b", "done"))  # always, at once
    assert lines.written[-1] == ("line", "bias-gate m::b: done, 1/10 items in 2s")
    assert all(kind == "line" for kind, _ in lines.written)


def test_snapshots_cross_as_json():
    snapshot = Snapshot("m::a", "answering look 1/2", 5, 10, 3.0, 1.5, 3.3)
    assert Snapshot.from_json(snapshot.to_json()) == snapshot


def test_the_gguf_loading_bar_reports_instead_of_drawing():
    transformers_gguf = pytest.importorskip(GGUF_MODULE)
    module = importlib.import_module(GGUF_MODULE)
    original = module.tqdm
    seen: list[tuple[int, int]] = []
    with gguf_tensor_progress(lambda done, total: seen.append((done, total))):
        assert module.tqdm is not original
        # transformers' loop: for tensor in tqdm(reader.tensors, desc="..."): ...
        assert list(module.tqdm(["a", "b", "c"], desc="Converting")) == ["a", "b", "c"]
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert transformers_gguf.tqdm is original


def test_a_config_ended_by_an_error_leaves_its_line_and_stops_repeating():
    clock, lines = Clock(), Lines()
    view = ProgressView(lines, tty=False, interval=30, clock=clock)
    tracker = ProgressTracker(view.show, clock)
    tracker.start("m::a", 10)
    tracker.stage("compressing")
    tracker.finish("stopped")
    assert lines.written[-1] == ("line", "bias-gate m::a: stopped, 0/10 items in 0s")
    assert view.running == {}  # not printed again at the next interval
