"""The ``bias-gate`` command. Each subcommand lives in :mod:`bias_gate.commands` as a
module with ``configure(parser)`` and ``run(args) -> int``; this file only wires them.

Command modules must stay light at import (no torch): heavy imports go inside ``run``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import import_module

from bias_gate import __version__
from bias_gate.errors import BiasGateError

#: (words, module, one-line help). Words with a space are nested: "bbq export". A
#: module named ``module:name`` holds several commands, as ``configure_<name>`` and
#: ``run_<name>``.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("bbq export", "bias_gate.commands.bbq_export", "write the BBQ items the gate asks, as JSONL"),
    ("bbq score", "bias_gate.commands.bbq_score", "score your own predictions on BBQ"),
    ("cache ls", "bias_gate.commands.cache_cmd:ls", "list the cache's entries, sizes, last use"),
    ("cache prune", "bias_gate.commands.cache_cmd:prune", "cut the cache down, LRU first"),
    ("compare", "bias_gate.commands.compare", "judge answers produced anywhere, as the gate does"),
    ("oc", "bias_gate.commands.oc", "simulate a profile's error rates and items used"),
    ("power", "bias_gate.commands.power", "items an unchanged model needs to pass"),
    ("report", "bias_gate.commands.report", "render or merge results JSON"),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bias-gate",
        description="Stop a compressed LLM from shipping when compression made it more biased.",
    )
    parser.add_argument("--version", action="version", version=f"bias-gate {__version__}")
    top = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction] = {}
    for words, module_name, help_text in COMMANDS:
        *group_words, leaf = words.split()
        target = top
        for word in group_words:
            if word not in groups:
                group_parser = top.add_parser(word, help=f"{word} commands")
                groups[word] = group_parser.add_subparsers(
                    dest=f"{word}_command", required=True, metavar="COMMAND"
                )
            target = groups[word]
        sub = target.add_parser(leaf, help=help_text, description=help_text)
        module_path, _, name = module_name.partition(":")
        module = import_module(module_path)
        suffix = f"_{name}" if name else ""
        getattr(module, f"configure{suffix}")(sub)
        sub.set_defaults(_run=getattr(module, f"run{suffix}"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (2 for bad input, one line on stderr).

    Everything a command prints to stdout or stderr goes through
    :class:`bias_gate.report.safe_text.SafeStream`: no line from data becomes a GitHub
    workflow command or carries a control character (docs/reliability.md)."""
    from bias_gate.report.safe_text import SafeStream

    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(saved[0]), SafeStream(saved[1])
    try:
        return _main(argv)
    finally:
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, SafeStream):
                stream.close_line()
                stream.flush()
        sys.stdout, sys.stderr = saved


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args._run(args))
    except BiasGateError as exc:
        print(f"bias-gate: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
