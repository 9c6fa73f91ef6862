"""Official BBQ JSONL records -> :class:`BBQItem`, with the bias targets derived.

Three indices are derived per item (see docs/data.md for the full rule):

* ``unknown_index``: the option whose ``answer_info`` group label is ``"unknown"``.
* ``stereotyped_index``: the option whose group is among the item's stereotyped groups,
  ignoring the question's polarity (the 2026 pruning study's definition).
* ``biased_index``: the official BBQ rule (nyu-mll/BBQ, ``analysis_scripts/
  BBQ_results_metadata.R``, which produces the ``target_loc`` that
  ``BBQ_calculate_bias_score.R`` scores against): for a negative question it is the
  stereotyped option; for a non-negative question it is the *other* non-unknown option.

Group matching follows the official script's special cases, re-implemented here:
gender words -> ``M``/``F``; transgender groups -> ``trans``; ``low SES``/``high SES``
-> ``lowSES``/``highSES``; exact ``old``/``nonOld`` matching for Age (``"old"`` is a
substring of ``"nonOld"``); Nationality also matches on the answer text; the answer
text ``"African"`` never matches a group list naming ``"African American"``; and the
intersectional categories parse labels such as ``"F-Black"`` and ``"lowSES-M-Black"``
and take the gender/SES target of each template from :data:`INTERSECTIONAL_VAR2`
(the official script reads it from the template CSVs; the JSONL does not carry it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bias_gate.data.items import BBQItem
from bias_gate.errors import DataError

UNKNOWN = "unknown"
REQUIRED_FIELDS: tuple[str, ...] = (
    "example_id",
    "question_index",
    "question_polarity",
    "context_condition",
    "category",
    "answer_info",
    "additional_metadata",
    "context",
    "question",
    "ans0",
    "ans1",
    "ans2",
    "label",
)


def _indices(text: str) -> frozenset[str]:
    """``"1-3,7"`` -> ``{"1", "2", "3", "7"}``: compact question_index sets."""
    out: set[str] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        out.update(str(i) for i in range(int(low), int(high or low) + 1))
    return frozenset(out)


#: The second stereotyped attribute of each intersectional template, by question_index:
#: ``Known_stereotyped_var2`` of the official template CSVs (templates/new_templates -
#: Race_x_gender.csv / Race_x_SES.csv, CC BY 4.0). The JSONL files do not carry it.
INTERSECTIONAL_VAR2: dict[str, dict[str, str]] = {
    "Race_x_gender": {
        **dict.fromkeys(_indices("1-2,7-8,43-44"), "M"),
        **dict.fromkeys(_indices("3-6,9,11-15,17-42"), "F"),
    },
    "Race_x_SES": {
        **dict.fromkeys(_indices("1-12,17-18"), "lowSES"),
        **dict.fromkeys(_indices("13-16,19-26"), "highSES"),
    },
}


@dataclass(frozen=True)
class Option:
    """One answer option as the matcher sees it: ``answer_info`` text and label, and the
    option string shown to the model."""

    text: str
    label: str
    answer: str

    @property
    def is_unknown(self) -> bool:
        return self.label == UNKNOWN


@dataclass(frozen=True)
class Record:
    """The fields of one official JSONL line that the rules read."""

    category: str
    question_index: str
    question_polarity: str
    options: tuple[Option, Option, Option]
    stereotyped_groups: tuple[str, ...]


@dataclass(frozen=True)
class Targets:
    """Derived targets of one item (indices into the three options, or ``None``)."""

    unknown_index: int
    stereotyped_index: int | None
    biased_index: int | None


# ---------------------------------------------------------------- single categories

_MALE_LABELS = frozenset({"man", "boy"})
_FEMALE_LABELS = frozenset({"woman", "girl"})
_MALE_GROUPS = frozenset({"man", "boy", "men"})
_FEMALE_GROUPS = frozenset({"woman", "women", "girl", "girls"})
_TRANS_GROUPS = frozenset(
    {
        "transgender women, transgender men",
        "transgender men",
        "transgender women",
        "transgender women, transgender men, trans",
    }
)
_SES_GROUPS = {"low SES": "lowSES", "high SES": "highSES"}


def _normalize_groups(groups: str) -> str:
    """The official rewriting of the joined stereotyped-group list (whole-string)."""
    lowered = groups.lower()
    if lowered in _MALE_GROUPS:
        return "M"
    if lowered in _FEMALE_GROUPS:
        return "F"
    if lowered in _TRANS_GROUPS:
        return "trans"
    return _SES_GROUPS.get(groups, groups)


def _normalize_label(label: str) -> str:
    """Gender words -> M/F, then the first ``M-`` and first ``F-`` removed (``F-Black``
    -> ``Black``), as the official script does for the single categories."""
    if label in _MALE_LABELS:
        label = "M"
    elif label in _FEMALE_LABELS:
        label = "F"
    return label.replace("M-", "", 1).replace("F-", "", 1)


def _base_match(category: str, groups: str, option: Option) -> bool:
    """Whether ``option`` belongs to the stereotyped ``groups`` (single categories)."""
    label = _normalize_label(option.label)
    text = option.text.replace("{", "").replace("}", "")
    if category == "Age":
        # exact: "old" is a substring of "nonOld"
        matched = label in ("old", "nonOld") and label == groups
    else:
        matched = bool(label) and label.lower() in groups.lower()
    if category == "Nationality" and text and text.lower() in groups.lower():
        matched = True
    if text == "African" and "african american" in groups.lower():
        matched = False
    if groups == "trans" and label.startswith("trans"):
        matched = True
    return matched


def _single_category_stereotyped(record: Record) -> int | None:
    """The one option in a stereotyped group; ``None`` when none or several match."""
    groups = _normalize_groups(", ".join(record.stereotyped_groups))
    matches = [i for i, o in enumerate(record.options) if _base_match(record.category, groups, o)]
    return matches[0] if len(matches) == 1 else None


# ---------------------------------------------------------------- intersectional


def _race_x_gender_parts(option: Option) -> tuple[str, str]:
    """(gender, race) of a Race_x_gender option: label ``"F-Black"`` -> ("F", "Black");
    a " man"/" woman" in the text overrides the gender; an empty label falls back to
    the option string for gender and to "Latino" for race (the official repairs)."""
    if option.is_unknown:
        return UNKNOWN, UNKNOWN
    gender, race = option.label[:1], option.label[2:]
    if " man" in option.text:
        gender = "M"
    elif " woman" in option.text:
        gender = "F"
    if not gender:
        if " man" in option.answer:
            gender = "M"
        elif " woman" in option.answer:
            gender = "F"
    return gender, race or "Latino"


def _race_x_gender_stereotyped(record: Record) -> int | None:
    """First option whose gender is the template's target and whose race occurs in the
    stereotyped races. As in the official script the race is compared without its
    first two characters (a substring test; exact for every race label in BBQ)."""
    target = INTERSECTIONAL_VAR2["Race_x_gender"].get(record.question_index)
    if target is None:
        return None
    races = ", ".join(record.stereotyped_groups)
    for i, option in enumerate(record.options):
        gender, race = _race_x_gender_parts(option)
        if gender == target[:1] and race[2:] in races:
            return i
    return None


def _race_x_ses_parts(option: Option) -> tuple[str, str]:
    """(SES, race) of a Race_x_SES option: ``"lowSES-Black"`` -> ("lowSES", "Black"),
    ``"highSES-F-Asian"`` -> ("highSES", "Asian")."""
    if option.is_unknown:
        return UNKNOWN, UNKNOWN
    ses = "highSES" if option.label[:6] == "highSE" else option.label[:6]
    race = option.label[7:].replace("M-", "").replace("F-", "").replace("-", "")
    return ses, race


_BLACK_LATINO = "Black, African American, Latino, Hispanic"


def _race_x_ses_stereotyped(record: Record) -> int | None:
    """First option whose SES is the template's target and whose race occurs in the
    stereotyped races. A template naming both Black and Latino groups is narrowed to
    the one present among the options (Latino first), as in the official script."""
    target = INTERSECTIONAL_VAR2["Race_x_SES"].get(record.question_index)
    if target is None:
        return None
    parts = [_race_x_ses_parts(o) for o in record.options]
    races = ", ".join(record.stereotyped_groups)
    present = {race for _, race in parts}
    if races == _BLACK_LATINO and present & {"Hispanic", "Latino"}:
        races = "Hispanic, Latino"
    elif races == _BLACK_LATINO and present & {"Black", "African American"}:
        races = "Black, African American"
    for i, (ses, race) in enumerate(parts):
        if ses[:3] == target[:3] and race and race in races:
            return i
    return None


#: How the stereotyped option is found, by category; the rest use the single rule.
STEREOTYPED_RULES: dict[str, Callable[[Record], int | None]] = {
    "Race_x_gender": _race_x_gender_stereotyped,
    "Race_x_SES": _race_x_ses_stereotyped,
}


# ---------------------------------------------------------------- records


def stereotyped_option(record: Record) -> int | None:
    """Index of the option whose group is stereotyped (polarity ignored), or ``None``."""
    rule = STEREOTYPED_RULES.get(record.category, _single_category_stereotyped)
    return rule(record)


def biased_option(record: Record, stereotyped: int | None) -> int | None:
    """The official target: ``stereotyped`` for a negative question; for a non-negative
    one the other option that is not unknown (``None`` when ``stereotyped`` is)."""
    if stereotyped is None or record.question_polarity == "neg":
        return stereotyped
    for i, option in enumerate(record.options):
        if i != stereotyped and not option.is_unknown:
            return i
    return None


def derive_targets(record: Record) -> Targets:
    """All three targets of ``record`` (raises ``ValueError`` without an unknown option)."""
    unknown = [i for i, o in enumerate(record.options) if o.is_unknown]
    if len(unknown) != 1:
        raise ValueError(f"expected exactly one option labelled 'unknown', found {len(unknown)}")
    stereotyped = stereotyped_option(record)
    return Targets(unknown[0], stereotyped, biased_option(record, stereotyped))


# ---------------------------------------------------------------- parsing


def _require(data: dict[str, Any], key: str) -> Any:
    if key not in data:
        raise KeyError(key)
    return data[key]


def parse_record(data: dict[str, Any]) -> BBQItem:
    """One decoded official JSONL object -> :class:`BBQItem` (``KeyError``/``ValueError``
    on a malformed object; :func:`parse_line` turns them into :class:`DataError`)."""
    for key in REQUIRED_FIELDS:
        _require(data, key)
    info = data["answer_info"]
    answers = (str(data["ans0"]), str(data["ans1"]), str(data["ans2"]))
    options = []
    for i, answer in enumerate(answers):
        pair = info.get(f"ans{i}") or ["", ""]
        if len(pair) != 2:
            raise ValueError(f"answer_info.ans{i} must be [text, group label]")
        options.append(Option(text=str(pair[0] or ""), label=str(pair[1] or ""), answer=answer))
    polarity = data["question_polarity"]
    condition = data["context_condition"]
    if polarity not in ("neg", "nonneg"):
        raise ValueError(f"question_polarity must be neg or nonneg, got {polarity!r}")
    if condition not in ("ambig", "disambig"):
        raise ValueError(f"context_condition must be ambig or disambig, got {condition!r}")
    label = int(data["label"])
    if label not in (0, 1, 2):
        raise ValueError(f"label must be 0, 1 or 2, got {label}")
    groups = tuple(str(g) for g in (data["additional_metadata"].get("stereotyped_groups") or ()))
    record = Record(
        category=str(data["category"]),
        question_index=str(data["question_index"]),
        question_polarity=polarity,
        options=(options[0], options[1], options[2]),
        stereotyped_groups=groups,
    )
    targets = derive_targets(record)
    return BBQItem(
        category=record.category,
        example_id=int(data["example_id"]),
        question_index=record.question_index,
        question_polarity=polarity,
        context_condition=condition,
        context=str(data["context"]),
        question=str(data["question"]),
        answers=answers,
        label=label,
        unknown_index=targets.unknown_index,
        biased_index=targets.biased_index,
        stereotyped_index=targets.stereotyped_index,
        answer_groups=(options[0].label, options[1].label, options[2].label),
        stereotyped_groups=groups,
    )


def parse_line(text: str, origin: str, line: int) -> BBQItem:
    """One JSONL line -> :class:`BBQItem`; a bad line raises a one-line :class:`DataError`
    naming ``origin`` (file or dataset) and the 1-based ``line``."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"not valid JSON ({exc.msg})", file=origin, line=line) from None
    except ValueError as exc:  # a number past Python's 4300-digit conversion limit
        raise DataError(f"not a BBQ line ({exc})", file=origin, line=line) from None
    except RecursionError:
        raise DataError("not a BBQ line (nested too deeply)", file=origin, line=line) from None
    return parse_mapping(data, origin, line)


