"""Input files as UTF-8 text, and their JSON lines, or one line naming the file and the
line of what is wrong."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bias_gate.errors import BiasGateError


def decode_utf8(data: bytes, file: str | Path, error: type[BiasGateError]) -> str:
    """``data`` decoded as UTF-8; otherwise ``error`` at the line of the first byte that
    is not UTF-8, saying which byte and what to do."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} "
            f"({exc.reason}); save the file as UTF-8",
            file=file,
            line=line,
        ) from None


def read_utf8(path: Path, error: type[BiasGateError]) -> str:
    """The text of ``path`` (:func:`decode_utf8`); an unreadable file is ``error`` too."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(f"cannot read file ({exc.strerror})", file=path) from None
    return decode_utf8(data, path, error)


def json_line(
    text: str,
    file: str | Path,
    line: int,
    error: type[BiasGateError],
    invalid: str = "not valid JSON",
) -> Any:
    """One line of a JSON-lines file; bad JSON (``invalid`` says so), an integer too long
    to read or nesting too deep is ``error`` at ``file`` and ``line``, never a traceback."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{invalid} ({exc.msg})", file=file, line=line) from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise error(f"not a usable JSON line ({exc})", file=file, line=line) from None
    except RecursionError:
        raise error("JSON nested too deeply", file=file, line=line) from None
