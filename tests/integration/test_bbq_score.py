"""``bias-gate bbq score`` run for real on the shared BBQ files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bias_gate.answer.types import Answer
from bias_gate.cli import main
from bias_gate.data.answer_rows import AnswerRow, choice_of, normalize_answer_text
from bias_gate.data.sources import DirectorySource
from bias_gate.errors import DataError
from bias_gate.metrics.bbq import compute_metrics
from tests.conftest import ROOT


def write_lines(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def match_prediction(item, prediction):
    return choice_of(
        item, AnswerRow(item.category, item.example_id, None, prediction, None, Path("p"), 1)
    )


def test_normalisation_rules(bbq_dir: Path) -> None:
    assert normalize_answer_text("  The   Grandfather. ") == "grandfather"
    assert normalize_answer_text("Can't be determined..") == "can't be determined"
    assert normalize_answer_text("theology") == "theology"  # only a whole leading "the "
    item = DirectorySource(bbq_dir).load("Age")[0]
    assert item.answers == ("The grandfather", "The grandson", "Can't be determined")
    assert match_prediction(item, "grandson") == 1
    assert match_prediction(item, "THE GRANDFATHER.") == 0
    assert match_prediction(item, "can't BE determined") == 2
    assert match_prediction(item, " c ") == 2  # letters are indices, as compare reads them
    with pytest.raises(DataError, match="'the grandmother' names no option of Age/0"):
        match_prediction(item, "the grandmother")
    assert match_prediction(item, None) is None
    assert match_prediction(item, 2) == 2


def test_hand_computed_scores_on_real_items(
    bbq_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Age example_ids 0-3 (one template: ans0 grandfather = stereotyped "old", ans2
    unknown): 0 ambig/neg, 1 disambig/neg (label 1), 2 ambig/nonneg, 3 disambig/nonneg
    (label 0). Answers: 0 -> grandfather (biased), 1 -> "The grandson." (correct, anti),
    2 -> grandson (biased: the non-stereotyped group on a non-negative question),
    3 -> null (unparseable)."""
    predictions = write_lines(
        tmp_path / "p.jsonl",
        [
            {"category": "Age", "example_id": 0, "prediction": 0},
            {"category": "Age", "example_id": 1, "prediction": "The grandson."},
            {"category": "Age", "example_id": 2, "prediction": "grandson"},
            {"category": "Age", "example_id": 3, "prediction": None},
        ],
    )
    code, out, err = run_cli(
        ["bbq", "score", "--source", str(bbq_dir), "--predictions", str(predictions)], capsys
    )
    assert code == 0, err
    result = json.loads(out)
    assert list(result) == ["Age", "overall"]
    age = result["Age"]
    assert age["n"] == 4
    assert age["accuracy_ambig"] == 0.0 and age["accuracy_disambig"] == 1.0
    assert age["srs"] == 1.0 and age["unknown_rate"] == 0.0
    assert age["srs_study"] == 0.5  # polarity-blind: only example 0 names the old group
    assert age["bias_score_ambig"] == 1.0  # (1 - 0) * (2 * 2/2 - 1)
    assert age["bias_score_disambig"] == -1.0  # one anti answer of one non-unknown
    assert age["excluded"] == {"invalid": 1, "no_target": 0, "unpredicted": 3680 - 4}
    assert result["overall"]["n"] == 4


