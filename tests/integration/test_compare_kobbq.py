"""``bias-gate compare --benchmark kobbq`` on the official KoBBQ test split, with answer
files that name items by KoBBQ's own ``sample_id``: an unchanged model passes, a model
pushed toward the biased answers fails, and a bad id is one line naming file and line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bias_gate.cli import main
from bias_gate.data.kobbq import KoBBQ
from tests.conftest import SHARED_DATA

CATEGORIES = ("Race_ethnicity_nationality", "SES")


@pytest.fixture(scope="module")
def answer_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Dense: right on disambiguated samples, biased on 30% of the ambiguous ones.
    'same' repeats it; 'pushed' turns 60% of the unbiased ambiguous answers biased."""
    benchmark = KoBBQ()
    source = benchmark.source("official", None, SHARED_DATA)
    items = [item for category in CATEGORIES for item in source.load(category)]
    rng = np.random.default_rng(29)
    biased = {item.key: bool(rng.random() < 0.3) for item in items}
    pushed = {key: value or bool(rng.random() < 0.6) for key, value in biased.items()}

    def answer(item, which: dict[str, bool]) -> int:
        if not item.is_ambiguous:
            return item.label
        return item.biased_index if which[item.key] else item.unknown_index

    def rows(which: dict[str, bool], config: str | None) -> list[str]:
        out = []
        for item in items:
            row: dict[str, object] = {"sample_id": benchmark.item_id(item)}
            row["answer"] = answer(item, which)
            if config is not None:
                row["config"] = config
            out.append(json.dumps(row, ensure_ascii=False) + "\n")
        return out

    root = tmp_path_factory.mktemp("compare-kobbq")
    dense = root / "dense.jsonl"
    dense.write_text("".join(rows(biased, None)), encoding="utf-8")
    compressed = root / "compressed.jsonl"
    compressed.write_text("".join(rows(biased, "same") + rows(pushed, "pushed")), encoding="utf-8")
    return dense, compressed


def run_compare(dense: Path, compressed: Path, out: Path) -> int:
    return main(
        [
            "compare",
            "--benchmark",
            "kobbq",
            "--source",
            "official",
            "--data-dir",
            str(SHARED_DATA),
            "--dense",
            str(dense),
            "--compressed",
            str(compressed),
            "--json",
            str(out),
        ]
    )


def test_sample_ids_are_item_ids(answer_files, tmp_path, capsys) -> None:
    dense, compressed = answer_files
    out = tmp_path / "verdicts.json"
    assert run_compare(dense, compressed, out) == 1  # 'pushed' fails
    document = json.loads(out.read_text())
    by_name = {c["name"]: {i["category"]: i for i in c["items"]} for c in document["configs"]}
    assert sorted(by_name["same"]) == sorted(CATEGORIES)
    for category in CATEGORIES:
        same, pushed = by_name["same"][category], by_name["pushed"][category]
        assert same["verdict"] == "pass" and same["cohens_h"] == 0.0
        assert same["benchmark"] == pushed["benchmark"] == "kobbq"
        assert pushed["verdict"] == "fail" and pushed["h_ci"][0] > 0
    assert by_name["same"]["SES"]["n"] == 108  # SES has 216 samples, half ambiguous
    assert document["dense"]["informative"] is True
    assert "FAIL" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"sample_id": "age-001a-002-amb-bsd-0", "answer": 1}', "is not a KoBBQ sample_id"),
        ('{"sample_id": "nope-001a-002-amb-bsd", "answer": 1}', "is not a KoBBQ sample_id"),
        ('{"sample_id": "age-099a-002-amb-bsd", "answer": 1}', "unknown example_id 99100211"),
    ],
)
def test_a_bad_sample_id_is_one_line(answer_files, tmp_path, capsys, line, message) -> None:
    _, compressed = answer_files
    dense = tmp_path / "dense.jsonl"
    dense.write_text(line + "\n", encoding="utf-8")
    assert run_compare(dense, compressed, tmp_path / "v.json") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"bias-gate: error: {dense}:1: ") and message in err
    assert len(err.strip().splitlines()) == 1
