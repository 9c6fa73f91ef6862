"""A small HTTP proxy that injects faults between the client and a real server.

Each request takes the next fault of a cycle: ``"ok"`` forwards it, ``"500"`` / ``"429"``
answer that status without forwarding, ``"drop"`` closes the connection without an
answer, ``"cut"`` forwards it and sends back half of the answer before closing,
``"delay"`` waits ``delay_s`` and then forwards. The faults met are counted, and the
``Authorization`` headers seen are kept. A 429 says ``Retry-After: 1``.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FaultProxy:
    """Listens on a free local port and forwards to ``upstream`` (a base URL such as
    ``http://127.0.0.1:8000``), injecting ``faults`` in turn (cycled)."""

    def __init__(self, upstream: str, faults: Iterable[str], delay_s: float = 0.5) -> None:
        self.upstream = upstream.rstrip("/")
        self.delay_s = delay_s
        self.met: Counter[str] = Counter()
        self.authorizations: set[str | None] = set()
        self._faults = itertools.cycle(list(faults))
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def next_fault(self) -> str:
        with self._lock:
            fault = next(self._faults)
            self.met[fault] += 1
            return fault

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._serve(None)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._serve(self.rfile.read(length))

            def _serve(self, body: bytes | None) -> None:
                # The client may give up first (its timeout): nothing to answer then.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._inject(body)

            def _inject(self, body: bytes | None) -> None:
                proxy.authorizations.add(self.headers.get("Authorization"))
                fault = proxy.next_fault()
                if fault in ("500", "429"):
                    after = {"Retry-After": "1"} if fault == "429" else {}
                    self._reply(int(fault), b'{"error": "injected"}', after)
                    return
                if fault == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "delay":
                    time.sleep(proxy.delay_s)
                status, data = self._forward(body)
                if fault == "cut":
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.close_connection = True
                    return
                self._reply(status, data)

            def _forward(self, body: bytes | None) -> tuple[int, bytes]:
                headers = {"Content-Type": "application/json"}
                request = urllib.request.Request(
                    proxy.upstream + self.path, data=body, headers=headers
                )
                try:
                    with urllib.request.urlopen(request, timeout=300) as response:
                        return response.status, response.read()
                except urllib.error.HTTPError as exc:
                    return exc.code, exc.read()

            def _reply(
                self, status: int, data: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
