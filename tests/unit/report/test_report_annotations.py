"""GitHub annotations: one per failing config, at most 10, escaped per GitHub's rules."""

from __future__ import annotations

import io

from bias_gate.report.annotations import (
    MAX_ANNOTATIONS,
    annotation_lines,
    command,
    escape_data,
    escape_property,
    print_annotations,
)
from tests.support.reports import make_results


def test_escaping_rules():
    assert escape_data("100% a\r\nb: c, d") == "100%25 a%0D%0Ab: c, d"
    assert escape_property("100% a\r\nb: c, d") == "100%25 a%0D%0Ab%3A c%2C d"
    line = command("error", "50%\nx", file="dir/m,1:2.yaml", line=7, title="t: a, b")
    assert line == "::error file=dir/m%2C1%3A2.yaml,line=7,title=t%3A a%2C b::50%25%0Ax"


def _parse(line: str) -> tuple[str, dict[str, str], str]:
    head, message = line[2:].split("::", 1)
    level, props = head.split(" ", 1)
    return level, dict(p.split("=", 1) for p in props.split(",")), message


def test_failing_configs_annotated_at_their_yaml_line():
    results = make_results()
    lines = annotation_lines(results, env={})
    errors = [_parse(line) for line in lines if line.startswith("::error")]
    assert [(p["line"], p["file"]) for _, p, _ in errors] == [
        ("12", "examples/smollm2.yaml"),
        ("16", "examples/smollm2.yaml"),
        ("20", "examples/smollm2.yaml"),
    ]
    _, props, message = errors[0]
    assert "smart-pruning paradox" in props["title"]
    assert "%3A" in props["title"]  # "bias-gate fail: ..." escaped as a property
    assert "95%25 bounds" in message  # a % in a reason
    assert "\n" not in message and "\r" not in message
    # a message with several parts keeps its line breaks, escaped
    assert "%0A" in errors[1][2]
    warnings = [line for line in lines if line.startswith("::warning")]
    assert len(warnings) == 1 and "line=24" in warnings[0]


def test_at_most_ten_then_one_summary():
    results = make_results()
    template = results.configs[1]
    results.configs = [
        type(template)(**{**template.__dict__, "name": f"cfg-{i}", "line": 10 + i})
        for i in range(25)
    ]
    errors = [line for line in annotation_lines(results, env={}) if line.startswith("::error")]
    assert len(errors) == MAX_ANNOTATIONS == 10
    assert "16 more configs with verdict fail" in errors[-1]
    assert "line=" not in errors[-1]


def test_workspace_relative_path_and_printing():
    results = make_results()
    results.run["config_path"] = "/home/runner/work/repo/repo/ml/model.yaml"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": "/home/runner/work/repo/repo"}
    out = io.StringIO()
    assert print_annotations(results, env, stream=out) == 4
    assert "file=ml/model.yaml,line=12," in out.getvalue()
    assert print_annotations(results, {}, stream=out) == 0


def test_the_paradox_is_the_first_annotation_even_when_many_fail():
    """Twelve failing configs, the paradox one last in model.yaml: it is annotated first
    (never cut by the limit of ten), and an incomplete merge still fits in the ten."""
    results = make_results()
    plain, paradox = results.configs[1], results.configs[0]
    assert any(item.paradox for item in paradox.items)
    results.configs = [
        type(plain)(**{**plain.__dict__, "name": f"cfg-{i}", "line": 10 + i}) for i in range(12)
    ] + [paradox]
    errors = [line for line in annotation_lines(results, env={}) if line.startswith("::error")]
    assert "smart-pruning paradox" in errors[0] and f"{paradox.name}" in errors[0]
    results.run["missing_shards"] = ["3/3"]
    errors = [line for line in annotation_lines(results, env={}) if line.startswith("::error")]
    assert len(errors) == MAX_ANNOTATIONS
    assert "smart-pruning paradox" in errors[0] and "INCOMPLETE" in errors[-1]
