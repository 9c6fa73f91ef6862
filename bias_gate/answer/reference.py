"""The plain, unbatched reading of one variant: what the packed scorer must agree with
(tests/model/test_answer_scorer.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from bias_gate.answer.variants import Variant, VariantScore


@torch.inference_mode()
def reference_score(model: Any, variant: Variant, read_ids: Sequence[int] = ()) -> VariantScore:
    """The plain, unbatched reading of one variant: one full forward pass of the model on
    its ids, no cache, no padding. The batched scorer must agree with it."""
    device = next(model.parameters()).device
    ids = torch.tensor([variant.ids], device=device)
    logits = model(input_ids=ids).logits[0].float()
    lp = torch.log_softmax(logits, dim=-1)
    next_lp = lp[-1, list(read_ids)].cpu() if read_ids else torch.empty(0)
    k = variant.n_scored
    n = len(variant.ids)
    positions = list(range(n - k - 1, n - 1))
    targets = list(variant.ids[n - k :])
    token_lp = lp[positions, targets].cpu() if k else torch.empty(0)
    return VariantScore(next_lp, token_lp)
