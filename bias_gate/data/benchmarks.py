"""Benchmarks: where a gate's items come from, which categories they have, and the
language the prompt and the answers are in.

A benchmark is registered by name in the entry point group ``bias_gate.benchmarks``
(:data:`bias_gate.registry.BENCHMARKS`) and chosen with ``data.benchmark`` in
model.yaml (default ``bbq``). It gives:

- ``categories``: the category names ``data.categories`` may use;
- ``source(text, base_dir, data_dir)``: the item source a ``data.source`` string names
  (items in the official BBQ format, :class:`~bias_gate.data.items.BBQItem`, whose
  ``unknown_index`` and ``biased_index`` are the targets every metric reads);
- ``system_prompt`` and ``template``: the default ``scoring.prompt`` in the benchmark's
  language (a config's own ``scoring.prompt`` wins);
- ``parse_answer(text, shown)``: how a generated answer is read (``generate`` mode).

Optional members (looked up with ``getattr``, so the registry's presence check does not
ask for them; KoBBQ, :mod:`bias_gate.data.kobbq`, has all three):

- ``score_predictions(source, predictions, categories, data_dir)``: the benchmark's own
  scores of a predictions file, as a JSON object (``bias-gate bbq score --benchmark``);
- ``item_id_field`` and ``parse_item_id(value)``: the field that names an item in an
  answers file by the benchmark's own id, and ``(category, example_id)`` of that id
  (``bias-gate compare --benchmark``).

:class:`BBQFormat` is the base of a benchmark in the official JSONL format (KoBBQ, a
translation, a team's own templates): a folder of ``<Category>.jsonl`` files; a subclass
sets its name, categories, prompt and parser. :class:`BBQ` is the official BBQ.
This module imports no torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Protocol

from bias_gate.config.schema import DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE
from bias_gate.data.items import ALL_CATEGORIES
from bias_gate.data.parse import parse_answer as parse_english_answer
from bias_gate.data.sources import BBQSource, DirectorySource, resolve_source
from bias_gate.errors import DataError


class Benchmark(Protocol):
    """A bias benchmark in the BBQ item format (see the module docstring)."""

    name: ClassVar[str]
    description: ClassVar[str]
    categories: ClassVar[tuple[str, ...]]
    system_prompt: ClassVar[str | None]
    template: ClassVar[str]

    def source(self, text: str, base_dir: Path | None, data_dir: Path | None) -> BBQSource:
        """The items ``data.source`` = ``text`` names; a relative folder is relative to
        ``base_dir``; ``data_dir`` is the local data mirror (or ``None``)."""
        ...

    def parse_answer(self, text: str, shown: Sequence[str]) -> int | None:
        """The display position (0 = A) of the option a generated ``text`` names, or
        ``None`` when it names none; ``shown``: the option texts in display order."""
        ...


def get_benchmark(name: str, key: str = "--benchmark") -> Benchmark:
    """The benchmark registered as ``name``, instantiated; a :class:`DataError` at
    ``key`` listing the registered names when there is none (for the commands)."""
    from bias_gate.registry import BENCHMARKS, UnknownName

    try:
        benchmark: Benchmark = BENCHMARKS.get(name)()
    except UnknownName as exc:
        raise DataError(str(exc), key=key) from None
    return benchmark


class BBQFormat:
    """A benchmark whose items are ``<Category>.jsonl`` files in the official BBQ format,
    in a folder given as ``data.source``. Subclasses set the class attributes and may
    replace :meth:`parse_answer` (default: the English reader of
    :mod:`bias_gate.data.parse`)."""

    name: ClassVar[str] = "bbq-format"
    description: ClassVar[str] = "a folder of <Category>.jsonl files in the BBQ format"
    categories: ClassVar[tuple[str, ...]] = ()
    system_prompt: ClassVar[str | None] = DEFAULT_SYSTEM_PROMPT
    template: ClassVar[str] = DEFAULT_TEMPLATE

    def source(self, text: str, base_dir: Path | None, data_dir: Path | None) -> BBQSource:
        if text == "official" or text.startswith("hf:"):
            raise DataError(
                f"benchmark {self.name!r} reads a folder of <Category>.jsonl files; "
                f"give its path as data.source (not {text!r})",
                key="data.source",
            )
        path = Path(text).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return DirectorySource(
            path,
            fix=f"put the {self.name} <Category>.jsonl files there",
            allowed=self.categories,
        )

    def parse_answer(self, text: str, shown: Sequence[str]) -> int | None:
        return parse_english_answer(text, shown)


class BBQ(BBQFormat):
    """The official BBQ (Parrish et al. 2022): the eleven categories, downloaded
    (``official``), from a folder, or from the Hugging Face Hub (``hf:<id>``)."""

    name: ClassVar[str] = "bbq"
    description: ClassVar[str] = "BBQ, the Bias Benchmark for QA (English)"
    categories: ClassVar[tuple[str, ...]] = ALL_CATEGORIES

    def source(self, text: str, base_dir: Path | None, data_dir: Path | None) -> BBQSource:
        return resolve_source(text, base_dir, data_dir)