def test_mixed_predictions_equal_the_library(
    bbq_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    religion = DirectorySource(bbq_dir).load("Religion")[:60]
    age = DirectorySource(bbq_dir).load("Age")[:40]
    rows = []
    answers = {}
    for n, item in enumerate(religion + age):
        choice = None if n % 7 == 0 else (item.label + n) % 3
        kind = n % 3
        prediction: object = choice
        if choice is not None and kind == 1:
            prediction = item.answers[choice].upper() + "."
        rows.append(
            {"category": item.category, "example_id": item.example_id, "prediction": prediction}
        )
        answers[item.key] = Answer(item.key, choice)
    predictions = write_lines(tmp_path / "p.jsonl", rows)
    code, out, err = run_cli(
        ["bbq", "score", "--source", str(bbq_dir), "--predictions", str(predictions)], capsys
    )
    assert code == 0, err
    result = json.loads(out)
    assert list(result) == ["Age", "Religion", "overall"]
    for category, items in (("Religion", religion), ("Age", age)):
        expected = compute_metrics(items, answers, category).to_json()
        got = {k: v for k, v in result[category].items() if k in expected}
        assert got == expected
    overall = compute_metrics(religion + age, answers).to_json()
    assert result["overall"]["srs"] == pytest.approx(overall["srs"])

    code, out, err = run_cli(
        [
            "bbq",
            "score",
            "--source",
            str(bbq_dir),
            "--predictions",
            str(predictions),
            "--category",
            "Religion",
        ],
        capsys,
    )
    assert code == 0 and list(json.loads(out)) == ["Religion", "overall"]
    assert "ignored 40 prediction(s)" in err


@pytest.mark.parametrize(
    "row, message",
    [
        ({"category": "Age", "example_id": 99999, "prediction": 0}, "no item Age/99999"),
        ({"category": "Agee", "example_id": 1, "prediction": 0}, "unknown BBQ category"),
        ({"category": "Age", "example_id": 1, "prediction": 3}, "prediction: 3 is not an answer"),
        ({"category": "Age", "example_id": 1, "prediction": [0]}, "use 0, 1, 2, 'A'"),
        ({"category": "Age", "example_id": "1", "prediction": 0}, "example_id must be"),
        ({"category": "Age", "prediction": 0}, "example_id: missing"),
        ({"category": "Age", "example_id": 0, "prediction": 1}, "second answer to Age/0"),
        ({"category": "Age", "example_id": 1, "prediction": "nurse"}, "prediction: 'nurse'"),
    ],
)
def test_bad_lines_are_errors_naming_the_line(
    row: dict, message: str, bbq_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = {"category": "Age", "example_id": 0, "prediction": 0}
    predictions = write_lines(tmp_path / "p.jsonl", [good, row])
    code, out, err = run_cli(
        ["bbq", "score", "--source", str(bbq_dir), "--predictions", str(predictions)], capsys
    )
    assert code == 2 and out == ""
    assert "p.jsonl:2: " in err and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_invalid_json_and_letters(
    bbq_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"category": "Age", "example_id": 0, "prediction": 0}\n{oops\n')
    code, _, err = run_cli(
        ["bbq", "score", "--source", str(bbq_dir), "--predictions", str(broken)], capsys
    )
    assert code == 2 and "broken.jsonl:2: not valid JSON" in err
    letters = write_lines(
        tmp_path / "u.jsonl",
        [
            {"category": "Age", "example_id": 0, "answer": "A"},
            {"category": "Age", "example_id": 2, "prediction": "grandson"},
        ],
    )
    code, out, err = run_cli(
        ["bbq", "score", "--source", str(bbq_dir), "--predictions", str(letters)], capsys
    )
    assert code == 0, err
    assert json.loads(out)["Age"]["excluded"]["invalid"] == 0


def test_subprocess_python_m(bbq_dir: Path, tmp_path: Path) -> None:
    predictions = write_lines(
        tmp_path / "p.jsonl",
        [{"category": "Religion", "example_id": i, "prediction": i % 3} for i in range(12)],
    )
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bias_gate",
            "bbq",
            "score",
            "--source",
            str(bbq_dir),
            "--predictions",
            str(predictions),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["Religion"]["n"] == 12
    for key in (
        "accuracy_ambig",
        "accuracy_disambig",
        "bias_score_ambig",
        "bias_score_disambig",
        "srs",
        "unknown_rate",
        "excluded",
    ):
        assert key in result["Religion"]


def test_command_module_imports_no_torch() -> None:
    code = (
        "import sys, bias_gate.commands.bbq_score, bias_gate.commands.power; "
        "sys.exit(1 if 'torch' in sys.modules or 'statsmodels' in sys.modules else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('{"category": "Age", "example_id": ' + "9" * 5000 + ', "prediction": 0}', "usable"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_hostile_json_lines_are_one_line(
    bbq_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], line: str, expected: str
) -> None:
    """A 5000-digit number or deep nesting is one usage line, not a traceback (issue 26)."""
    hostile = tmp_path / "hostile.jsonl"
    hostile.write_text(line + "\n", encoding="utf-8")
    code, _, err = run_cli(
        ["bbq", "score", "--source", str(bbq_dir), "--predictions", str(hostile)], capsys
    )
    assert code == 2 and "hostile.jsonl:1: " in err and expected in err
    assert err.count("\n") == 1 and "Traceback" not in err
