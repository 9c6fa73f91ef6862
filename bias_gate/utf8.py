"""Input files as UTF-8 text, or one line naming the file and the line of the bad byte."""

from __future__ import annotations

from pathlib import Path

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
