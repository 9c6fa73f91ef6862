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


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server on the packaged SmolLM2 GGUF, one per
    session (tests/support/llama_server.py); skipped, with the reason, where its
    ``server`` extra is not installed."""
    from bias_gate.config.schema import default_model
    from bias_gate.models.loading import gguf_file
    from tests.support.llama_server import LlamaServer, server_missing

    missing = server_missing()
    if missing:
        pytest.skip(missing)
    path = gguf_file(default_model())
    assert path is not None
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    server = LlamaServer(path, log=log).start()
    yield server
    server.stop()
