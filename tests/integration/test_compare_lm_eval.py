"""``bias-gate compare --from lm-eval`` on lm-evaluation-harness ``--log_samples`` files
written here from its documented sample format (lm-eval 0.4, task ``bbq``,
``output_type: multiple_choice``): ``doc_id``, ``doc`` (the BBQ row), ``target``,
``arguments`` (one ``{"arg_0": context, "arg_1": " choice"}`` per choice), ``resps`` and
``filtered_resps`` (``[log-likelihood, is_greedy]`` per choice, numbers written as
strings), ``filter``, ``metrics``. The task's choices are the item's two group options
then ten phrasings of "unknown" (its ``doc_to_choice``); the answer is the choice of
highest log-likelihood. The verdicts must equal those of the same answers given as
JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bias_gate.cli import main
from bias_gate.commands.compare_inputs import read_inputs
from bias_gate.data.benchmarks import get_benchmark
from bias_gate.data.items import BBQItem
from bias_gate.data.sources import DirectorySource
from bias_gate.results import GateResults

#: lm-eval's BBQ task's "unknown" phrasings (lm_eval/tasks/bbq/utils.py), written out
#: here apart from the package's copy.
PHRASINGS = [
    "Unknown",
    "Cannot answer",
    "Can't be determined",
    "Cannot be determined",
    "Can't answer",
    "Not known",
    "Not enough info",
    "Not enough information",
    "Not answerable",
    "Undetermined",
]


def _doc(item: BBQItem) -> dict:
    return {
        "example_id": item.example_id,
        "question_polarity": item.question_polarity,
        "context_condition": item.context_condition,
        "category": item.category,
        "context": item.context,
        "question": item.question,
        "ans0": item.answers[0],
        "ans1": item.answers[1],
        "ans2": item.answers[2],
        "label": item.label,
    }


def _sample(doc_id: int, item: BBQItem, choice: int, unknown_phrase: int, args: bool) -> dict:
    """The sample lm-eval logs when the model's highest log-likelihood is on option
    ``choice`` (for the unknown option: on phrasing ``unknown_phrase``)."""
    known = [text for text in item.answers if text not in PHRASINGS]
    choices = known + PHRASINGS
    winner = (
        2 + unknown_phrase if choice == item.unknown_index else known.index(item.answers[choice])
    )
    lls = [-5.0 - 0.25 * i for i in range(len(choices))]
    lls[winner] = -1.0
    context = f"{item.context}\n\nQ: {item.question}\nA:"
    sample = {
        "doc_id": doc_id,
        "doc": _doc(item),
        "target": 0,
        "resps": [[[str(ll), "False"]] for ll in lls],
        "filtered_resps": [[str(ll), "False"] for ll in lls],
        "filter": "none",
        "metrics": ["acc"],
        "acc": 1.0,
    }
    if args:
        sample["arguments"] = {
            f"gen_args_{i}": {"arg_0": context, "arg_1": f" {text}"}
            for i, text in enumerate(choices)
        }
    return sample


@pytest.fixture(scope="module")
def files(bbq_dir, tmp_path_factory):
    items = DirectorySource(bbq_dir).load("Age")
    ambiguous = [i for i in items if i.is_ambiguous and i.biased_index is not None][:160]
    items = ambiguous + [i for i in items if not i.is_ambiguous][:80]
    root = tmp_path_factory.mktemp("lm-eval")
    dense_choice, pushed_choice = {}, {}
    for n, item in enumerate(items):
        if not item.is_ambiguous:
            dense_choice[item.key] = pushed_choice[item.key] = item.label
            continue
        dense_choice[item.key] = item.biased_index if n % 4 == 0 else item.unknown_index
        pushed_choice[item.key] = item.biased_index if n % 2 == 0 else item.unknown_index
    out = {}
    for name, chosen in (("dense", dense_choice), ("pushed", pushed_choice)):
        samples = [
            _sample(n, item, chosen[item.key], n % 10, args=n % 3 != 0)
            for n, item in enumerate(items)
        ]
        out[name] = root / f"samples_bbq_{name}.jsonl"
        out[name].write_text("".join(json.dumps(s) + "\n" for s in samples))
        rows = [
            {"category": item.category, "example_id": item.example_id, "answer": chosen[item.key]}
            for item in items
        ]
        out[f"{name}-rows"] = root / f"{name}.jsonl"
        out[f"{name}-rows"].write_text("".join(json.dumps(r) + "\n" for r in rows))
    return out


def _compare(bbq_dir: Path, dense: Path, compressed: Path, out: Path, *fmt: str) -> int:
    return main(
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
            *fmt,
        ]
    )


def test_each_sample_reads_as_the_option_lm_eval_chose(files, bbq_dir):
    """Every sample (unknown won under each of the ten phrasings, with and without
    ``arguments``) names the option the JSON-lines file gives for that item."""
    for name in ("dense", "pushed"):
        inputs = read_inputs(
            files[name], files[name], "lm-eval", str(bbq_dir), None, get_benchmark("bbq")
        )
        rows = {
            r["example_id"]: r["answer"]
            for r in map(json.loads, files[f"{name}-rows"].read_text().splitlines())
        }
        got = {key: answer.choice for key, answer in inputs.dense.items()}
        assert got == {f"Age/{example_id}": choice for example_id, choice in rows.items()}


def test_lm_eval_samples_judge_as_their_answers_do(files, bbq_dir, tmp_path):
    lm = tmp_path / "lm.json"
    rows = tmp_path / "rows.json"
    fmt = ("--from", "lm-eval", "--name", "q4")
    assert _compare(bbq_dir, files["dense"], files["pushed"], lm, *fmt) == 1
    assert _compare(bbq_dir, files["dense-rows"], files["pushed-rows"], rows) == 1
    (got,), (expected,) = GateResults.read(lm).items(), GateResults.read(rows).items()
    assert got.verdict == expected.verdict == "fail"
    assert (got.cohens_h, got.h_ci, got.n) == (expected.cohens_h, expected.h_ci, expected.n)
    assert got.cohens_h > 0.3  # the pushed model is more biased
    assert GateResults.read(lm).run["answers"]["format"] == "lm-eval"
    assert [c.name for c in GateResults.read(lm).configs] == ["q4"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: {**s, "filtered_resps": ["Paris"], "resps": [["Paris"]]}, "filtered_resps:"),
        (lambda s: {k: v for k, v in s.items() if k != "doc"}, "doc: expected a sample"),
        (lambda s: {**s, "filtered_resps": s["filtered_resps"][:3]}, "filtered_resps: 3 log-"),
    ],
)
def test_a_bad_sample_is_one_line(files, bbq_dir, tmp_path, capsys, edit, message):
    lines = files["dense"].read_text().splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(lines[0] + "\n" + json.dumps(edit(json.loads(lines[1]))) + "\n")
    code = _compare(bbq_dir, bad, files["pushed"], tmp_path / "v.json", "--from", "lm-eval")
    err = capsys.readouterr().err.strip()
    assert code == 2 and f"bad.jsonl:2: {message}" in err and "\n" not in err, err
