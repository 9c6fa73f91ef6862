"""The KV cache layers the packed scorer builds on transformers' ``DynamicLayer``: a
read-only layer holding the run prefix, and a layer that holds prompts shared by several
decoding rows once. Built on first use (the classes subclass a transformers class, which
is imported only then)."""

from __future__ import annotations

import functools
from typing import Any

import torch


@functools.cache
def read_only_layer_class() -> type:
    from transformers.cache_utils import DynamicLayer

    class ReadOnlyLayer(DynamicLayer):
        """A cache layer holding fixed keys and values (one row, expanded to the batch):
        ``update`` returns them followed by the new ones and stores nothing, so a pass
        keeps at most one layer's keys and values alive."""

        def __init__(self, keys: torch.Tensor, values: torch.Tensor) -> None:
            super().__init__()
            self.keys, self.values = keys, values
            self.device = keys.device
            self.is_initialized = True

        def update(
            self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
        ) -> tuple[torch.Tensor, torch.Tensor]:
            rows = key_states.shape[0]
            assert self.keys is not None and self.values is not None  # set in __init__
            keys = torch.cat([self.keys.expand(rows, -1, -1, -1), key_states], dim=-2)
            values = torch.cat([self.values.expand(rows, -1, -1, -1), value_states], dim=-2)
            return keys, values

    return ReadOnlyLayer


@functools.cache
def shared_prompt_layer_class() -> type:
    from transformers.cache_utils import DynamicLayer

    class SharedPromptLayer(DynamicLayer):
        """A decoding cache layer for prompts shared by ``repeats`` consecutive rows:
        the prompts' keys and values are held once ([prompts, ...]); each row's new
        tokens are held per row. ``update`` returns, for one layer at a time, each row's
        prompt followed by its own new tokens."""

        def __init__(self, keys: torch.Tensor, values: torch.Tensor, repeats: int) -> None:
            super().__init__()
            self.prompt_keys, self.prompt_values, self.repeats = keys, values, repeats
            self.keys = keys.new_empty((keys.shape[0] * repeats, keys.shape[1], 0, keys.shape[3]))
            self.values = values.new_empty(
                (values.shape[0] * repeats, values.shape[1], 0, values.shape[3])
            )
            self.device = keys.device
            self.is_initialized = True

        def update(
            self, key_states: torch.Tensor, value_states: torch.Tensor, *args: Any, **kwargs: Any
        ) -> tuple[torch.Tensor, torch.Tensor]:
            assert self.keys is not None and self.values is not None  # set in __init__
            self.keys = torch.cat([self.keys, key_states], dim=-2)
            self.values = torch.cat([self.values, value_states], dim=-2)
            keys = self.prompt_keys.repeat_interleave(self.repeats, dim=0)
            values = self.prompt_values.repeat_interleave(self.repeats, dim=0)
            return torch.cat([keys, self.keys], dim=-2), torch.cat([values, self.values], dim=-2)

        def get_seq_length(self, *args: Any, **kwargs: Any) -> int:
            assert self.keys is not None  # set in __init__
            return int(self.prompt_keys.shape[-2] + self.keys.shape[-2])

    return SharedPromptLayer
