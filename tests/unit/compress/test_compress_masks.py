"""Mask invariants on plain tensors: exact counts, one threshold, N:M blocks, seeds."""

from __future__ import annotations

import pytest
import torch

from bias_gate.compress.masks import n_m_mask, random_mask, row_mask, smallest_mask


@pytest.fixture
def weight() -> torch.Tensor:
    return torch.randn(48, 96, generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("sparsity", [0.0, 0.1, 0.5, 0.7, 0.95])
def test_row_mask_prunes_floor_in_features_times_s_per_row(weight, sparsity):
    mask = row_mask(weight.abs(), sparsity)
    assert (mask.sum(dim=1) == int(96 * sparsity)).all()
    # Within each row, every pruned score <= every kept score.
    score = weight.abs()
    for row in range(weight.shape[0]):
        pruned, kept = score[row][mask[row]], score[row][~mask[row]]
        if len(pruned) and len(kept):
            assert pruned.max() <= kept.min()


@pytest.mark.parametrize(("n", "m"), [(2, 4), (4, 8), (1, 4), (3, 8)])
def test_n_m_mask_prunes_exactly_n_in_every_block(weight, n, m):
    mask = n_m_mask(weight.abs(), n, m)
    blocks = mask.reshape(48, 96 // m, m)
    assert (blocks.sum(dim=2) == n).all()
    scores = weight.abs().reshape(48, 96 // m, m)
    largest_pruned = scores.masked_fill(~blocks, -1).amax(2)
    assert (largest_pruned <= scores.masked_fill(blocks, 1e9).amin(2)).all()


def test_n_m_mask_rejects_a_dimension_not_divisible_by_m():
    with pytest.raises(ValueError, match="not a multiple of M=8"):
        n_m_mask(torch.ones(2, 12), 4, 8)


@pytest.mark.parametrize("sparsity", [0.25, 0.5, 0.9])
def test_smallest_mask_has_one_threshold_per_matrix_and_exact_count(weight, sparsity):
    score = weight.abs()
    mask = smallest_mask(score, sparsity)
    assert int(mask.sum()) == round(sparsity * weight.numel())
    assert score[mask].max() <= score[~mask].min()
    # Rows differ in their counts: the threshold is per matrix, not per row.
    assert len(set(mask.sum(dim=1).tolist())) > 1


def test_smallest_mask_breaks_ties_without_pruning_more():
    score = torch.zeros(4, 4)
    assert int(smallest_mask(score, 0.5).sum()) == 8


def test_random_mask_count_and_seed_reproduce():
    shape = torch.Size([30, 70])
    first = random_mask(shape, 0.37, torch.Generator().manual_seed(5))
    again = random_mask(shape, 0.37, torch.Generator().manual_seed(5))
    other = random_mask(shape, 0.37, torch.Generator().manual_seed(6))
    assert int(first.sum()) == round(0.37 * 2100)
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
