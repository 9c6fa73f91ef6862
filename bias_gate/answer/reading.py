"""Reading the packed rows: each variant's next-token log-probabilities and its
continuation's token log-probabilities, gathered at the variant's nodes of the prefix
tree (:mod:`bias_gate.answer.packing`) and returned in the variants' order."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from bias_gate.answer.packing import Placement
from bias_gate.answer.variants import Variant, VariantScore


def read_scores(
    hidden: Sequence[torch.Tensor],
    groups: Sequence[Sequence[Variant]],
    placements: Sequence[Sequence[Placement]],
    read_ids: Sequence[int],
    gathered_logprobs: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
) -> list[list[VariantScore]]:
    """Read next-token and continuation log-probabilities at the variants' nodes of
    the packed rows' final hidden states (``hidden``, one [nodes, hidden] per row);
    ``gathered_logprobs(states, columns)`` is the model's head, read at ``columns``."""
    flat = [
        (variant, place)
        for group, places in zip(groups, placements, strict=True)
        for variant, place in zip(group, places, strict=True)
    ]
    read = torch.tensor(list(read_ids), dtype=torch.long)
    if len(read):
        last = torch.stack([hidden[place.row][place.path[-1]] for _, place in flat])
        next_lp = gathered_logprobs(last, read[None].expand(len(flat), -1))
    else:
        next_lp = torch.empty(len(flat), 0)
    states: list[torch.Tensor] = []
    targets: list[int] = []
    for variant, place in flat:
        k = variant.n_scored
        n = len(place.path)
        # The token at node path[j] is predicted by the hidden state at path[j - 1].
        for j in range(n - k, n):
            states.append(hidden[place.row][place.path[j - 1]])
            targets.append(variant.ids[len(variant.ids) - n + j])
    token_lp = torch.empty(0)
    if states:
        token_lp = gathered_logprobs(torch.stack(states), torch.tensor(targets))
    out: list[list[VariantScore]] = []
    index = 0
    offset = 0
    for group in groups:
        scored = []
        for variant in group:
            k = variant.n_scored
            scored.append(VariantScore(next_lp[index], token_lp[offset : offset + k]))
            index += 1
            offset += k
        out.append(scored)
    return out
