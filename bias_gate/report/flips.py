"""The flipped items of each config x category, as the reports show them: a collapsible
HTML table per cell (the verdict matrix links failing cells to it) and the text
``bias-gate report RESULTS.json --flips CONFIG::CATEGORY`` prints.

Options are listed in BBQ's original order, lettered A-C; each model's answer is its
chosen letter and the probability it gave that option, where it has probabilities."""

from __future__ import annotations

import re
from html import escape

from bias_gate.metrics.flips import DIRECTIONS, FLIP_LIMIT, Direction, Flip, Flips, Probs
from bias_gate.report.reasons import item_reason
from bias_gate.results import BIAS_AMPLIFIED, GateResults, ItemResult

LETTERS = "ABC"

HEADINGS: dict[Direction, str] = {
    "new_bias": "turned biased (dense not biased, compressed biased)",
    "bias_removed": "bias removed (dense biased, compressed not biased)",
}


def anchor(config: str, category: str) -> str:
    """The HTML id of a cell's flips table (no spaces or quotes whatever the names)."""
    return "flips-" + re.sub(r"[^A-Za-z0-9_.-]", "_", f"{config}--{category}")


def cell_name(item: ItemResult) -> str:
    return f"{item.config}::{item.category}"


def _option_label(flip: Flip, index: int) -> str:
    targets = (("biased", flip.biased_index), ("unknown", flip.unknown_index))
    marks = [tag for tag, at in targets if at == index]
    return f"{LETTERS[index]}. {flip.options[index]}" + (f" ({', '.join(marks)})" if marks else "")


def _answer(choice: int, probs: Probs | None) -> str:
    if probs is None:
        return LETTERS[choice]
    return f"{LETTERS[choice]} (p {probs[choice]:.3f})"


def _probs(probs: Probs | None) -> str:
    return "" if probs is None else " / ".join(f"{p:.3f}" for p in probs)


def _count_text(flips: Flips, direction: Direction) -> str:
    shown, total = len(flips.of(direction)), flips.total(direction)
    return f"{total}" if shown == total else f"{shown} of {total} shown"


# -- text -----------------------------------------------------------------------------------


def flips_text(item: ItemResult) -> str:
    """One cell's flipped items as plain text (``item.flips`` must be set)."""
    assert item.flips is not None
    lines: list[str] = []
    if (note := _not_bias(item)) and item.reasons:
        lines.append(f"{_verdict(item)}: {item.reasons[0]}")
        lines.append(f"({note.removesuffix('; the flips: ')}; the flipped items follow)")
    for direction in DIRECTIONS:
        flips = item.flips.of(direction)
        lines.append(f"{HEADINGS[direction]}: {_count_text(item.flips, direction)}")
        for flip in flips:
            lines.append(f"  #{flip.example_id} {flip.question}")
            lines.append(f"    context: {flip.context}")
            for index in range(3):
                lines.append(f"    {_option_label(flip, index)}")
            lines.append(
                f"    dense: {_answer(flip.dense_choice, flip.dense_probs)}"
                f"   compressed: {_answer(flip.compressed_choice, flip.compressed_probs)}"
            )
    return "\n".join(lines) + "\n"


# -- HTML -----------------------------------------------------------------------------------


def _rows(flips: Flips, direction: Direction) -> str:
    rows = []
    for flip in flips.of(direction):
        options = "".join(f"<li>{escape(_option_label(flip, index))}</li>" for index in range(3))
        rows.append(
            f'<tr><td class="num" data-label="example">{flip.example_id}</td>'
            f'<td class="value">{escape(flip.context)}<br><strong>{escape(flip.question)}'
            f"</strong><ul>{options}</ul></td>"
            f'<td data-label="dense">{escape(_answer(flip.dense_choice, flip.dense_probs))}'
            f"<br><small>{_probs(flip.dense_probs)}</small></td>"
            '<td data-label="compressed">'
            f"{escape(_answer(flip.compressed_choice, flip.compressed_probs))}"
            f"<br><small>{_probs(flip.compressed_probs)}</small></td></tr>"
        )
    return "".join(rows)


def _verdict(item: ItemResult) -> str:
    reason = item_reason(item)
    return f"{item.verdict}: {reason}" if reason else item.verdict


def _not_bias(item: ItemResult) -> str:
    """For a verdict that is not a bias finding, say so before the flip counts."""
    reason = item_reason(item)
    if reason is None or reason == BIAS_AMPLIFIED:
        return ""
    return f"not a bias finding, the verdict is {escape(reason)}; the flips: "


def _cell_details(item: ItemResult) -> str:
    """One cell's ``<details>``: at most :data:`FLIP_LIMIT` items per direction."""
    assert item.flips is not None
    flips = item.flips.bounded()
    summary = (
        f"{escape(item.config)} · {escape(item.category)} ({escape(_verdict(item))}): "
        f"{_not_bias(item)}{flips.new_bias_total} turned biased, "
        f"{flips.bias_removed_total} bias removed"
    )
    tables = []
    for direction in DIRECTIONS:
        heading = f"{HEADINGS[direction]}: {_count_text(flips, direction)}"
        if not flips.of(direction):
            tables.append(f"<p>{escape(heading)}.</p>")
            continue
        tables.append(
            f"<p>{escape(heading)}</p>"
            '<div class="wide"><table class="flips"><tr><th>example</th>'
            "<th>context, question and options</th><th>dense</th>"
            f"<th>compressed</th></tr>{_rows(flips, direction)}</table></div>"
        )
    note = (
        ""
        if flips.complete
        else f"<p class=meta>The first {FLIP_LIMIT} of each direction; every one is in the "
        "side file next to the results JSON (<code>&lt;results&gt;.flips.jsonl</code>), "
        "and <code>bias-gate report RESULTS.json --flips "
        f"{escape(cell_name(item))}</code> prints them.</p>"
    )
    # A failing cell's table is open: a link cannot open a <details> without a script.
    opened = " open" if item.verdict == "fail" else ""
    return (
        f'<details id="{anchor(item.config, item.category)}"{opened}><summary>{summary}</summary>'
        + "".join(tables)
        + note
        + "</details>"
    )


def flips_html(results: GateResults) -> str:
    """Every cell's flips as a ``<details>`` table (empty when no item recorded flips:
    results written before they were)."""
    items = [item for item in results.items() if item.flips is not None]
    if not items:
        return ""
    return (
        '<h2 id="flips">Flipped items</h2><p>Ambiguous items whose answer changed between '
        "biased and not biased under compression (the items behind the new-bias rate), "
        "per config and category; options in BBQ's original order, each model's answer "
        "with the probability it gave it, then its probabilities of A / B / C.</p>"
        + "".join(_cell_details(item) for item in items)
    )
