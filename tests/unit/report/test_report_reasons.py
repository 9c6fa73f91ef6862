"""Every FAIL and INCONCLUSIVE carries its reason category, first, in every report, and no
report contradicts a verdict (issue 25 items 4-5). The items come from the real judge
on crafted answers (a compressed model that answers nothing readable, a dense model with
too few disambiguated items, a pass), go through the results JSON and back, and are
rendered by the real writers: markdown parsed, JUnit parsed with ElementTree."""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bias_gate.report.flips import flips_text
from bias_gate.report.github import render_comment
from bias_gate.report.html import render_html
from bias_gate.report.junit import junit_string
from bias_gate.report.markdown import render_markdown
from bias_gate.report.terminal import item_table, summary_table
from bias_gate.results import (
    COMPRESSED_NOT_VALID,
    NOT_JUDGED,
    PERPLEXITY,
    TOO_FEW_ITEMS,
    GateResults,
)
from tests.support.reports import make_results
from tests.unit.judge import test_validity_gate as crafted


def _judged() -> dict[str, object]:
    """Real item results: ``blank`` (compressed unreadable: FAIL), ``pass``, and
    ``few`` (dense validity on 12 items: INCONCLUSIVE)."""
    items = crafted._items(200, 60)
    dense = crafted._answers(items, crafted._dense_choice)
    blank = crafted._judge(items, dense, crafted._answers(items, lambda i, item: None))
    same = crafted._judge(items, dense, dict(dense))
    few_items = crafted._items(200, 12)
    few_dense = crafted._answers(
        few_items,
        lambda i, item: (
            crafted._dense_choice(i, item)
            if item.is_ambiguous
            else (item.label if i % 12 < 7 else 2)
        ),
    )
    few = crafted._judge(few_items, few_dense, dict(few_dense))
    return {"blank": blank, "pass": same, "few": few}


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> GateResults:
    """make_results' run with int8 replaced by real judged items, written and read back."""
    judged = _judged()
    run = make_results()
    int8 = run.configs[-1]
    int8.items = [
        dataclasses.replace(judged["blank"], config="int8", category="Age"),  # type: ignore[arg-type]
        dataclasses.replace(judged["few"], config="int8", category="Gender_identity"),  # type: ignore[arg-type]
    ]
    run.configs[2].items[0] = dataclasses.replace(
        judged["pass"],  # type: ignore[arg-type]
        config="random-50",
        category="Age",
        verdict="fail",  # a hook vetoed the pass: the rule still passed it
        reasons=["verdict changed from pass to fail by a pytest_bias_gate_results hook"],
        reason_category="policy",
    )
    path = tmp_path_factory.mktemp("reasons") / "results.json"
    run.write(path)
    return GateResults.read(path)


def test_the_json_records_the_category_and_reads_old_files(results, tmp_path: Path):
    int8 = results.configs[-1]
    assert [i.reason_category for i in int8.items] == [COMPRESSED_NOT_VALID, TOO_FEW_ITEMS]
    assert [i.decision for i in int8.items] == [NOT_JUDGED, NOT_JUDGED]
    assert results.configs[1].perplexity_reason_category == PERPLEXITY
    # A file written before the field: the category is derived from what it holds.
    raw = results.to_json()
    for config in raw["configs"]:
        config.pop("perplexity_reason_category")
        for item in config["items"]:
            item.pop("reason_category")
    old = tmp_path / "old.json"
    old.write_text(json.dumps(raw))
    back = GateResults.read(old)
    assert back.configs[1].perplexity_reason_category == PERPLEXITY
    assert back.configs[0].items[0].reason_category == "bias amplified"
    assert back.configs[1].items[1].reason_category == TOO_FEW_ITEMS
    assert back.configs[0].items[1].reason_category is None


def _markdown_table(text: str, heading: str) -> list[list[str]]:
    block = text.split(heading, 1)[1].split("\n\n", 2)[1]
    rows = [line for line in block.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split(" | ")] for row in rows[2:]]


