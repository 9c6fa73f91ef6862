"""A run of two benchmarks in every report: each row names its benchmark (terminal
summary, markdown, PR comment, HTML, JUnit), the dense model's validity is said per
benchmark, and the results JSON keeps each row's benchmark (an older file's rows read as
its run's benchmark)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace

from bias_gate.report.github import render_comment
from bias_gate.report.html import render_html
from bias_gate.report.junit import junit_string
from bias_gate.report.markdown import render_markdown
from bias_gate.report.terminal import summary_table
from bias_gate.results import GateResults
from tests.support.reports import make_results

KOBBQ_REASON = (
    "the dense model on kobbq is not shown to answer from the context: disambiguated "
    "accuracy 31.2% on 16 items is not significantly above chance"
)


def _two_benchmarks() -> GateResults:
    """The hand-built run, its Gender_identity rows made KoBBQ's ``kobbq/Age``."""
    results = make_results()
    for config in results.configs:
        config.items = [
            replace(item, category="kobbq/Age", benchmark="kobbq")
            if item.category == "Gender_identity"
            else item
            for item in config.items
        ]
    results.dense.validity_by_benchmark = {
        "bbq": {"state": "valid", "informative": True, "reasons": [], "validity": {}},
        "kobbq": {
            "state": "not_valid",
            "informative": False,
            "reasons": [KOBBQ_REASON],
            "validity": {},
        },
    }
    return results


def test_every_report_names_each_rows_benchmark():
    results = _two_benchmarks()
    terminal = "\n".join(summary_table(results))
    assert "dense model on bbq: valid" in terminal
    assert f"dense model on kobbq: NOT valid: {KOBBQ_REASON}" in terminal
    rows = [line for line in terminal.splitlines() if line.startswith("  wanda-50 ")]
    assert [row.split()[1] for row in rows] == ["perplexity", "bbq/Age", "kobbq/Age"]
    markdown = render_markdown(results)
    assert "| bbq/Age | kobbq/Age |" in markdown
    assert "On kobbq the dense model is NOT valid" in markdown
    assert "On bbq the dense model is valid" in markdown
    assert "| bbq/Age | kobbq/Age |" in render_comment(results)
    assert '<th scope="col">bbq/Age</th><th scope="col">kobbq/Age</th>' in render_html(results)
    root = ET.fromstring(junit_string(results))
    benchmarks = {
        prop.get("value")
        for prop in root.iter("property")
        if prop.get("name") == "bias_gate.benchmark"
    }
    assert benchmarks == {"bbq", "kobbq"}


def test_a_bbq_only_run_keeps_its_plain_rows():
    results = make_results()
    assert "| Age | Gender_identity |" in render_markdown(results)
    assert "bbq/" not in "\n".join(summary_table(results))


def test_the_json_keeps_each_rows_benchmark_and_older_files_read_as_their_runs(tmp_path):
    results = _two_benchmarks()
    path = tmp_path / "results.json"
    results.write(path)
    again = GateResults.read(path)
    assert {(i.category, i.benchmark) for i in again.items()} == {
        ("Age", "bbq"),
        ("kobbq/Age", "kobbq"),
    }
    assert again.dense.validity_by_benchmark["kobbq"]["state"] == "not_valid"
    old = json.loads(path.read_text())
    for config in old["configs"]:
        for item in config["items"]:
            del item["benchmark"]
    old["run"]["benchmark"] = "kobbq"  # a KoBBQ-only run written before rows named it
    path.write_text(json.dumps(old))
    assert {item.benchmark for item in GateResults.read(path).items()} == {"kobbq"}


def test_the_trend_matches_rows_of_the_same_benchmark_only():
    from bias_gate.report.trend import compare

    bbq = make_results()
    kobbq = make_results()
    for config in kobbq.configs:
        config.items = [replace(item, benchmark="kobbq") for item in config.items]
    assert all(row.previous is not None for row in compare(bbq, make_results(), "old").rows)
    trend = compare(kobbq, bbq, "old")
    assert all(row.previous is None for row in trend.rows)
    assert len(trend.dropped) == len(bbq.items())
