"""Finding 10 of issue 26: markdown and JUnit from a tampered results JSON. HTML, new
lines, fences and pipes in data stay text in the markdown (parsed back with a CommonMark
parser); controls and lone surrogates never make malformed XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from markdown_it import MarkdownIt

from bias_gate.report.github import render_comment
from bias_gate.report.junit import junit_string, write_junit
from bias_gate.report.markdown import render_markdown
from tests.support.reports import make_results

FENCE_REASON = "x\n````\n```\n</details>\n## injected heading\n<script>alert(1)</script>"


def _tampered():
    results = make_results()
    results.run["config_path"] = "model.yaml\n## injected path heading"
    results.run["thresholds"]["profile"] = "default\n- injected list item"
    results.model["name"] = "m <img src=x onerror=alert(1)> | col"
    results.dense.validity_reasons = ["<!-- hides the rest"]
    results.dense.informative = False
    for item in results.items():
        item.reasons = [*item.reasons, FENCE_REASON]
        item.category = item.category + " <b>|</b>\n| x | y |"
    return results


def _tokens(text: str):
    return MarkdownIt("commonmark").enable("table").parse(text)


def test_markdown_keeps_data_as_text():
    results = _tampered()
    for text in (render_markdown(results), render_comment(results, {})):
        tokens = _tokens(text)
        raw_html = [t.content for t in tokens if t.type == "html_block"]
        raw_html += [c.content for t in tokens for c in t.children or [] if c.type == "html_inline"]
        for chunk in raw_html:  # only the report's own markup: <details>, the comment marker
            assert not any(word in chunk for word in ("script", "img", "hides", "<b>")), chunk
        headings = [tokens[k + 1].content for k, t in enumerate(tokens) if t.type == "heading_open"]
        assert not any("injected" in heading for heading in headings), headings
        items = [tokens[k + 2].content for k, t in enumerate(tokens) if t.type == "list_item_open"]
        assert not any(item.startswith("injected") for item in items), items


def test_markdown_matrix_has_one_row_per_config():
    results = _tampered()
    tokens = _tokens(render_markdown(results))
    first_table = next(k for k, t in enumerate(tokens) if t.type == "table_open")
    end = next(k for k, t in enumerate(tokens) if t.type == "table_close" and k > first_table)
    rows = sum(t.type == "tr_open" for t in tokens[first_table:end])
    cells = sum(t.type == "th_open" for t in tokens[first_table:end])
    assert rows == len(results.configs) + 1
    assert cells == 4 + len({item.category for item in results.items()})


def test_a_reason_holding_a_fence_cannot_close_the_code_block():
    results = _tampered()
    text = render_markdown(results)
    holding = [t for t in _tokens(text) if t.type == "fence" and FENCE_REASON in t.content]
    assert len(holding) == sum(item.verdict != "pass" for item in results.items())


def test_junit_from_controls_and_a_lone_surrogate_is_well_formed(tmp_path):
    results = make_results()
    results.configs[0].name = "wanda\x01-50\x1b[0m\ud800"
    results.model["name"] = "model\x00\ufffe"
    for item in results.items():
        item.reasons = ["reason \x0b with \udfff a surrogate"]
        item.category = item.category + "\x7f\x02"
    root = ET.fromstring(junit_string(results).encode("utf-8"))
    assert len(root.findall("./testsuite/testcase")) == len(results.items()) + len(results.configs)
    path = write_junit(results, tmp_path / "j.xml")
    ET.parse(path)
