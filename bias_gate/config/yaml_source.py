"""Load YAML while remembering the line of every key, so errors can point at it.

Bounded: a file over :data:`MAX_YAML_BYTES`, more than :data:`MAX_ALIASES` aliases, more
than :data:`MAX_NODES` values once aliases are expanded (a "billion laughs" file), nesting
deeper than :data:`MAX_DEPTH`, a key given twice in one mapping, or bytes that are not
UTF-8 are each one :class:`~bias_gate.errors.ConfigError` at the file and line, found
before anything is built from the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bias_gate.errors import ConfigError
from bias_gate.utf8 import decode_utf8

Loc = tuple[str | int, ...]

#: The largest YAML file read (a model.yaml or a threshold profile is a few KiB).
MAX_YAML_BYTES = 256 * 1024
#: The most aliases (``*name``) one file may use.
MAX_ALIASES = 100
#: The most values (keys, scalars, lists, mappings) a file may hold, aliases expanded.
MAX_NODES = 100_000
#: The deepest nesting of lists and mappings.
MAX_DEPTH = 64


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: its data and the 1-based line of each key path."""

    path: Path
    data: Any
    lines: dict[Loc, int]

    def line_of(self, loc: Loc) -> int | None:
        """The line of the longest prefix of ``loc`` that the file spells out."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None


class _BoundedLoader(yaml.SafeLoader):  # type: ignore[misc]  # PyYAML ships no types
    """PyYAML's safe loader, counting aliases as it composes (it never expands them)."""

    def __init__(self, stream: str, path: Path) -> None:
        super().__init__(stream)
        self.path = path
        self.aliases = 0
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise self._bound(f"more than {MAX_ALIASES} YAML aliases; write the values out")
        if self.depth >= MAX_DEPTH:
            raise self._bound(f"nested deeper than {MAX_DEPTH} levels; flatten the file")
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def _bound(self, message: str) -> ConfigError:
        """A bound crossed at the next event, as one line at its line."""
        return ConfigError(message, file=self.path, line=self.peek_event().start_mark.line + 1)


class _Indexer:
    """Walks the composed document once: the line of every key path, duplicate keys, and
    the size and depth bounds (counted with aliases expanded, stopping at the bound)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.nodes = 0
        self.lines: dict[Loc, int] = {(): 1}
        self._sizes: dict[int, int] = {}

    def _fail(self, message: str, node: yaml.Node) -> ConfigError:
        return ConfigError(message, file=self.path, line=node.start_mark.line + 1)

    def size(self, node: yaml.Node, depth: int = 0) -> int:
        """How many values ``node`` holds with aliases expanded (each shared node
        counted once per use, computed once)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        if depth > MAX_DEPTH:
            raise self._fail(f"nested deeper than {MAX_DEPTH} levels; flatten the file", node)
        total = 1
        if isinstance(node, yaml.MappingNode):
            total += sum(1 + self.size(value, depth + 1) for _, value in node.value)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(self.size(item, depth + 1) for item in node.value)
        self._sizes[id(node)] = total
        return total

    def walk(self, node: yaml.Node, loc: Loc, depth: int = 0, line: int = 1) -> None:
        """Index ``node`` at ``loc``; ``line``: where it is written (an alias's target
        starts elsewhere), the line a crossed bound is reported at. A child is checked
        before it is entered, so at most :data:`MAX_NODES` values are ever visited."""
        if depth > MAX_DEPTH:
            raise self._fail(f"nested deeper than {MAX_DEPTH} levels; flatten the file", node)
        self.nodes += 1
        if depth > 0 and self.nodes + self.size(node) - 1 > MAX_NODES:
            raise ConfigError(
                f"more than {MAX_NODES} values with aliases expanded; simplify the file",
                file=self.path,
                line=line,
            )
        if isinstance(node, yaml.MappingNode):
            self._check_duplicates(node)
            for key_node, value_node in node.value:
                # A list or mapping as a key is refused when the data is built; index it
                # by its line meanwhile (its value is unhashable).
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                child = (*loc, key)
                self.lines.setdefault(child, key_node.start_mark.line + 1)
                self.nodes += 1
                self.walk(value_node, child, depth + 1, key_node.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*loc, index)
                self.lines.setdefault(child, item.start_mark.line + 1)
                self.walk(item, child, depth + 1, line)

    def _check_duplicates(self, node: yaml.MappingNode) -> None:
        first: dict[str, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            line = key_node.start_mark.line + 1
            if key_node.value in first:
                raise self._fail(
                    f"key {key_node.value!r} is given twice (lines {first[key_node.value]} "
                    f"and {line}); keep one",
                    key_node,
                )
            first[key_node.value] = line


def _read(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise ConfigError(
                f"file is {size} bytes, over the {MAX_YAML_BYTES}-byte limit of a YAML "
                "input; give the right file",
                file=path,
                line=1,
            )
        with path.open("rb") as handle:
            data = handle.read(MAX_YAML_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            "file not found; pass the path of an existing YAML file", file=path
        ) from None
    except IsADirectoryError:
        raise ConfigError("is a directory; pass the path of a YAML file", file=path) from None
    except OSError as exc:
        raise ConfigError(f"cannot read file ({exc.strerror})", file=path) from None
    if len(data) > MAX_YAML_BYTES:  # grew since stat, or a device
        raise ConfigError(
            f"file is over the {MAX_YAML_BYTES}-byte limit of a YAML input", file=path, line=1
        )
    return decode_utf8(data, path, ConfigError)


def load_yaml(path: Path) -> YamlDocument:
    """Read ``path`` within the bounds above; a missing or unreadable file, a YAML syntax
    error or a bound crossed is a :class:`ConfigError` at its line."""
    text = _read(path)
    try:
        loader = _BoundedLoader(text, path)
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, path) from None
    try:
        node = loader.get_single_node()
        indexer = _Indexer(path)
        if node is not None:
            indexer.walk(node, ())
        data = loader.construct_document(node) if node is not None else None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"invalid YAML: {problem}; fix the syntax",
            file=path,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    except ValueError as exc:  # a number past Python's 4300-digit conversion limit
        raise ConfigError(f"invalid YAML value ({exc}); fix the value", file=path) from None
    except RecursionError:
        raise ConfigError(
            f"nested deeper than {MAX_DEPTH} levels; flatten the file", file=path
        ) from None
    finally:
        loader.dispose()
    return YamlDocument(path=path, data=data, lines=indexer.lines)


def _reader_error(exc: yaml.reader.ReaderError, text: str, path: Path) -> ConfigError:
    """A character YAML does not allow (a control character), at its line."""
    character = exc.character if isinstance(exc.character, int) else ord(str(exc.character))
    return ConfigError(
        f"character U+{character:04X} is not allowed in YAML; remove it or write it escaped "
        'in a double-quoted string ("\\x07")',
        file=path,
        line=text.count("\n", 0, exc.position) + 1,
    )
