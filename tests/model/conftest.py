"""The model tier: every test here loads the real SmolLM2-135M-Instruct or llama.cpp, so
each is marked ``slow`` (``-m "not slow"`` leaves them out)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.slow)
