"""An HTTP client for an OpenAI-compatible server, made for load and faults.

Standard library only. Every request is a pure function of its JSON body (greedy,
``temperature`` 0), so it is safe to send again: a request that meets a 429, a 5xx, a
timeout or a dropped connection is retried after an exponential backoff (the server's
``Retry-After`` when it gives one), at most ``retries`` times. At most ``concurrency``
requests are in flight. Each answer is cached on disk under a key holding the server's
identity (:meth:`EndpointClient.identity`: the served model's name and what the server
reports of it, the user's declared ``revision``) and the request body, written as soon
as it arrives, so a killed run sends only what it had not yet received.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bias_gate.cache import atomic_write_json
from bias_gate.config.endpoint import EndpointSpec
from bias_gate.errors import BiasGateError

#: What the server reports of a served model that names its weights (``created`` is
#: left out: some servers report the time of the request).
_IDENTITY_FIELDS = ("id", "owned_by", "root", "parent", "max_model_len")

#: Backoff before retry ``n`` (0-based): ``BACKOFF_S * 2**n``, at most ``BACKOFF_CAP_S``.
BACKOFF_S = 0.5
BACKOFF_CAP_S = 30.0


class EndpointError(BiasGateError):
    """The server failed, refused a request, or lacks a capability a mode needs."""


class _Retry(Exception):
    """A failure worth retrying, with the server's ``Retry-After`` when it gave one."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()


class EndpointClient:
    """Requests to ``spec``'s server; answers cached under ``cache_dir`` (``None``: not
    cached). ``sleep`` waits between retries (a test may record it)."""

    def __init__(
        self,
        spec: EndpointSpec,
        cache_dir: Path | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        key: str = "endpoint",
    ) -> None:
        self.spec = spec
        self.cache_dir = cache_dir
        self.sleep = sleep
        self.key = key
        self.requests_sent = 0
        self.retries_made = 0
        self.cache_hits = 0
        self._identity: dict[str, Any] | None = None

    # -- one request ----------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.spec.api_key_env:
            key = os.environ.get(self.spec.api_key_env)
            if not key:
                raise EndpointError(
                    f"the environment variable {self.spec.api_key_env} (api_key_env) is not set",
                    key=f"{self.key}.api_key_env",
                )
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _once(self, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body, sort_keys=True).encode()
        headers = self._headers()
        if data is not None:
            headers["Idempotency-Key"] = hashlib.sha256(data).hexdigest()
        request = urllib.request.Request(self.spec.url + path, data=data, headers=headers)
        self.requests_sent += 1
        try:
            with urllib.request.urlopen(request, timeout=self.spec.timeout_s) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:300].replace("\n", " ")
            if exc.code == 429 or exc.code >= 500:
                after = exc.headers.get("Retry-After") if exc.headers else None
                raise _Retry(f"HTTP {exc.code}", _seconds(after)) from exc
            raise EndpointError(
                f"{self.spec.url}{path} refused the request: HTTP {exc.code} {detail}",
                key=self.key,
            ) from exc
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise _Retry(f"{type(exc).__name__}: {exc}") from exc
        try:
            parsed = json.loads(raw)
        except ValueError as exc:  # a body cut short by a dropped connection
            raise _Retry("a response that is not JSON") from exc
        if not isinstance(parsed, dict):
            raise _Retry("a response that is not a JSON object")
        return parsed

    def request(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """``POST`` ``body`` (``GET`` when ``None``) to ``path``, retried on 429, 5xx,
        timeouts and dropped connections; an :class:`EndpointError` when every try fails."""
        for attempt in range(self.spec.retries + 1):
            try:
                return self._once(path, body)
            except _Retry as retry:
                if attempt == self.spec.retries:
                    raise EndpointError(
                        f"{self.spec.url}{path} failed {attempt + 1} times (last: {retry}); "
                        "is the server up? raise endpoint.retries or endpoint.timeout_s",
                        key=self.key,
                    ) from retry
                self.retries_made += 1
                self.sleep(retry.after or min(BACKOFF_CAP_S, BACKOFF_S * 2**attempt))
        raise AssertionError("unreachable")

    # -- identity and cache ---------------------------------------------------------------
    def identity(self) -> dict[str, Any]:
        """What names the served model: its name, what ``/models`` reports of it, and the
        declared revision. An :class:`EndpointError` when the server does not serve it."""
        if self._identity is None:
            listing = self.request("/models")
            entries = [e for e in listing.get("data", []) if isinstance(e, dict)]
            entry = next((e for e in entries if e.get("id") == self.spec.model), None)
            if entry is None:
                served = ", ".join(str(e.get("id")) for e in entries) or "nothing"
                raise EndpointError(
                    f"{self.spec.url} does not serve model {self.spec.model!r} "
                    f"(it serves: {served})",
                    key=f"{self.key}.model",
                )
            self._identity = {
                "model": self.spec.model,
                "served": {k: entry[k] for k in _IDENTITY_FIELDS if k in entry},
                "revision": self.spec.revision,
            }
        return self._identity

    def _cache_path(self, body: dict[str, Any]) -> Path | None:
        if self.cache_dir is None:
            return None
        folder = self.cache_dir / _digest(self.identity())[:24]
        return folder / f"{_digest(body)}.json"

    def cached_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """:meth:`request`, answered from the cache when this body was answered before."""
        file = self._cache_path(body)
        if file is not None and file.is_file():
            try:
                stored = json.loads(file.read_text(encoding="utf-8"))
                if stored.get("body") == body:
                    self.cache_hits += 1
                    return dict(stored["response"])
            except (OSError, ValueError, KeyError, TypeError):
                pass  # a damaged entry is asked again
        response = self.request(path, body)
        if file is not None:
            atomic_write_json(file, {"body": body, "response": response})
        return response

    def post_many(self, path: str, bodies: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Every body's response, in order, ``concurrency`` at a time (identical bodies
        are sent once)."""
        unique: dict[str, dict[str, Any]] = {_digest(b): b for b in bodies}
        self.identity()  # once, before the threads (the cache folder needs it)
        with ThreadPoolExecutor(max_workers=self.spec.concurrency) as pool:
            replies = list(pool.map(lambda b: self.cached_post(path, b), unique.values()))
        answers = dict(zip(unique, replies, strict=True))
        return [answers[_digest(b)] for b in bodies]


def _seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (its date form is not used)."""
    try:
        return max(0.0, min(BACKOFF_CAP_S, float(value))) if value else None
    except ValueError:
        return None
