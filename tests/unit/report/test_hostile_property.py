"""The output discipline as a property (issue 26): arbitrary text in every string field a
results JSON carries, through every writer and the terminal summary. No line a runner
would read as a workflow command but the gate's own annotations; JUnit parses back; the
markdown has one table row per row with the header's columns; the HTML carries no markup
from data. Examples are bounded so the test takes a few seconds."""

from __future__ import annotations

import contextlib
import copy
import io
import xml.etree.ElementTree as ET
from dataclasses import replace

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from bias_gate.cli import main
from bias_gate.gate.collector import ResultCollector
from bias_gate.gate.options import GateOptions
from bias_gate.report.annotations import annotation_lines
from bias_gate.report.github import render_comment
from bias_gate.report.html import write_html
from bias_gate.report.junit import junit_string
from bias_gate.report.markdown import render_markdown, write_step_summary
from bias_gate.report.trend import compare
from bias_gate.results import GateResults
from tests.support.hostile import HOSTILE, INJECTED, assert_no_injection
from tests.support.reports import add_flips, make_results

FRAGMENTS = [
    INJECTED, HOSTILE, "::error::x", "\r::add-mask::y", "##[error]z", "```", "````\n",
    "<!--", "<script>", "|", "\n|a|b|\n", "`", "\\", "%0A", "\u2028", "\x85", "\ud800",
    "\x00", "\x1b[2J", "\ufeff::warning::w", "</details>", "&lt;",
]  # fmt: skip

_ANY = st.characters(exclude_categories=())  # surrogates and controls included
TEXT = st.lists(st.one_of(st.text(_ANY, max_size=8), st.sampled_from(FRAGMENTS)), max_size=4).map(
    "".join
)


#: Built once (make_results computes its p-values with statsmodels): each example copies it.
BASE = add_flips(make_results(), new_bias=1, bias_removed=1)
PREVIOUS = make_results()


@st.composite
def hostile_results(draw: st.DrawFn) -> GateResults:
    results = copy.deepcopy(BASE)
    results.model["name"] = draw(TEXT)
    results.run["config_path"] = draw(TEXT)
    results.run["thresholds"]["profile"] = draw(TEXT)
    results.run["missing_shards"] = draw(st.lists(TEXT, max_size=2))
    results.dense.validity_reasons = draw(st.lists(TEXT, max_size=2))
    results.dense.informative = draw(st.booleans())
    for config in results.configs:
        config.name, config.method = draw(TEXT), draw(TEXT)
        config.perplexity_reasons = draw(st.lists(TEXT, max_size=2))
        for item in config.items:
            item.config, item.category = config.name, draw(TEXT)
            item.reasons = draw(st.lists(TEXT, max_size=2))
            flip = replace(
                item.flips.new_bias[0],
                context=draw(TEXT),
                question=draw(TEXT),
                options=(draw(TEXT), draw(TEXT), draw(TEXT)),
            )
            item.flips = replace(item.flips, new_bias=(flip,))
    return results


def _matrix_rows_are_whole(markdown: str, results: GateResults) -> None:
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    start = next(k for k, t in enumerate(tokens) if t.type == "table_open")
    end = next(k for k, t in enumerate(tokens) if t.type == "table_close" and k > start)
    rows = [k for k in range(start, end) if tokens[k].type == "tr_open"]
    assert len(rows) == len(results.configs) + 1
    width = sum(t.type == "th_open" for t in tokens[start:end])
    cells = sum(t.type == "td_open" for t in tokens[start:end])
    assert cells == width * len(results.configs)


def _stdout_of(args: list[str]) -> str:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(args)
    assert code in (0, 1), err.getvalue()  # 1: shards missing
    return out.getvalue() + err.getvalue()


SETTINGS = settings(
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(results=hostile_results())
def test_every_text_writer_is_safe(results, tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("hostile")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    own = len(annotation_lines(results))
    # The pytest terminal summary, with the annotations.
    collector = ResultCollector(GateOptions(config_paths=()), [])
    collector._final = [results]
    assert_no_injection("\n".join(collector.summary_lines()), own=own)
    # The markdown summary, the step summary and the pull-request comment.
    trend = compare(results, PREVIOUS, "previous\n::error::t")
    for markdown in (render_markdown(results, trend), render_comment(results, {}, trend)):
        _matrix_rows_are_whole(markdown, results)
    summary = folder / "summary.md"
    write_step_summary(results, {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)})
    _matrix_rows_are_whole(summary.read_text(encoding="utf-8"), results)
    # JUnit parses back, every case there.
    root = ET.fromstring(junit_string(results).encode("utf-8"))
    assert len(root.findall("./testsuite/testcase")) == len(results.items()) + len(results.configs)
    # bias-gate report: markdown to stdout, the annotations, one cell's flipped items.
    path = folder / "r.json"
    results.write(path)
    assert_no_injection(_stdout_of(["report", str(path)]))
    assert_no_injection(_stdout_of(["report", str(path), "--annotations"]), own=own)
    item = results.items()[0]
    cell = f"{item.config}::{item.category}"
    if sum(f"{i.config}::{i.category}" == cell for i in results.items()) == 1:
        assert_no_injection(_stdout_of(["report", str(path), "--flips", cell]))


@settings(SETTINGS, max_examples=3)
@given(results=hostile_results())
def test_html_and_plots_carry_no_markup_from_data(results, tmp_path_factory):
    path = write_html(results, tmp_path_factory.mktemp("html") / "r.html")
    html = path.read_text(encoding="utf-8")  # written: no lone surrogate
    assert "<script" not in html and "<!--" not in html
    assert html.count("<details") == html.count("</details>")
