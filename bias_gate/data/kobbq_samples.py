"""KoBBQ samples: the rows of the official TSV, their ``sample_id``, and the gate's
:class:`~bias_gate.data.items.BBQItem` for each.

A ``sample_id`` (naver-ai/KoBBQ ``data/README.md``, "Data Description") reads
``<category>-<template><variant>-<sample>-<amb|dis>-<bsd|cnt>``, e.g.
``age-001a-002-amb-bsd``: category ``age``, template ``001``, variant ``a`` (``a``/``c``:
counter-biased context, ``b``/``d``: biased context), sample ``002``, an ambiguous
context, the biased question. The authors' evaluation adds ``-0``/``-1``/``-2`` for the
three option orders it asks (:func:`split_permutation`).

The gate's item keeps BBQ's meanings (docs/kobbq.md): ``biased_index`` is the sample's
own ``biased_answer`` (KoBBQ names it per question, already polarity-corrected);
``question_polarity`` is ``neg`` for the biased question (``bsd``) and ``nonneg`` for
the counter-biased one (``cnt``); ``question_index`` is the template (the sampling
stratum); ``example_id`` is the sample_id's numbers in digits
(:func:`example_id`), so ``<Category>/<example_id>`` maps back to the sample_id
(:func:`sample_id_of`). This module imports no torch.
"""

from __future__ import annotations

import ast
import csv
import re
from dataclasses import dataclass
from pathlib import Path

from bias_gate.data.items import BBQItem
from bias_gate.errors import DataError

#: KoBBQ's 12 categories: the sample_id prefix -> the gate's category name.
CATEGORY_NAMES: dict[str, str] = {
    "age": "Age",
    "disability_status": "Disability_status",
    "domestic_area_of_origin": "Domestic_area_of_origin",
    "educational_background": "Educational_background",
    "family_structure": "Family_structure",
    "gender_identity": "Gender_identity",
    "physical_appearance": "Physical_appearance",
    "political_orientation": "Political_orientation",
    "race_ethnicity_nationality": "Race_ethnicity_nationality",
    "religion": "Religion",
    "ses": "SES",
    "sexual_orientation": "Sexual_orientation",
}
CATEGORY_PREFIXES: dict[str, str] = {name: prefix for prefix, name in CATEGORY_NAMES.items()}

#: The text of the unknown option in the official files.
UNKNOWN_TEXT = "알 수 없음"

#: The columns a samples TSV must have (the official files have these and more).
REQUIRED_COLUMNS: tuple[str, ...] = (
    "sample_id",
    "label_annotation",
    "context",
    "question",
    "choices",
    "biased_answer",
    "answer",
)

_SAMPLE_ID = re.compile(
    r"^(?P<category>[a-z_]+)-(?P<template>\d{3})(?P<variant>[a-d])-(?P<sample>\d{3})"
    r"-(?P<context>amb|dis)-(?P<question>bsd|cnt)$"
)
_PERMUTATION = re.compile(r"^(?P<base>.+)-(?P<order>[012])$")
_VARIANTS = "abcd"


@dataclass(frozen=True)
class SampleId:
    """The parts of a ``sample_id`` (module docstring)."""

    prefix: str
    template: str
    variant: str
    sample: str
    ambiguous: bool
    biased_question: bool

    @property
    def category(self) -> str:
        return CATEGORY_NAMES[self.prefix]

    @property
    def biased_context(self) -> bool:
        """Variants ``b`` and ``d`` (the authors' ``dis-biased`` disambiguated contexts)."""
        return self.variant in ("b", "d")


def parse_sample_id(text: str) -> SampleId:
    """The parts of ``text``; a :class:`DataError` (key ``sample_id``) if it is not a
    KoBBQ sample_id of a known category."""
    match = _SAMPLE_ID.match(text)
    if match is None or match["category"] not in CATEGORY_NAMES:
        raise DataError(
            f"{text!r} is not a KoBBQ sample_id like 'age-001a-002-amb-bsd' "
            f"(categories: {', '.join(CATEGORY_NAMES)})",
            key="sample_id",
        )
    return SampleId(
        prefix=match["category"],
        template=match["template"],
        variant=match["variant"],
        sample=match["sample"],
        ambiguous=match["context"] == "amb",
        biased_question=match["question"] == "bsd",
    )


def split_permutation(text: str) -> tuple[str, int | None]:
    """``"age-001a-002-amb-bsd-2"`` -> ``("age-001a-002-amb-bsd", 2)``; an id without
    the authors' option-order suffix -> ``(text, None)``."""
    match = _PERMUTATION.match(text)
    if match is not None and _SAMPLE_ID.match(match["base"]):
        return match["base"], int(match["order"])
    return text, None


def example_id(parts: SampleId) -> int:
    """The sample_id's numbers as one integer, digit by digit: template (3), variant
    (a-d -> 1-4), sample (3), context (amb 1, dis 2), question (bsd 1, cnt 2).
    ``age-001a-002-amb-bsd`` -> ``1_1_002_1_1`` = 1100211; unique within a category."""
    digits = (
        f"{parts.template}{_VARIANTS.index(parts.variant) + 1}{parts.sample}"
        f"{1 if parts.ambiguous else 2}{1 if parts.biased_question else 2}"
    )
    return int(digits)


