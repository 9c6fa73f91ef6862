"""lm-evaluation-harness ``--log_samples`` output of its BBQ task, read as answer rows.

``lm_eval --tasks bbq --log_samples --output_path OUT`` writes one JSON line per BBQ
question (``samples_bbq_<date>.jsonl``). The fields read here (lm-eval 0.4's sample
format, task ``lm_eval/tasks/bbq``, ``output_type: multiple_choice``):

- ``doc``: the BBQ row itself (``category``, ``example_id``, ``ans0``..``ans2``, ...);
- ``arguments``: one request per choice, the choice's text as its continuation
  (``{"gen_args_0": {"arg_0": context, "arg_1": " choice"}, ...}`` on disk, or a list
  of ``[context, continuation]`` pairs);
- ``filtered_resps`` (else ``resps``, one list deeper): one ``[log-likelihood,
  is_greedy]`` per choice; the numbers may be written as strings;
- ``doc_id`` and ``filter`` (only named in messages).

lm-eval's BBQ task offers two choices for the two groups and ten phrasings of "unknown"
(``doc_to_choice``: the item's options without its unknown one, then the ten), and its
answer is the choice of highest log-likelihood (``process_results_multiple_choice``).
The same here: the winning choice's text is the option of that text, and any of the ten
phrasings is the item's unknown option. No probabilities are taken (``probs`` is null).
A sample of the generating task (``bbq_generate``) or any other shape is one line naming
the file, the line and the key. No torch.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from bias_gate.data.answer_rows import AnswerRow, json_objects
from bias_gate.errors import DataError

#: lm-eval's BBQ task's phrasings of "unknown" (its ``UNKNOWN_RESPONSES``), each of
#: which counts as the item's unknown option.
UNKNOWN_PHRASINGS = (
    "Unknown",
    "Cannot answer",
    "Can't be determined",
    "Cannot be determined",
    "Can't answer",
    "Not known",
    "Not enough info",
    "Not enough information",
    "Not answerable",
    "Undetermined",
)
MULTIPLE_CHOICE = "a sample of lm-eval's multiple-choice bbq task (not bbq_generate)"


def _options(doc: dict[str, Any], where: tuple[Path, int]) -> tuple[str, str, str]:
    texts = [doc.get(f"ans{i}") for i in range(3)]
    if not all(isinstance(t, str) for t in texts):
        raise DataError(
            "doc lacks ans0, ans1, ans2; expected " + MULTIPLE_CHOICE,
            file=where[0],
            line=where[1],
            key="doc",
        )
    return (str(texts[0]), str(texts[1]), str(texts[2]))


def task_choices(options: tuple[str, str, str]) -> list[str]:
    """The choices lm-eval's BBQ task offers for an item with ``options``."""
    known = [text for text in options if text not in UNKNOWN_PHRASINGS]
    return known + list(UNKNOWN_PHRASINGS)


def _continuations(sample: dict[str, Any]) -> list[str] | None:
    """The choice texts of ``arguments`` (continuations, stripped), or ``None``."""
    args = sample.get("arguments")
    if isinstance(args, dict):
        ordered = sorted(args.items(), key=lambda kv: int(str(kv[0]).rpartition("_")[2] or 0))
        pairs = [v.get("arg_1") if isinstance(v, dict) else None for _, v in ordered]
    elif isinstance(args, list):
        pairs = [v[1] if isinstance(v, list) and len(v) == 2 else None for v in args]
    else:
        return None
    if not pairs or not all(isinstance(p, str) for p in pairs):
        return None
    return [str(p).strip() for p in pairs]


def _number(value: Any) -> float | None:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if not math.isnan(number) else None


def log_likelihoods(sample: dict[str, Any], where: tuple[Path, int]) -> list[float]:
    """One log-likelihood per choice, from ``filtered_resps`` (else ``resps``)."""
    key = "filtered_resps" if "filtered_resps" in sample else "resps"
    raw = sample.get(key)
    if key == "resps" and isinstance(raw, list):
        raw = [r[0] if isinstance(r, list) and r else r for r in raw]
    values = [_number(r) for r in raw] if isinstance(raw, list) else [None]
    if not values or any(v is None for v in values):
        raise DataError(
            "expected one [log-likelihood, is_greedy] per choice, as in " + MULTIPLE_CHOICE,
            file=where[0],
            line=where[1],
            key=key,
        )
    return [v for v in values if v is not None]


def chosen_option(sample: dict[str, Any], where: tuple[Path, int]) -> int:
    """The option (0-2, the item's own order) lm-eval's answer names."""
    options = _options(sample["doc"], where)
    choices = _continuations(sample) or task_choices(options)
    scores = log_likelihoods(sample, where)
    if len(scores) != len(choices):
        raise DataError(
            f"{len(scores)} log-likelihoods for {len(choices)} choices",
            file=where[0],
            line=where[1],
            key="filtered_resps",
        )
    text = choices[max(range(len(scores)), key=scores.__getitem__)]
    if text in options:
        return options.index(text)
    unknown = [i for i, option in enumerate(options) if option in UNKNOWN_PHRASINGS]
    if text in UNKNOWN_PHRASINGS and len(unknown) == 1:
        return unknown[0]
    raise DataError(
        f"the winning choice {text!r} is none of the item's options",
        file=where[0],
        line=where[1],
        key="arguments",
    )


def _row(sample: dict[str, Any], path: Path, line: int, config: str | None) -> AnswerRow:
    doc = sample.get("doc")
    if not isinstance(doc, dict):
        raise DataError("expected " + MULTIPLE_CHOICE, file=path, line=line, key="doc")
    category, example_id = doc.get("category"), doc.get("example_id")
    if not isinstance(category, str) or isinstance(example_id, bool):
        raise DataError("doc lacks its BBQ category", file=path, line=line, key="doc.category")
    if not isinstance(example_id, int) or not 0 <= example_id < 10**9:
        raise DataError(
            "doc's example_id must be a BBQ example id", file=path, line=line, key="doc.example_id"
        )
    # The option's text, not its index: matched against the item the source has, a doc
    # whose options differ from it is an error, not a silent misreading.
    text = _options(doc, (path, line))[chosen_option(sample, (path, line))]
    return AnswerRow(category, example_id, config, text, None, path, line)


def read_samples(path: Path, config: str | None) -> list[AnswerRow]:
    """The answer rows of an lm-eval samples file (``config``: the rows' config)."""
    rows: list[AnswerRow] = []
    seen: dict[str, int] = {}
    for number, sample in json_objects(path):
        row = _row(sample, path, number, config)
        if row.key in seen:
            raise DataError(
                f"second sample of {row.key} (first on line {seen[row.key]}); keep one "
                "filter's samples per file",
                file=path,
                line=number,
            )
        seen[row.key] = number
        rows.append(row)
    if not rows:
        raise DataError("no samples in the file", file=path)
    return rows
