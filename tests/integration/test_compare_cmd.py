"""``bias-gate compare`` run for real on the official BBQ files, with answers whose
effect is known: an unchanged model passes, a model pushed toward the bias fails, and
bad input is one line naming file and line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bias_gate.cli import main
from bias_gate.data.sources import DirectorySource
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def age_items(bbq_dir):
    items = DirectorySource(bbq_dir).load("Age")
    ambiguous = [i for i in items if i.is_ambiguous and i.biased_index is not None][:400]
    disambiguated = [i for i in items if not i.is_ambiguous][:200]
    return ambiguous + disambiguated


def _rows(items, choose) -> list[dict]:
    return [
        {"category": item.category, "example_id": item.example_id, "answer": choose(item)}
        for item in items
    ]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


@pytest.fixture(scope="module")
def answer_files(tmp_path_factory, age_items):
    """Dense: right on disambiguated items, biased on 30% of the ambiguous ones.
    'same' repeats it; 'pushed' turns 40% of the unbiased ambiguous answers biased."""
    root = tmp_path_factory.mktemp("compare")
    rng = np.random.default_rng(3)
    biased = {item.key: rng.random() < 0.3 for item in age_items}
    pushed = {item.key: biased[item.key] or rng.random() < 0.4 for item in age_items}

    def dense(item):
        if not item.is_ambiguous:
            return item.label
        return item.biased_index if biased[item.key] else item.unknown_index

    def compressed(item):
        if not item.is_ambiguous:
            return "ABC"[item.label]  # letters are accepted too
        return item.biased_index if pushed[item.key] else item.unknown_index

    def same(item):  # the dense answers, disambiguated ones as option text (alias key)
        row = {"category": item.category, "example_id": item.example_id, "config": "same"}
        if item.is_ambiguous:
            return {**row, "answer": dense(item)}
        return {**row, "prediction": item.answers[dense(item)].upper() + "."}

    dense_path = _write(root / "dense.jsonl", _rows(age_items, dense))
    rows = [same(item) for item in age_items]
    rows += [dict(row, config="pushed") for row in _rows(age_items, compressed)]
    return dense_path, _write(root / "compressed.jsonl", rows), root


def test_an_unchanged_config_passes_and_a_pushed_one_fails(answer_files, bbq_dir, capsys):
    dense, compressed, root = answer_files
    out = root / "verdicts.json"
    code = main(
        [
            "compare",
            "--source",
            str(bbq_dir),
            "--dense",
            str(dense),
            "--compressed",
            str(compressed),
            "--json",
            str(out),
        ]
    )
    assert code == 1  # a config failed
    document = json.loads(out.read_text())
    by_name = {config["name"]: config["items"] for config in document["configs"]}
    (same,) = by_name["same"]
    (pushed,) = by_name["pushed"]
    assert (same["category"], same["verdict"], same["cohens_h"]) == ("Age", "pass", 0.0)
    assert same["h_ci"][1] <= 0.2 and same["n"] == 400
    assert pushed["verdict"] == "fail" and pushed["h_ci"][0] > 0
    assert pushed["p_value"] < 0.001
    assert document["dense"]["informative"] is True
    text = capsys.readouterr().out
    assert "same" in text and "FAIL" in text


def test_exit_zero_without_failures_and_no_torch(answer_files, bbq_dir, tmp_path):
    dense, compressed, _ = answer_files
    same_only = tmp_path / "same.jsonl"
    same_only.write_text(
        "".join(line + "\n" for line in compressed.read_text().splitlines() if '"same"' in line)
    )
    probe = (
        "import sys; from bias_gate.cli import main; "
        f"code = main(['compare', '--source', {str(bbq_dir)!r}, '--dense', {str(dense)!r}, "
        f"'--compressed', {str(same_only)!r}]); "
        "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "PASS" in result.stdout


def test_configs_judged_in_two_processes_give_the_same_results(answer_files, bbq_dir):
    """--jobs 2 judges the configs in two spawned processes; the results are those of
    one process (the flips file has the same content under its own name)."""
    dense, compressed, root = answer_files
    written = {}
    for jobs in ("1", "2"):
        out = root / f"jobs-{jobs}.json"
        arguments = ["compare", "--source", str(bbq_dir), "--dense", str(dense)]
        arguments += ["--compressed", str(compressed), "--json", str(out), "--jobs", jobs]
        assert main(arguments) == 1
        written[jobs] = json.loads(out.read_text())
        flips = written[jobs].pop("flips_file")
        assert flips["name"] == f"jobs-{jobs}.flips.jsonl"
        written[jobs]["flips_sha256"] = flips["sha256"]
    assert [c["name"] for c in written["2"]["configs"]] == ["same", "pushed"]
    assert written["2"] == written["1"]


@pytest.mark.parametrize("jobs", ["0", "-1", "many"])
def test_a_bad_job_count_is_a_usage_error(answer_files, bbq_dir, jobs, capsys):
    dense, compressed, _ = answer_files
    with pytest.raises(SystemExit) as stop:
        main(["compare", "--dense", str(dense), "--compressed", str(compressed), "--jobs", jobs])
    assert stop.value.code == 2
    assert f"--jobs takes 'auto' or a count >= 1, got {jobs!r}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"category": "Age", "example_id": 999999, "answer": 1}', "unknown example_id 999999"),
        ('{"category": "Age", "example_id": 0, "answer": 3}', "answer: 3 is not an answer"),
        ('{"category": "Age", "example_id": 0, "answer": "D"}', "'D' names no option of Age/0"),
        ('{"category": "Age", "example_id": 0, "answer": "the nurse"}', "names no option"),
        ('{"category": "Age", "example_id": 0}', "answer: no answer; give one of them"),
        ('{"category": "Age", "example_id": 0, "answer": 1, "prediction": 1}', "both answer"),
        ("not json", "not valid JSON"),
        ('{"category": "Nope", "example_id": 0, "answer": 1}', "unknown category 'Nope'"),
    ],
)
def test_bad_dense_rows_are_one_line_errors(tmp_path, bbq_dir, answer_files, capsys, line, message):
    _, compressed, _ = answer_files
    dense = tmp_path / "dense.jsonl"
    dense.write_text('{"category": "Age", "example_id": 1, "answer": 2}\n' + line + "\n")
    code = main(
        [
            "compare",
            "--source",
            str(bbq_dir),
            "--dense",
            str(dense),
            "--compressed",
            str(compressed),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and f"{dense}:2" in err and "\n" not in err


def test_duplicates_and_uncovered_items_are_refused(tmp_path, bbq_dir, age_items, capsys):
    dense = _write(tmp_path / "dense.jsonl", _rows(age_items[:3], lambda item: 2))
    duplicate = _write(
        tmp_path / "dup.jsonl",
        _rows(age_items[:3], lambda item: 2) + _rows(age_items[:1], lambda i: 0),
    )
    assert (
        main(
            [
                "compare",
                "--source",
                str(bbq_dir),
                "--dense",
                str(dense),
                "--compressed",
                str(duplicate),
            ]
        )
        == 2
    )
    assert "second answer to Age/" in capsys.readouterr().err
    short = _write(tmp_path / "short.jsonl", _rows(age_items[:2], lambda item: 2))
    assert (
        main(
            ["compare", "--source", str(bbq_dir), "--dense", str(dense), "--compressed", str(short)]
        )
        == 2
    )
    assert "lacks answers to 1 items" in capsys.readouterr().err
