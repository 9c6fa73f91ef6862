"""``bias-gate power`` run for real."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bias_gate import stats
from bias_gate.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["power", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_unpaired_items_for_h_02(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(["--h", "0.2"], capsys)
    assert result["items_unpaired_per_group"] == 393
    assert result["items_paired"] is None and result["paired_method"] is None
    assert (result["alpha"], result["power"]) == (0.05, 0.8)


def test_paired_by_correlation_and_by_discordance(capsys: pytest.CaptureFixture[str]) -> None:
    by_r = run_json(["--h", "0.2", "--paired", "--correlation", "0.5", "--n", "200"], capsys)
    assert by_r["items_paired"] == 197 and by_r["paired_method"] == "correlation"
    assert by_r["min_detectable_h_paired"] == pytest.approx(
        stats.min_detectable_h_paired_correlation(200, 0.5)
    )
    by_psi = run_json(["--h", "0.2", "--discordance", "0.3"], capsys)
    assert by_psi["items_paired"] == stats.required_n_mcnemar_for_h(0.2, 0.3)
    assert by_psi["items_paired"] < 393  # pairing helps at this discordance
    with_baseline = run_json(["--h", "0.2", "--discordance", "0.3", "--baseline", "0.1"], capsys)
    assert with_baseline["items_paired"] > by_psi["items_paired"]


def test_min_detectable_h_at_n(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(["--n", "393", "--alpha", "0.05", "--power", "0.8"], capsys)
    assert result["items_unpaired_per_group"] is None
    assert 0.19 < result["min_detectable_h_unpaired"] <= 0.2


def test_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["power", "--h", "0.2", "--correlation", "0.5", "--n", "200"]) == 0
    out = capsys.readouterr().out
    assert "393 items per group" in out
    assert "197 paired items" in out
    assert "n = 200: minimum detectable |h| 0.2802" in out


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give --h"),
        (["--h", "0.2", "--paired"], "needs --correlation R or --discordance PSI"),
        (["--h", "0.2", "--baseline", "0.3"], "only applies with --discordance"),
        (["--h", "0.2", "--correlation", "1.0"], "correlation must be in (-1, 1)"),
        (["--h", "0.5", "--discordance", "0.1"], "below the discordance"),
        (["--n", "1"], "at least 2"),
    ],
)
def test_bad_arguments_give_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["power", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_correlation_and_discordance_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["power", "--h", "0.2", "--correlation", "0.5", "--discordance", "0.3"])
    assert exit_info.value.code == 2
    assert "not allowed with" in capsys.readouterr().err


def test_subprocess_python_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bias_gate", "power", "--h", "0.2", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["items_unpaired_per_group"] == 393
