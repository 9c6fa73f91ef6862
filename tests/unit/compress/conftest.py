"""The compression context every compression unit test builds on (the tiny model's
tokenizer and the WikiText-2 folder for calibration), and the tiny model saved as a
model folder (what transformers maps from its file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bias_gate.compress.base import CompressionContext
from tests.support.gate import save_tiny_model


@pytest.fixture
def context(tiny_llama, wikitext_dir) -> CompressionContext:
    return CompressionContext(
        tokenizer=tiny_llama.tokenizer, config_dir=Path.cwd(), data_dir=wikitext_dir.parent
    )


@pytest.fixture(scope="module")
def tiny_dir(tiny_llama, tmp_path_factory) -> Path:
    return save_tiny_model(tiny_llama, tmp_path_factory.mktemp("tiny-llama"))
