"""The benchmarks run end to end on the real model (tiny sizes) and print their figures.

Their figures are never asserted (timed tests would be flaky); this only keeps the
scripts working and their output in the documented shape.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT, SHARED_DATA

pytestmark = pytest.mark.slow


def _run(args: list[str]) -> str:
    env = {**os.environ, "BIAS_GATE_DATA_DIR": str(SHARED_DATA)}
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_answering_benchmark_prints_its_figures_and_last_line(bbq_dir):
    out = _run(
        [
            "benchmarks/bench_answering.py",
            "--n",
            "6",
            "--study-n",
            "1",
            "--validity-n",
            "6",
            "--bbq",
            str(bbq_dir),
            "--max-batch-tokens",
            "256",
        ]
    )
    lines = out.strip().splitlines()
    assert re.fullmatch(
        r"ratio_vs_generate=\d+\.\d+ permuted_items_per_s=\d+\.\d+ ceiling_fraction=\d+\.\d+",
        lines[-1],
    ), lines[-1]
    for mode in (
        "letter",
        "permuted",
        "continuation",
        "generate (greedy, engine)",
        "generate (T=0.3, 5 seeds, engine)",
    ):
        assert any(line.startswith(mode) for line in lines), mode
        assert any(f"peak while answering, {mode}" in line for line in lines), mode
    assert "budget 256 tokens per forward pass" in out
    assert re.search(r"over the pre-model runtime \(weights \+ answering\): [\d.]+ GiB", out)


def test_compression_benchmark_prints_a_row_per_config(tmp_path):
    target = tmp_path / "rows.json"
    out = _run(
        [
            "benchmarks/bench_compression.py",
            "--windows",
            "2",
            "--window",
            "64",
            "--only",
            "dense",
            "rtn-int8",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--json",
            str(target),
        ]
    )
    assert "| dense | dense |" in out and "| rtn-int8 | rtn |" in out
    rows = json.loads(target.read_text())
    assert [r["name"] for r in rows] == ["dense", "rtn-int8"]
    assert all(r["perplexity"] > 1 for r in rows)
