"""``bias-gate bbq export`` run for real: as a subprocess and through cli.main."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bias_gate.cli import main
from bias_gate.config.schema import DataSpec
from bias_gate.data.loader import load_items

REQUIRED_KEYS = {
    "category",
    "example_id",
    "question_index",
    "question_polarity",
    "context_condition",
    "label",
    "unknown_index",
    "biased_index",
    "stereotyped_index",
}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_subprocess_export_matches_what_the_gate_selects(bbq_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "items.jsonl"
    command = [sys.executable, "-m", "bias_gate", "bbq", "export", "--source", str(bbq_dir)]
    command += ["--category", "Religion", "--category", "Age", "--limit", "30", "--seed", "5"]
    command += ["--output", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    rows = read_jsonl(out)
    assert len(rows) == 60
    assert all(row.keys() >= REQUIRED_KEYS for row in rows)
    spec = DataSpec(
        source=str(bbq_dir), categories=["Religion", "Age"], items_per_category=30, seed=5
    )
    expected = load_items(spec)
    assert [(r["category"], r["example_id"]) for r in rows] == [
        (i.category, i.example_id) for i in expected.items
    ]
    assert [r["biased_index"] for r in rows] == [i.biased_index for i in expected.items]
    assert expected.fingerprint in done.stderr
    for row in rows:
        if row["context_condition"] == "ambig":
            assert row["label"] == row["unknown_index"]


def test_main_condition_filter_and_stdout(
    bbq_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["bbq", "export", "--source", str(bbq_dir)]
    code = main([*base, "--category", "Sexual_orientation", "--condition", "ambig"])
    assert code == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 432
    assert Counter(r["context_condition"] for r in rows) == {"ambig": 432}
    nonneg = [r for r in rows if r["question_polarity"] == "nonneg"]
    assert len(nonneg) == 216
    assert all(r["biased_index"] != r["stereotyped_index"] for r in nonneg)
    assert all(r["biased_index"] == r["stereotyped_index"] for r in rows if r not in nonneg)


def test_default_categories_are_those_in_the_folder(
    bbq_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "all.jsonl"
    code = main(["bbq", "export", "--source", str(bbq_dir), "--limit", "8", "--output", str(out)])
    assert code == 0
    counts = Counter(r["category"] for r in read_jsonl(out))
    assert counts == {
        "Age": 8,
        "Disability_status": 8,
        "Nationality": 8,
        "Physical_appearance": 8,
        "Religion": 8,
        "Sexual_orientation": 8,
    }


def test_missing_file_is_one_line_exit_2(bbq_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["bbq", "export", "--source", str(bbq_dir), "--category", "Race_x_SES"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bias-gate: error: ") and "Race_x_SES.jsonl" in err
    assert "\n" not in err


def test_unknown_category_is_rejected_by_the_parser(bbq_dir: Path) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    command = [sys.executable, "-m", "bias_gate", "bbq", "export", "--source", str(bbq_dir)]
    done = subprocess.run(
        [*command, "--category", "Height"], capture_output=True, text=True, timeout=120, env=env
    )
    assert done.returncode == 2
    assert "invalid choice: 'Height'" in done.stderr
    assert "Traceback" not in done.stderr


def test_official_source_on_a_partial_mirror_exports_what_it_holds(
    bbq_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """``--source official`` with $BIAS_GATE_DATA_DIR holding two categories: the default
    is every category the mirror has; asking for a missing one names the environment
    variable the command reads (not only a pytest flag it does not have)."""
    mirror = tmp_path / "mirror" / "bbq"
    mirror.mkdir(parents=True)
    for category in ("Age", "Religion"):
        (mirror / f"{category}.jsonl").write_bytes((bbq_dir / f"{category}.jsonl").read_bytes())
    monkeypatch.setenv("BIAS_GATE_DATA_DIR", str(mirror.parent))
    out = tmp_path / "items.jsonl"
    code = main(["bbq", "export", "--source", "official", "--limit", "4", "--output", str(out)])
    first = capsys.readouterr().err
    assert code == 0, first
    assert Counter(r["category"] for r in read_jsonl(out)) == {"Age": 4, "Religion": 4}
    code = main(["bbq", "export", "--source", "official", "--category", "Nationality"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in err
    assert "Nationality.jsonl" in err and "BIAS_GATE_DATA_DIR" in err
