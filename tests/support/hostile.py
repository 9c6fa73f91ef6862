"""Hostile text and files for the issue-26 tests: strings that try to become
GitHub workflow commands, raw markdown lines, HTML or malformed XML, and the checks every
writer's output must pass."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from bias_gate.report.safe_text import is_command

#: A line of data that would be a workflow command if printed as it is.
INJECTED = "\n::error title=BBQ::injected-from-bbq-data\n::add-mask::x\n"

#: One string with every trap: commands, a fence, HTML, pipes, controls, a lone surrogate.
HOSTILE = (
    "evil" + INJECTED + "```\n</details><script>alert(1)</script> | a | b |\r"
    "\x00\x07\x1b[31m\x85\u2028 \u200b::warning::zw ##[error]v1 `tick`\ud800 end"
)

_OWN = re.compile(r"::(error|warning|notice) [^\n]*::[^\n]*")


def command_lines(text: str) -> list[str]:
    """The lines of ``text`` a runner would read as workflow commands."""
    return [line for line in re.split(r"\r\n|\r|\n", text) if is_command(line)]


def assert_no_injection(text: str, own: int | None = 0) -> None:
    """No line of ``text`` is a workflow command, except (``own``: how many, None = any)
    the gate's own escaped annotations, each one line whose message holds no raw
    ``::`` line."""
    found = command_lines(text)
    for line in found:
        assert _OWN.fullmatch(line), line
        assert "\n" not in line and "\r" not in line
    if own is not None:
        assert len(found) == own, found


def assert_xml(text: str) -> ET.Element:
    """``text`` parses as XML (raises otherwise)."""
    return ET.fromstring(text.encode("utf-8"))


def laughs(levels: int) -> str:
    """A "billion laughs" YAML document: ``9 ** levels`` strings reached through
    ``9 * (levels - 1)`` aliases (each line's list holds nine of the line before)."""
    text = "a: &a [" + ", ".join(['"lol"'] * 9) + "]\n"
    previous = "a"
    for name in "bcdefghijk"[: levels - 1]:
        text += f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]\n"
        previous = name
    return text
