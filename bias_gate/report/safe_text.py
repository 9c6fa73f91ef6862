"""The one output discipline: text from data never becomes a workflow command, a raw
line, a control character or malformed XML (docs/reliability.md, decisions #58).

On GitHub Actions every line a step prints whose start (after the runner trims leading
white space) is ``::`` is a workflow command (``::error``, ``::add-mask::``,
``::stop-commands::``), and the older form ``##[command]`` is one anywhere in a line.
BBQ text is third-party data and a results JSON can be edited, so no line
built from data may be one. Here:

- :func:`safe_line` makes one line safe for a terminal or a log: control characters
  removed (a tab kept), line and paragraph separators made spaces, a lone surrogate
  made U+FFFD; a line whose start, past white space and invisible characters, is ``::``
  gets a backslash in front (``\\::error ...``: visible, an ASCII character .NET never
  trims or ignores, and in markdown ``\\:`` still renders as ``:``); every ``##[``
  becomes ``#\\#[``.
- :func:`command_line` is the only way a ``::`` line reaches the output: the gate's own
  annotation, built by :func:`workflow_command` with every property and the message
  escaped as GitHub documents; anything not of that exact shape is neutralised instead.
- :class:`SafeStream` wraps ``sys.stdout`` / ``sys.stderr`` for a ``bias-gate``
  command, so whatever a command prints passes through :func:`safe_line`.
- :func:`one_line` and :func:`xml_text` make a data string fit one markdown or terminal
  line, or XML 1.0.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from bias_gate.results import GateResults

#: The workflow commands the gate itself emits (annotations).
OWN_COMMANDS = ("error", "warning", "notice")

#: Put in front of a line from data that would be a workflow command.
NEUTRALISER = "\\"

#: Unicode categories the runner may trim or ignore in front of ``::`` (white space,
#: separators, controls, formatting and combining marks, private and unassigned).
_INVISIBLE = frozenset(("Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me"))

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_SEPARATORS = re.compile(r"[\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_OWN = re.compile(
    r"::(?:" + "|".join(OWN_COMMANDS) + r")"
    r"(?: [a-z]+=[^,:\x00-\x08\x0a-\x1f]*(?:,[a-z]+=[^,:\x00-\x08\x0a-\x1f]*)*)?"
    r"::[^\x00-\x08\x0a-\x1f]*"
)


def _leading_visible(line: str) -> str:
    """``line`` past its leading white space and invisible characters."""
    for index, char in enumerate(line):
        if not char.isspace() and unicodedata.category(char) not in _INVISIBLE:
            return line[index:]
    return ""


def is_command(line: str) -> bool:
    """Whether a runner could read ``line`` as a workflow command."""
    return _leading_visible(line).startswith("::") or "##[" in line


def strip_controls(text: str) -> str:
    """``text`` without control characters (tab and line feed kept), line and paragraph
    separators made spaces, lone surrogates made U+FFFD."""
    text = _SURROGATE.sub("\ufffd", text)
    text = _SEPARATORS.sub(" ", text)
    return re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", text)


def safe_line(line: str) -> str:
    """One line of output made safe (see the module doc); a line feed inside ``line``
    is made a space, so the result is always one line."""
    line = strip_controls(line).replace("\n", " ")
    line = line.replace("##[", "#\\#[")
    if _leading_visible(line).startswith("::"):
        line = NEUTRALISER + line
    return line


def safe_text(text: str) -> str:
    """Every line of ``text`` through :func:`safe_line` (its line feeds kept)."""
    return "\n".join(safe_line(line) for line in text.split("\n"))


def safe_lines(lines: Iterable[str]) -> list[str]:
    """Each of ``lines`` as output lines (a line holding a line feed becomes several)."""
    return [safe_line(part) for line in lines for part in line.split("\n")]


def one_line(text: str) -> str:
    """A data string as one line: controls removed, CR, LF and tab made spaces."""
    return strip_controls(text.replace("\r", " ").replace("\n", " ").replace("\t", " "))


def xml_text(text: str) -> str:
    """``text`` with what XML 1.0 cannot hold removed (controls but tab, LF and CR; the
    non-characters U+FFFE and U+FFFF) and lone surrogates made U+FFFD."""
    return _NOT_XML.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else "", text)


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """A JSON value with ``change`` applied to every string in it, keys included."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {map_strings(k, change): map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [map_strings(v, change) for v in value]
    return value


def plot_label(text: str) -> str:
    """A data string as a matplotlib label: one line, and ``$`` shown as itself (never
    the start of mathtext, which fails on most text)."""
    return one_line(text).replace("$", "\\$")


def with_text(results: GateResults, change: Callable[[str], str]) -> GateResults:
    """``results`` with ``change`` applied to every string (names, reasons, paths, keys);
    the flip lists are left out (the writers that use this do not show them)."""
    from bias_gate.results import GateResults

    return GateResults.from_json(map_strings(results.to_json(flip_limit=0), change))


# -- the gate's own workflow commands -------------------------------------------------------


def escape_data(text: str) -> str:
    """Escape a workflow-command message: ``%``, CR and LF (GitHub's rules); other
    control characters are removed and ``##[`` (the old command form) is broken up."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    text = _CONTROL.sub("", _SURROGATE.sub("\ufffd", _SEPARATORS.sub(" ", text)))
    return text.replace("##[", "#\\#[")


def escape_property(text: str) -> str:
    """Escape a workflow-command property value: as data, plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(level: str, message: str, properties: Iterable[tuple[str, str]]) -> str:
    """``::level name=value,...::message``, every value and the message escaped."""
    if level not in OWN_COMMANDS:
        raise ValueError(f"not a command the gate emits: {level!r}")
    props = ",".join(f"{name}={escape_property(value)}" for name, value in properties)
    return f"::{level}{' ' + props if props else ''}::{escape_data(message)}"


def command_line(line: str) -> str:
    """``line`` unchanged when it is exactly a command :func:`workflow_command` builds,
    else neutralised like any other line."""
    return line if _OWN.fullmatch(line) else safe_line(line)


# -- streams ----------------------------------------------------------------------------------


class SafeStream(io.TextIOBase):
    """A text stream that writes each complete line through :func:`safe_line` to
    ``raw`` (a partial line waits for its end, or for :meth:`close_line`);
    :meth:`write_command` writes the gate's own command lines."""

    def __init__(self, raw: TextIO):
        super().__init__()
        self.raw = raw
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._pending += text
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            self.raw.write(safe_line(line) + "\n")
        return len(text)

    def write_command(self, line: str) -> None:
        if self._pending:  # a command starts a line of its own
            self.write("\n")
        self.raw.write(command_line(line) + "\n")

    def close_line(self) -> None:
        """Write a pending partial line (ends without a line feed)."""
        if self._pending:
            self.raw.write(safe_line(self._pending))
            self._pending = ""

    def flush(self) -> None:
        self.raw.flush()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.raw, "encoding", "utf-8")

    def isatty(self) -> bool:
        return self.raw.isatty()


def write_commands(lines: Iterable[str], stream: TextIO) -> None:
    """Write the gate's own command lines to ``stream`` (neutralising any that are not
    of their exact shape)."""
    for line in lines:
        if isinstance(stream, SafeStream):
            stream.write_command(line)
        else:
            stream.write(command_line(line) + "\n")
    stream.flush()
