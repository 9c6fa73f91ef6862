"""GGUF loading's one speed-up that reaches into a library: gguf's tensor-name map built
once per load (:func:`bias_gate.models.gguf_load.name_map_built_once`). It must give
transformers the same GGUF-to-model name map, be used, and leave gguf as it was."""

from __future__ import annotations

import gguf
from transformers.modeling_gguf_pytorch_utils import TensorProcessor, get_gguf_hf_weights_map

from bias_gate.models.gguf_load import name_map_built_once


def test_the_name_map_built_once_is_the_same_map_and_is_reused(tiny_llama):
    original = gguf.get_tensor_name_map
    plain = get_gguf_hf_weights_map(tiny_llama.model, TensorProcessor())
    with name_map_built_once():
        memoized = gguf.get_tensor_name_map
        once = get_gguf_hf_weights_map(tiny_llama.model, TensorProcessor())
        info = memoized.cache_info()  # type: ignore[attr-defined]
    assert once == plain and len(plain) > 0
    assert info.misses == 1 and info.hits > 0  # built once, asked for again and again
    assert gguf.get_tensor_name_map is original