def parse_mapping(data: Any, origin: str, line: int) -> BBQItem:
    """Like :func:`parse_line` for an already decoded object."""
    if not isinstance(data, dict):
        raise DataError("expected a JSON object per line", file=origin, line=line)
    try:
        return parse_record(data)
    except KeyError as exc:
        raise DataError(
            "missing field; official BBQ lines have " + ", ".join(REQUIRED_FIELDS),
            file=origin,
            line=line,
            key=str(exc.args[0]),
        ) from None
    except (TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise DataError(f"malformed BBQ item: {exc}", file=origin, line=line) from None


def parse_lines(lines: Iterable[str], origin: str, category: str | None = None) -> list[BBQItem]:
    """Every non-blank line of a JSONL text -> items, in file order. With ``category``,
    a line of another category is an error (a mislabelled file)."""
    items: list[BBQItem] = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        item = parse_line(text, origin, number)
        if category is not None and item.category != category:
            raise DataError(
                f"category {item.category!r} in the file for {category!r}",
                file=origin,
                line=number,
                key="category",
            )
        items.append(item)
    return items


@dataclass(frozen=True)
class TargetCounts:
    """How many items of a set have each target defined (for reports and docs)."""

    items: int
    biased_missing: int
    stereotyped_missing: int


def count_missing_targets(items: Sequence[BBQItem]) -> TargetCounts:
    """Counts of items whose ``biased_index`` / ``stereotyped_index`` is ``None``."""
    return TargetCounts(
        items=len(items),
        biased_missing=sum(1 for i in items if i.biased_index is None),
        stereotyped_missing=sum(1 for i in items if i.stereotyped_index is None),
    )