def sample_id_of(category: str, number: int) -> str:
    """The sample_id of the gate's item ``<category>/<number>`` (inverse of
    :func:`example_id`); a :class:`DataError` when it names no possible sample."""
    digits = f"{number:09d}"
    prefix = CATEGORY_PREFIXES.get(category)
    context = {"1": "amb", "2": "dis"}.get(digits[7:8])
    question = {"1": "bsd", "2": "cnt"}.get(digits[8:])
    valid = number >= 0 and len(digits) == 9 and digits[3] in "1234"
    if prefix is None or context is None or question is None or not valid:
        raise DataError(f"no KoBBQ sample {category}/{number}", key="example_id")
    variant = _VARIANTS[int(digits[3]) - 1]
    return f"{prefix}-{digits[:3]}{variant}-{digits[4:7]}-{context}-{question}"


@dataclass(frozen=True)
class KoBBQSample:
    """One row of a KoBBQ samples TSV: the fields the evaluation reads."""

    sample_id: str
    label_annotation: str
    context: str
    question: str
    choices: tuple[str, str, str]
    biased_answer: str
    answer: str
    line: int

    @property
    def parts(self) -> SampleId:
        return parse_sample_id(self.sample_id)


def _choices(text: str, where: tuple[str, int]) -> tuple[str, str, str]:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = None
    if not (isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) for v in value)):
        raise DataError(
            "choices must be a Python list of three strings, e.g. ['a', 'b', '알 수 없음']",
            file=where[0],
            line=where[1],
            key="choices",
        )
    if len(set(value)) != 3:
        raise DataError("the three choices must differ", file=where[0], line=where[1])
    return (value[0], value[1], value[2])


def _sample(row: dict[str, str], where: tuple[str, int]) -> KoBBQSample:
    try:
        parse_sample_id(row["sample_id"])
    except DataError as exc:
        raise DataError(exc.message, file=where[0], line=where[1], key="sample_id") from None
    choices = _choices(row["choices"], where)
    for key in ("biased_answer", "answer"):
        if row[key] not in choices:
            raise DataError(
                f"{row[key]!r} is not one of the choices {list(choices)}",
                file=where[0],
                line=where[1],
                key=key,
            )
    if UNKNOWN_TEXT not in choices or row["biased_answer"] == UNKNOWN_TEXT:
        raise DataError(
            f"the choices must hold the unknown option {UNKNOWN_TEXT!r}, and the biased "
            "answer must be another",
            file=where[0],
            line=where[1],
            key="choices",
        )
    return KoBBQSample(
        sample_id=row["sample_id"],
        label_annotation=row["label_annotation"],
        context=row["context"],
        question=row["question"],
        choices=choices,
        biased_answer=row["biased_answer"],
        answer=row["answer"],
        line=where[1],
    )


def parse_samples(text: str, origin: str) -> list[KoBBQSample]:
    """Every sample of a KoBBQ samples TSV (a header line, tab-separated, as
    ``data/KoBBQ_test_samples.tsv``); a malformed row is a DataError naming its line."""
    lines = text.splitlines()
    reader = csv.DictReader(lines, delimiter="\t")
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DataError(
            f"not a KoBBQ samples TSV: no column {', '.join(missing)} in the header",
            file=origin,
            line=1,
        )
    samples: list[KoBBQSample] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if any(row.get(c) is None for c in REQUIRED_COLUMNS):
            raise DataError("too few tab-separated fields", file=origin, line=line)
        sample = _sample(row, (origin, line))
        if sample.sample_id in seen:
            raise DataError(
                f"second row for {sample.sample_id} (first on line {seen[sample.sample_id]})",
                file=origin,
                line=line,
            )
        seen[sample.sample_id] = line
        samples.append(sample)
    if not samples:
        raise DataError("no samples in the file", file=origin)
    return samples


def read_samples(path: Path) -> list[KoBBQSample]:
    if not path.is_file():
        raise DataError(
            "KoBBQ samples file not found; give KoBBQ_test_samples.tsv, a folder holding "
            "it, or 'official'",
            file=path,
        )
    return parse_samples(path.read_text(encoding="utf-8"), str(path))


def to_item(sample: KoBBQSample) -> BBQItem:
    """The gate's item for ``sample`` (module docstring)."""
    parts = sample.parts
    choices = sample.choices
    unknown = choices.index(UNKNOWN_TEXT)
    biased = choices.index(sample.biased_answer)
    other = next(i for i in range(3) if i not in (unknown, biased))
    # The stereotyped (target) group: the biased answer of the biased question, the
    # other group for the counter-biased question.
    stereotyped = biased if parts.biased_question else other
    return BBQItem(
        category=parts.category,
        example_id=example_id(parts),
        question_index=parts.template,
        question_polarity="neg" if parts.biased_question else "nonneg",
        context_condition="ambig" if parts.ambiguous else "disambig",
        context=sample.context,
        question=sample.question,
        answers=choices,
        label=choices.index(sample.answer),
        unknown_index=unknown,
        biased_index=biased,
        stereotyped_index=stereotyped,
        stereotyped_groups=(choices[stereotyped],),
    )
