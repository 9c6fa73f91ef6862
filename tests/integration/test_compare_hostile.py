"""Finding 8 of issue 26: ``bias-gate compare`` on hostile answer files: invalid UTF-8,
an enormous example_id and deep nesting are one line and exit 2 (bad input), never a
traceback and exit 1 (which means "a config failed"); a config name holding a workflow
command is printed as data."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bias_gate.cli import main
from tests.conftest import ROOT
from tests.integration.test_compare_cmd import age_items, answer_files  # noqa: F401 (fixtures)
from tests.support.hostile import INJECTED, assert_no_injection

GOOD = b'{"category": "Age", "example_id": 0, "answer": 1}\n'


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (GOOD + b'{"category": "Age", "example_id": 1, "answer": "\xff\xfe"}\n', ":2: not UTF-8"),
        (GOOD + b'{"category": "Age", "example_id": ' + b"9" * 5000 + b', "answer": 1}\n', ":2: "),
        (GOOD + b'{"category": "Age", "example_id": ' + b"9" * 200 + b', "answer": 1}\n', ":2: "),
        (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000 + b"\n", ":1: JSON nested too deeply"),
        (b"[" * 100_000 + b"]" * 100_000 + b"\n", ":1: JSON nested too deeply"),
        (b'{"category": ["Age"], "example_id": 0, "answer": 1}\n', ":1: category: must be a"),
    ],
)
def test_hostile_answers_are_one_line_exit_2(tmp_path, content, message):
    """Run as a user runs it: a real process, its exit status and its stderr."""
    dense = tmp_path / "dense.jsonl"
    dense.write_bytes(content)
    command = [sys.executable, "-m", "bias_gate", "compare", "--source", str(tmp_path)]
    command += ["--dense", str(dense), "--compressed", str(dense)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert f"dense.jsonl{message}" in done.stderr


def test_a_config_name_holding_a_command_is_printed_as_data(answer_files, bbq_dir, capsys):  # noqa: F811
    dense, compressed, root = answer_files
    hostile = root / "hostile.jsonl"
    rows = [json.loads(line) for line in compressed.read_text().splitlines()]
    rows = [dict(row, config="same" + INJECTED) for row in rows if row["config"] == "same"]
    hostile.write_text("".join(json.dumps(row) + "\n" for row in rows))
    args = ["compare", "--source", str(bbq_dir), "--dense", str(dense), "--compressed"]
    assert main([*args, str(hostile)]) == 0
    out = capsys.readouterr().out
    assert "injected-from-bbq-data" in out
    assert_no_injection(out)


def test_an_unwritable_json_path_is_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "afile").write_text("x")
    dense = tmp_path / "dense.jsonl"
    dense.write_bytes(GOOD)
    args = ["compare", "--source", str(tmp_path), "--dense", str(dense), "--compressed"]
    assert main([*args, str(dense), "--json", str(tmp_path / "afile" / "v.json")]) == 2
    err = capsys.readouterr().err
    assert "--json: cannot write" in err and len(err.strip().splitlines()) == 1