def test_markdown_says_the_reason_first_and_never_contradicts(results):
    text = render_markdown(results)
    why = text.split("### Why", 1)[1].split("###", 1)[0]
    assert why.index("❌ fail") < why.index("⚠️ warn")  # failures first
    assert "❌ fail: **compressed model not valid**: int8 / Age" in why
    assert "⚠️ warn: **too few items**: int8 / Gender_identity" in why
    assert "❌ fail: **perplexity**: magnitude-50 / perplexity" in why
    assert text.index("### Why") < text.index("### Verdict matrix")
    rows = {row[0]: row for row in _markdown_table(text, "### Verdict matrix")}
    assert rows["**int8**"][4].startswith("❌ fail: compressed model not valid;")
    assert rows["**int8**"][5].startswith("⚠️ warn: too few items;")
    assert rows["**magnitude-50**"][3].startswith("❌ fail: perplexity;")
    assert rows["**random-50**"][4].startswith("❌ fail: policy;")
    assert "fail (pass)" not in text and "(pass)</summary>" not in text
    evidence = text.split("### What each verdict rests on", 1)[1].split("###", 1)[0]
    for line in evidence.splitlines():
        for sentence in line.split(". "):
            if ": fail" in sentence.split(" the rule said")[0][:40]:
                assert "ruled out" not in sentence or "the rule said pass" in sentence
    assert "Age: fail: compressed model not valid: not judged for bias" in evidence
    assert "0 valid pairs of the 200 ambiguous items answered" in evidence
    assert "Age: fail: policy (the rule said pass; a pytest_bias_gate_results hook set fail)" in (
        evidence
    )


def test_junit_failure_messages_lead_with_the_reason(results):
    root = ET.fromstring(junit_string(results))
    cases = {case.get("name"): case for case in root.iter("testcase")}
    failure = cases["int8::Age"].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith(
        "int8 / Age: FAIL (compressed model not valid): the compressed model is not valid"
    )
    props = {p.get("name"): p.get("value") for p in cases["int8::Age"].iter("property")}
    assert props["bias_gate.reason_category"] == COMPRESSED_NOT_VALID
    assert props["bias_gate.decision"] == NOT_JUDGED
    ppl = cases["magnitude-50::perplexity"].find("failure")
    assert ppl is not None and ppl.get("message", "").startswith(
        "magnitude-50 / perplexity: FAIL (perplexity): perplexity ratio 2.400"
    )
    warned = cases["int8::Gender_identity"]
    assert warned.find("failure") is None
    out = warned.find("system-out")
    assert out is not None and (out.text or "").startswith(
        "WARNING: int8 / Gender_identity: warn: too few items"
    )


def test_the_pr_comment_names_validity(results):
    text = render_comment(results, {})
    row = next(line for line in text.splitlines() if line.startswith("| **int8**"))
    assert "❌ fail: compressed model not valid, h" in row
    assert "⚠️ warn: too few items, h" in row
    assert "int8 (compressed model not valid)" in text


def test_terminal_and_html_say_it_first(results):
    int8 = results.configs[-1]
    lines = summary_table(results)
    row = next(line for line in lines if "int8" in line and "Age" in line)
    assert row.split()[2:6] == ["FAIL", "compressed", "model", "not"]
    table = item_table(int8, int8.items[0], results.dense)
    assert table.splitlines()[0].endswith("FAIL (compressed model not valid)")
    assert "the compressed model is not valid" in table.splitlines()[1]
    html = render_html(results)
    assert html.index('id="reasons"') < html.index("<h2>Plots</h2>")
    assert "fail: compressed model not valid;" in html.split('id="verdict-matrix"', 1)[1]


def test_a_non_bias_failures_flips_say_so(results):
    item = results.configs[-1].items[0]
    text = flips_text(item)
    assert text.startswith("fail: compressed model not valid:")
    assert "not a bias finding" in text.splitlines()[1]
    html = render_html(results)
    assert "(fail: compressed model not valid): not a bias finding" in html
