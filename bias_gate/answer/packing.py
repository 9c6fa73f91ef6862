"""Pack token sequences that share prefixes into the rows of a prefix tree.

BBQ prompts share a lot: the rotations of one item share everything up to the options,
an item's two questions (negative and non-negative) share the context, and an ambiguous
context is a prefix of its disambiguated one. Packing the prompts of several items into
one row as a *trie* computes each shared token once:

- every distinct prefix becomes one node, a token of the row;
- a node may attend to its ancestors and itself only (:meth:`PackedRow.ancestors`), so
  each prompt sees exactly its own tokens, in order;
- a node's position id is its depth, the position it has in each prompt through it.

So a forward pass over a packed row gives, at each node, the hidden state an unbatched
pass over any prompt through that node gives there: only the arithmetic order differs.
This module is pure bookkeeping (no torch); :mod:`bias_gate.answer.scorer` runs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: The parent of a node that starts a prompt (it attends to the run prefix only).
ROOT = -1


@dataclass
class PackedRow:
    """One row: nodes in creation order (a parent always comes before its children).

    ``tokens[n]``, ``parents[n]`` (:data:`ROOT` for a first token) and ``depths[n]`` (0
    for a first token) describe node ``n``.
    """

    tokens: list[int] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    depths: list[int] = field(default_factory=list)
    _children: dict[tuple[int, int], int] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.tokens)

    def cost(self, sequences: Sequence[Sequence[int]]) -> int:
        """How many nodes adding ``sequences`` would create (nothing is added); prefixes
        the sequences share among themselves are counted once."""
        pending: dict[tuple[int, int], int] = {}
        for seq in sequences:
            node = ROOT
            for token in seq:
                key = (node, int(token))
                child = self._children.get(key, pending.get(key))
                if child is None:
                    child = -2 - len(pending)  # a placeholder, distinct from real nodes
                    pending[key] = child
                node = child
        return len(pending)

    def add(self, sequence: Sequence[int]) -> tuple[int, ...]:
        """Add one sequence; returns the node of each of its tokens (its *path*)."""
        path = []
        node = ROOT
        for depth, token in enumerate(sequence):
            key = (node, int(token))
            child = self._children.get(key)
            if child is None:
                child = len(self.tokens)
                self._children[key] = child
                self.tokens.append(int(token))
                self.parents.append(node)
                self.depths.append(depth)
            path.append(child)
            node = child
        return tuple(path)

    def ancestors(self) -> np.ndarray:
        """[n, n] bool: ``[i, j]`` is True when node ``j`` is node ``i`` or one of its
        ancestors, i.e. when ``i`` may attend to ``j``."""
        n = len(self.tokens)
        out = np.zeros((n, n), dtype=bool)
        for i, parent in enumerate(self.parents):
            if parent != ROOT:
                out[i, :i] = out[parent, :i]
            out[i, i] = True
        return out


@dataclass(frozen=True)
class Placement:
    """Where one sequence went: its row and the node of each of its tokens."""

    row: int
    path: tuple[int, ...]


def pack(
    groups: Sequence[Sequence[Sequence[int]]], row_tokens: int
) -> tuple[list[PackedRow], list[list[Placement]]]:
    """Pack ``groups`` of sequences into rows of at most ``row_tokens`` nodes, in order.

    The sequences of one group always share a row (they are the variants of one item);
    consecutive groups join the current row while it stays within ``row_tokens``. A group
    larger than ``row_tokens`` gets a row of its own. Returns the rows and, for each
    group, where each of its sequences went.
    """
    if row_tokens < 1:
        raise ValueError("row_tokens must be at least 1")
    rows: list[PackedRow] = []
    placements: list[list[Placement]] = []
    for group in groups:
        if not rows or (len(rows[-1]) and len(rows[-1]) + rows[-1].cost(group) > row_tokens):
            rows.append(PackedRow())
        row = rows[-1]
        placements.append([Placement(len(rows) - 1, row.add(seq)) for seq in group])
    return rows, placements


def forward_batches(rows: Sequence[PackedRow], max_tokens: int) -> list[range]:
    """Split ``rows`` (in order) into runs whose padded size, rows x widest row, stays
    within ``max_tokens``; a row wider than that is a run of its own."""
    out: list[range] = []
    start = 0
    widest = 0
    for i, row in enumerate(rows):
        wider = max(widest, len(row))
        if i > start and (i - start + 1) * wider > max_tokens:
            out.append(range(start, i))
            start, wider = i, len(row)
        widest = wider
    if rows:
        out.append(range(start, len(rows)))
    return out
