"""Prefix-tree packing: each prompt sees exactly its own tokens, shared ones once."""

from __future__ import annotations

import random

import pytest

from bias_gate.answer.packing import ROOT, PackedRow, forward_batches, pack


def test_shared_prefixes_become_one_node():
    row = PackedRow()
    a = row.add([1, 2, 3])
    b = row.add([1, 2, 4])
    c = row.add([5])
    d = row.add([1, 2])
    assert a == (0, 1, 2) and b == (0, 1, 3) and c == (4,) and d == (0, 1)
    assert row.tokens == [1, 2, 3, 4, 5]
    assert row.parents == [ROOT, 0, 1, 1, ROOT]
    assert row.depths == [0, 1, 2, 2, 0]


def test_a_node_attends_to_its_ancestors_and_itself_only():
    row = PackedRow()
    for seq in ([1, 2, 3], [1, 2, 4], [5, 6]):
        row.add(seq)
    allowed = row.ancestors()
    expected = {0: {0}, 1: {0, 1}, 2: {0, 1, 2}, 3: {0, 1, 3}, 4: {4}, 5: {4, 5}}
    for node, seen in expected.items():
        assert {j for j in range(len(row)) if allowed[node, j]} == seen


@pytest.mark.parametrize("seed", range(20))
def test_every_path_spells_its_sequence_at_its_positions(seed):
    rng = random.Random(seed)
    row = PackedRow()
    sequences = []
    for _ in range(rng.randint(1, 12)):
        base = sequences[rng.randrange(len(sequences))] if sequences and rng.random() < 0.7 else []
        keep = base[: rng.randint(0, len(base))]
        sequences.append(keep + [rng.randint(0, 4) for _ in range(rng.randint(1, 6))])
    paths = [row.add(seq) for seq in sequences]
    allowed = row.ancestors()
    for seq, path in zip(sequences, paths, strict=True):
        assert [row.tokens[n] for n in path] == seq
        assert [row.depths[n] for n in path] == list(range(len(seq)))
        # The last token sees exactly the tokens of its own sequence.
        assert {j for j in range(len(row)) if allowed[path[-1], j]} == set(path)
    assert len(row) == len({tuple(s[: i + 1]) for s in sequences for i in range(len(s))})


def test_cost_counts_new_nodes_once_and_adds_nothing():
    row = PackedRow()
    row.add([1, 2, 3])
    group = [[1, 2, 9, 9], [1, 2, 9, 8], [7]]
    assert row.cost(group) == 4  # 9, 9, 8 under [1, 2]; 7
    assert len(row) == 3
    before = len(row)
    for seq in group:
        row.add(seq)
    assert len(row) - before == 4
    assert row.cost(group) == 0


def test_pack_keeps_groups_whole_and_rows_within_the_cap():
    groups = [[[g, 1, 2, 3], [g, 1, 2, 4]] for g in range(6)]  # 5 nodes each
    rows, placements = pack(groups, row_tokens=12)
    assert [len(r) for r in rows] == [10, 10, 10]
    for g, places in enumerate(placements):
        assert len({p.row for p in places}) == 1
        assert places[0].row == g // 2
        for seq, place in zip(groups[g], places, strict=True):
            assert [rows[place.row].tokens[n] for n in place.path] == seq


def test_pack_gives_an_oversized_group_its_own_row():
    groups = [[[1, 2]], [list(range(10, 30))], [[3, 4]]]
    rows, placements = pack(groups, row_tokens=8)
    assert [len(r) for r in rows] == [2, 20, 2]
    assert [p[0].row for p in placements] == [0, 1, 2]
    with pytest.raises(ValueError):
        pack(groups, row_tokens=0)


def _rows(widths):
    rows = []
    for w in widths:
        row = PackedRow()
        row.add(list(range(w)))
        rows.append(row)
    return rows


def test_forward_batches_stay_within_the_token_budget():
    widths = [10, 9, 9, 30, 8, 8, 8, 8, 2]
    runs = forward_batches(_rows(widths), max_tokens=28)
    assert [list(r) for r in runs] == [[0, 1], [2], [3], [4, 5, 6], [7, 8]]
    for run in runs:
        if len(run) > 1:
            assert len(run) * max(widths[i] for i in run) <= 28
    assert forward_batches([], 10) == []
