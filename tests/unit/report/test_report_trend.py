"""``bias-gate report --previous OLD.json``: the trend across releases (issue 14)."""

from __future__ import annotations

import json
import re

from bias_gate.cli import main
from bias_gate.report.markdown import render_markdown
from bias_gate.report.trend import compare, trend_line
from bias_gate.results import GateResults
from tests.support.reports import make_results


def _previous() -> GateResults:
    """Last release: wanda-50/Age passed (today it fails), magnitude-50/Age warned
    (today fails), random-50 was not run, and a config since dropped."""
    old = make_results()
    age = old.configs[0].items[0]
    age.verdict, age.decision, age.cohens_h, age.paradox = "pass", "pass", 0.05, False
    old.configs[1].items[0].verdict = "warn"
    old.configs[1].items[1].verdict = "fail"  # today warn: better
    old.configs = [c for c in old.configs if c.name != "random-50"]
    gone = GateResults.from_json(old.to_json()).configs[0]
    gone.name = "sparsegpt-50"
    for item in gone.items:
        item.config = "sparsegpt-50"
    old.configs.append(gone)
    return old


def test_compare_matches_by_config_and_category():
    trend = compare(make_results(), _previous(), "old.json")
    changes = {(r.current.config, r.current.category): r.change for r in trend.rows}
    assert changes[("wanda-50", "Age")] == "worse"  # pass -> fail
    assert changes[("magnitude-50", "Age")] == "worse"  # warn -> fail
    assert changes[("magnitude-50", "Gender_identity")] == "better"  # fail -> warn
    assert changes[("random-50", "Age")] == "new"
    assert changes[("int8", "Age")] == "same"
    assert ("sparsegpt-50", "Age") in trend.dropped
    assert [r.change for r in trend.ranked()][:2] == ["worse", "worse"]
    line = trend_line(trend)
    assert "2 worse, 1 better" in line and "2 new" in line
    assert "wanda-50/Age pass -> fail" in line and "magnitude-50/Age warn -> fail" in line


def test_markdown_shows_previous_beside_today():
    text = render_markdown(make_results(), compare(make_results(), _previous(), "v1.json"))
    section = text.split("### Trend since the previous run (`v1.json`)")[1].split("###")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
    assert rows[0].startswith(
        "| wanda-50 | Age | ✅ pass h 0.050 | ❌ fail: bias amplified; h 0.362 |"
    )
    assert "**🔻 worse**" in rows[0]
    assert any(r.startswith("| random-50 | Age | new |") and "🆕 new" in r for r in rows)
    assert "In the previous run only: sparsegpt-50 / Age" in section
    assert "Trend since" not in render_markdown(make_results())  # only when asked


def test_report_previous_writes_markdown_and_terminal_line(tmp_path, capsys):
    today, old = tmp_path / "today.json", tmp_path / "old.json"
    make_results().write(today)
    _previous().write(old)
    out = tmp_path / "summary.md"
    assert main(["report", str(today), "--previous", str(old), "--markdown", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"bias-gate: trend against {old}: 2 worse" in err
    assert (
        "| wanda-50 | Age | ✅ pass h 0.050 | ❌ fail: bias amplified; h 0.362 |" in out.read_text()
    )
    assert main(["report", str(today), "--previous", str(old)]) == 0  # markdown on stdout
    assert "### Trend since the previous run" in capsys.readouterr().out


def test_report_previous_puts_the_trend_in_the_html(tmp_path):
    """``--html`` with ``--previous``: last release's verdict and h beside today's, the
    worse rows first and flagged; without ``--previous`` no trend section."""
    today, old = tmp_path / "today.json", tmp_path / "old.json"
    make_results().write(today)
    _previous().write(old)
    page = tmp_path / "report.html"
    assert main(["report", str(today), "--previous", str(old), "--html", str(page)]) == 0
    html = page.read_text(encoding="utf-8")
    section = html.split('<h2 id="trend">')[1].split("<h2")[0]
    assert f"Trend since the previous run ({old})" in section
    rows = re.findall(r"<tr>(<td.*?)</tr>", section)
    worse = '<td class="fail"><strong>▲ worse</strong></td>'
    assert rows[0].startswith(worse + "<td>wanda-50</td><td>Age</td>")
    assert rows[0].endswith(
        '<td class="pass">pass h&nbsp;0.050</td><td class="fail">fail h&nbsp;0.362</td>'
    )
    assert rows[1].startswith(worse + "<td>magnitude-50</td><td>Age</td>")
    assert sum(row.startswith(worse) for row in rows) == 2
    assert "<td>new</td><td>random-50</td><td>Age</td><td>new</td>" in section
    assert "In the previous run only: sparsegpt-50 / Age" in section
    main(["report", str(today), "--html", str(page)])
    assert 'id="trend"' not in page.read_text(encoding="utf-8")


def test_bad_previous_is_one_line_exit_2(tmp_path, capsys):
    today = tmp_path / "today.json"
    make_results().write(today)
    old_schema = tmp_path / "v1.json"
    old_schema.write_text(json.dumps({**make_results().to_json(), "schema_version": 1}))
    not_json = tmp_path / "notes.txt"
    not_json.write_text("release notes")
    a_list = tmp_path / "list.json"
    a_list.write_text("[1, 2]")
    cases = {
        tmp_path / "missing.json": "results file not found",
        not_json: "not a results JSON file",
        old_schema: "schema_version 1; expected 2",
        a_list: "not a bias-gate results file",
    }
    for path, words in cases.items():
        assert main(["report", str(today), "--previous", str(path)]) == 2
        err = capsys.readouterr().err
        assert words in err and "--previous" in err and str(path) in err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
