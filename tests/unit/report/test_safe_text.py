"""The one output discipline (bias_gate.report.safe_text): lines from data never become
workflow commands, controls are stripped, the gate's own commands are escaped."""

from __future__ import annotations

import io

import pytest

from bias_gate.report.safe_text import (
    SafeStream,
    command_line,
    is_command,
    one_line,
    safe_line,
    safe_text,
    workflow_command,
    write_commands,
    xml_text,
)
from tests.support.hostile import HOSTILE, assert_no_injection, assert_xml


@pytest.mark.parametrize(
    "line",
    [
        "::error::x",
        "  ::error::x",
        "\t::add-mask::secret",
        "\u00a0::stop-commands::t",
        "\u200b::error::zero-width in front",
        "\ufeff::error::bom in front",
        "\u3000::warning::ideographic space",
        "x ##[error]old form anywhere",
    ],
)
def test_a_command_from_data_is_neutralised(line):
    assert is_command(line)
    out = safe_line(line)
    assert not is_command(out)
    assert out.startswith("\\") or "#\\#[" in out


def test_ordinary_lines_are_unchanged():
    for line in ("bias-gate summary: SmolLM2 (default thresholds)", "a::b", "  wanda-50  Age"):
        assert safe_line(line) == line
    assert safe_text("a\n\tb\n") == "a\n\tb\n"


def test_controls_separators_and_surrogates():
    assert safe_line("a\x00b\x1b[31mc\x7fd\x85e\rf") == "ab[31mcdef"
    assert safe_line("a\u2028b\u2029c") == "a b c"
    assert safe_line("a\ud800b") == "a\ufffdb"
    assert safe_line("one\ntwo") == "one two"
    assert one_line("a\r\nb\tc") == "a  b c"


def test_xml_text_is_xml_safe():
    text = xml_text(HOSTILE)
    assert_xml(f"<a>{text.replace('<', '&lt;').replace('&', '&amp;')}</a>")
    assert "\ud800" not in text and "\x00" not in text


def test_workflow_command_escapes_every_property_and_the_message():
    line = workflow_command(
        "error", "100% a\r\nb\n::add-mask::x", [("file", "m:1,2.yaml"), ("line", "3\n::x")]
    )
    assert line == ("::error file=m%3A1%2C2.yaml,line=3%0A%3A%3Ax::100%25 a%0D%0Ab%0A::add-mask::x")
    assert command_line(line) == line
    with pytest.raises(ValueError):
        workflow_command("add-mask", "x", [])


def test_only_the_exact_shape_passes_as_a_command():
    assert command_line("::add-mask::secret").startswith("\\")
    assert command_line("::error title=a:b::x").startswith("\\")  # an unescaped property
    assert command_line("::error title=t::x\n::add-mask::y").startswith("\\")


def test_safe_stream_sanitises_every_line_and_passes_own_commands():
    raw = io.StringIO()
    stream = SafeStream(raw)
    stream.write("head " + HOSTILE)
    stream.write(" tail")
    write_commands([workflow_command("error", HOSTILE, [("title", HOSTILE)])], stream)
    stream.write("::partial")
    stream.close_line()
    assert_no_injection(raw.getvalue(), own=1)
    assert raw.getvalue().endswith("\\::partial")


def test_a_tab_in_a_property_keeps_the_command_whole():
    line = workflow_command("warning", "a\tb", [("title", "x\ty")])
    assert command_line(line) == line
