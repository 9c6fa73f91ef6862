"""Live progress in real gate runs (pytester on a tiny random Llama): lines per config
with stage, items answered / planned, items/s and ETA; one line updated in place on a
terminal; plain lines at the interval elsewhere; none under -q; the outcomes unchanged.
Workers reporting through the xdist controller: test_gate_run.py's xdist test."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.gate import save_tiny_model, write_crafted_bbq

pytest_plugins = ["pytester"]

CONFIG = """\
model:
  path: {model}
data:
  source: {data}
  categories: [Age]
  items_per_category: 48
compressions:
  - {{name: int8, method: rtn, bits: 8}}
scoring:
  mode: continuation
  batch_size: 8
perplexity:
  corpus: {corpus}
  window: 64
  windows: 2
thresholds:
  profile: default
  overrides:
    validity: {{max_disambig_pvalue: 1.0, max_letter_share: 1.0}}
"""

LINE = re.compile(r"^bias-gate tiny\.yaml::int8: (.*)$", re.M)


@pytest.fixture(scope="module")
def material(tmp_path_factory, tiny_llama, wikitext_dir) -> Path:
    root = tmp_path_factory.mktemp("progress")
    model = save_tiny_model(tiny_llama, root / "tiny-llama")
    write_crafted_bbq(root / "bbq", templates=24)
    text = CONFIG.format(model=model, data=root / "bbq", corpus=wikitext_dir / "test.txt")
    (root / "tiny.yaml").write_text(text, encoding="utf-8")
    return root / "tiny.yaml"


def _args(config: Path, cache: Path, *extra: str) -> list[str]:
    return [
        "--bias-gate",
        str(config),
        "--bias-gate-cache-dir",
        str(cache),
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::DeprecationWarning",
        *extra,
    ]


def _run(
    pytester: pytest.Pytester, material: Path, *extra: str, cache: Path | None = None
) -> pytest.RunResult:
    """A gate run in this process (cheap: torch is imported already); not a terminal."""
    config = pytester.path / "tiny.yaml"
    config.write_text(material.read_text(encoding="utf-8"), encoding="utf-8")
    return pytester.runpytest_inprocess(*_args(config, cache or pytester.path / "cache", *extra))


def test_plain_lines_with_stage_items_rate_and_eta(pytester, material):
    result = _run(pytester, material, "--bias-gate-progress-interval", "0")
    result.assert_outcomes(passed=2)
    stages = LINE.findall(result.stdout.str())
    assert stages[0].startswith("loading the dense model, 0/48 items"), stages
    names = [stage.split(",")[0] for stage in stages]
    for expected in ("dense baseline", "compressing", "perplexity", "answering look 1/1"):
        assert expected in names, names
    answering = [s for s in stages if s.startswith("answering look") and "items/s" in s]
    assert answering, stages
    assert re.fullmatch(r"answering look 1/1, \d+/48 items, [\d.]+ items/s, ETA \d+s", answering[0])
    assert re.fullmatch(r"done, \d+/48 items in \d+s", stages[-1]), stages
    assert "\r" not in result.stdout.str()  # not a terminal: whole lines only


def test_the_interval_spaces_the_lines_and_quiet_removes_them(pytester, material):
    cache = material.parent / "cache"  # shared by both runs: the second reads answers
    result = _run(pytester, material, "--bias-gate-progress-interval", "3600", cache=cache)
    result.assert_outcomes(passed=2)
    stages = LINE.findall(result.stdout.str())
    # The first line at once, then none within the hour but the config's last line.
    assert len(stages) == 2 and stages[0].startswith("loading the dense model"), stages
    assert stages[1].startswith("done, ")

    quiet = _run(pytester, material, "-q", "--bias-gate-progress-interval", "0", cache=cache)
    quiet.assert_outcomes(passed=2)
    assert "bias-gate tiny.yaml::" not in quiet.stdout.str()


def test_one_updating_line_on_a_terminal(pytester, material):
    """A real terminal (a pty): one line rewritten in place. (Through the xdist
    controller: test_gate_run.py::test_xdist_run_equals_serial_run.)"""
    config = pytester.path / "tiny.yaml"
    config.write_text(material.read_text(encoding="utf-8"), encoding="utf-8")
    args = [sys.executable, "-m", "pytest", *_args(config, pytester.path / "cache")]
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "160"}
    process = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower, cwd=pytester.path, env=env
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closes when the run ends
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(timeout=300) == 0
    os.close(leader)
    output = b"".join(chunks).decode("utf-8", "replace")
    assert "2 passed" in output, output
    rewritten = re.findall(r"\rbias-gate tiny\.yaml::int8: ([^\r\n]*)", output)
    assert any(s.startswith("answering look 1/1") for s in rewritten), output
    assert any("items/s" in s for s in rewritten), output
    # Every stage before the last rewrote the same line; only the last one ends it.
    assert len(re.findall(r"bias-gate tiny\.yaml::int8: [^\r\n]*\r?\n", output)) == 1, output
    assert re.search(r"bias-gate tiny\.yaml::int8: done, \d+/48 items", output)
