"""Finding 7 of issue 26: ``bias-gate report`` and ``--merge`` check a results JSON
against its schema before writing anything; a tampered file is one line naming the file
and the field, exit 2, and no output is written."""

from __future__ import annotations

import copy
import json

import pytest

from bias_gate.cli import main
from bias_gate.metrics.flips import digest, side_file
from tests.support.reports import add_flips, make_results


def _raw() -> dict:
    path_free = add_flips(make_results(), new_bias=2, bias_removed=1)
    return json.loads(json.dumps(path_free.to_json()))


ITEM = ("configs", 0, "items", 1)
DELETE = object()

CASES = [
    ((*ITEM, "cohens_h"), "x", "configs[0].items[1].cohens_h: expected a number or null, got 'x'"),
    (
        (*ITEM, "verdict"),
        3,
        "configs[0].items[1].verdict: expected 'pass', 'fail' or 'warn', got 3",
    ),
    ((*ITEM, "verdict"), "maybe", "items[1].verdict: expected 'pass', 'fail' or 'warn'"),
    ((*ITEM, "h_ci"), "wide", "configs[0].items[1].h_ci: expected a list or null"),
    ((*ITEM, "h_ci"), ["a", 1], "configs[0].items[1].h_ci[0]: expected a number"),
    ((*ITEM, "n"), "120", "configs[0].items[1].n: expected an integer, got '120'"),
    ((*ITEM, "n"), True, "configs[0].items[1].n: expected an integer, got True"),
    ((*ITEM, "limit"), None, "configs[0].items[1].limit: expected a number, got None"),
    ((*ITEM, "limit"), float("nan"), "configs[0].items[1].limit: expected a finite number"),
    ((*ITEM, "category"), ["Age"], "configs[0].items[1].category: expected a string"),
    ((*ITEM, "reasons"), "one reason", "configs[0].items[1].reasons: expected a list"),
    ((*ITEM, "flips", "new_bias", 0, "dense_choice"), 9, "new_bias[0].dense_choice"),
    (("model",), "SmolLM2", "model: expected an object, got 'SmolLM2'"),
    (("run",), [1], "run: expected an object, got a list"),
    (("run", "thresholds"), "strict", "run.thresholds: expected an object or null"),
    (("run", "mode"), "yolo", "run.mode: expected 'gate' or 'warn'"),
    (("configs", 1, "perplexity"), float("nan"), "configs[1].perplexity: expected a number or"),
    (("configs", 1, "line"), "3", "configs[1].line: expected an integer or null, got '3'"),
    (("configs", 1, "name"), DELETE, "configs[1].name: required field is missing"),
    (("schema_version",), "2", "schema_version '2'; expected 2: not a bias-gate results file"),
    (("configs", 0, "options", "a"), json.loads("[" * 40 + "]" * 40), "nested deeper than 32"),
]


def _tamper(raw: dict, where: tuple, value: object) -> None:
    *path, last = where
    for part in path:
        raw = raw[part]
    if value is DELETE:
        del raw[last]
    else:
        raw[last] = value


def _outputs(out) -> list[str]:
    return ["--json", str(out / "a.json"), "--markdown", str(out / "s.md"),
            "--html", str(out / "r.html"), "--junit", str(out / "j.xml")]  # fmt: skip


def _check_refused(capsys, out, expected: str, name: str) -> None:
    err = capsys.readouterr().err
    assert err.startswith("bias-gate: error: ") and name in err, err
    assert expected in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(("where", "value", "expected"), CASES)
def test_a_tampered_results_file_is_one_line_and_writes_nothing(
    tmp_path, capsys, where, value, expected
):
    raw = _raw()
    _tamper(raw, where, value)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(raw))
    out = tmp_path / "out"
    assert main(["report", str(path), *_outputs(out)]) == 2
    _check_refused(capsys, out, expected, "r.json")


def test_merge_refuses_a_tampered_shard(tmp_path, capsys):
    good, bad = _raw(), copy.deepcopy(_raw())
    good["configs"], bad["configs"] = good["configs"][:2], bad["configs"][2:]
    bad["configs"][0]["items"][0]["p_value"] = 7
    (tmp_path / "a.json").write_text(json.dumps(good))
    (tmp_path / "b.json").write_text(json.dumps(bad))
    out = tmp_path / "out"
    args = ["report", "--merge", str(tmp_path / "a.json"), str(tmp_path / "b.json")]
    assert main([*args, *_outputs(out)]) == 2
    _check_refused(
        capsys, out, "configs[0].items[0].p_value: should be less than or equal to 1", "b.json"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
        ('{"schema_version": 2, "model": ' * 5000 + "0" + "}" * 5000, "nested"),
        ('{"schema_version": 2, "n": ' + "9" * 5000 + "}", "not a results JSON file"),
        ("{}", "schema_version None; expected 2: not a bias-gate results file"),
        ("[]", "expected a JSON object, got a list"),
        ('"text"', "expected a JSON object, got a string"),
    ],
)
def test_unreadable_json_is_one_line(tmp_path, capsys, text, expected):
    path = tmp_path / "r.json"
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["report", str(path), *_outputs(out)]) == 2
    _check_refused(capsys, out, expected, "r.json")


def test_invalid_utf8_is_one_line(tmp_path, capsys):
    path = tmp_path / "r.json"
    path.write_bytes(b'{"schema_version": 2, "model": {"name": "\xff\xfe"}}')
    assert main(["report", str(path)]) == 2
    _check_refused(capsys, tmp_path / "out", "not a results JSON file", "r.json")


def test_a_tampered_side_file_is_one_line_naming_its_line(tmp_path, capsys):
    path = tmp_path / "r.json"
    add_flips(make_results(), new_bias=2, bias_removed=1).write(path)
    flips = side_file(path)
    lines = flips.read_text().splitlines()
    row = json.loads(lines[1])
    row["dense_choice"] = 9
    lines[1] = json.dumps(row, sort_keys=True)
    text = "\n".join(lines) + "\n"
    flips.write_text(text)
    raw = json.loads(path.read_text())
    raw["flips_file"]["sha256"] = digest(text)  # the attacker re-signs it
    path.write_text(json.dumps(raw))
    assert main(["report", str(path), "--flips", "wanda-50::Age"]) == 2
    _check_refused(capsys, tmp_path / "out", "r.flips.jsonl:2: dense_choice", "r.flips.jsonl")
