"""The CI demo job's success criterion (scripts/check_smoke.py), run as CI runs it on
results JSON files: perplexity failures allowed, a FAIL for lack of data never."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.support.reports import make_results

SCRIPT = ROOT / "scripts" / "check_smoke.py"


def _check(tmp_path: Path, results, *args: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "results.json"
    results.write(path)
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(path), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def _only_perplexity_fails():
    results = make_results()
    for item in results.items():
        if item.verdict == "fail":
            item.verdict = "warn"
            item.decision = "inconclusive"
            item.reason_category = "too few items"
    return results


def test_perplexity_failures_and_warnings_pass_the_job(tmp_path):
    done = _check(tmp_path, _only_perplexity_fails(), "--allow-fail", "perplexity")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["FAIL", "perplexity"]
    assert any(line.split()[:4] == ["WARN", "too", "few", "items"] for line in lines)


def test_a_fail_for_lack_of_data_fails_the_job(tmp_path):
    results = _only_perplexity_fails()
    item = results.configs[-1].items[1]
    item.verdict, item.reason_category = "fail", "too few items"  # e.g. on_inconclusive: fail
    done = _check(tmp_path, results, "--allow-fail", "perplexity")
    assert done.returncode == 1
    assert "int8::Gender_identity FAILed for lack of data" in done.stderr


def test_an_unexpected_kind_of_failure_fails_the_job(tmp_path):
    done = _check(tmp_path, make_results(), "--allow-fail", "perplexity")
    assert done.returncode == 1
    assert "wanda-50::Age FAILed on 'bias amplified'" in done.stderr
