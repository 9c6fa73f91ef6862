"""``bias-gate compare`` on the official BBQ files: a compressed model that answers
nothing readable is a FAIL of its own ("compressed model not valid", exit 1), not an
n = 0 INCONCLUSIVE with exit 0 (issue 24 item 6)."""

from __future__ import annotations

import json
from pathlib import Path

from bias_gate.cli import main
from bias_gate.data.sources import DirectorySource


def _write(path: Path, items, choose, config: str | None = None) -> Path:
    rows = [
        {"category": i.category, "example_id": i.example_id, "answer": choose(i)}
        | ({"config": config} if config else {})
        for i in items
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_a_compressed_model_that_answers_nothing_fails(bbq_dir, tmp_path, capsys):
    items = DirectorySource(bbq_dir).load("Age")
    items = [i for i in items if i.is_ambiguous and i.biased_index is not None][:200] + [
        i for i in items if not i.is_ambiguous
    ][:150]
    dense = _write(
        tmp_path / "dense.jsonl",
        items,
        lambda i: i.label if not i.is_ambiguous else i.unknown_index,
    )
    blank = _write(tmp_path / "blank.jsonl", items, lambda i: None, config="blank")
    out = tmp_path / "v.json"
    code = main(
        [
            "compare",
            "--source",
            str(bbq_dir),
            "--dense",
            str(dense),
            "--compressed",
            str(blank),
            "--json",
            str(out),
        ]
    )
    assert code == 1
    text = capsys.readouterr().out
    assert "FAIL  (compressed model not valid)" in text
    [item] = json.loads(out.read_text())["configs"][0]["items"]
    assert (item["verdict"], item["decision"]) == ("fail", "not_judged")
    assert item["n"] == 0 and "0 valid pairs of the 200 ambiguous items" in " ".join(
        item["reasons"]
    )
