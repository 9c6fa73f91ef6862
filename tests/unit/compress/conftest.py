"""The compression context every compression unit test builds on: the tiny model's
tokenizer and the WikiText-2 folder for calibration."""

from __future__ import annotations

from pathlib import Path

import pytest

from bias_gate.compress.base import CompressionContext


@pytest.fixture
def context(tiny_llama, wikitext_dir) -> CompressionContext:
    return CompressionContext(
        tokenizer=tiny_llama.tokenizer, config_dir=Path.cwd(), data_dir=wikitext_dir.parent
    )
