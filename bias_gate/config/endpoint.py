"""``endpoint``: an OpenAI-compatible server that answers for a model (``runtime: openai``).

The dense model's ``model.endpoint`` and a config's own ``endpoint`` take this shape.
The API key is never written in model.yaml: ``api_key_env`` names the environment
variable that holds it. docs/serving.md describes what the server must support.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class EndpointSpec(BaseModel):
    """Where a served model answers, and how hard the client may push it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="Base URL of the OpenAI-compatible API, e.g. http://host:8000/v1.")
    model: str = Field(description="The model name the server serves it under.")
    api_key_env: str | None = Field(
        None, description="Name of the environment variable holding the API key (never the key)."
    )
    revision: str | None = Field(
        None,
        description="Your name for what is served (a commit, a tag): part of the cache key, "
        "so a re-served model never reuses answers of an earlier one.",
    )
    concurrency: int = Field(4, ge=1, le=256, description="Requests in flight at once.")
    timeout_s: float = Field(120.0, gt=0, description="Seconds one request may take.")
    retries: int = Field(
        5, ge=0, le=20, description="Retries of a request on 429, 5xx or a dropped connection."
    )

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"url {value!r} must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("api_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            raise ValueError(
                "api_key_env names an environment variable (letters, digits, _), "
                "never the key itself"
            )
        return value
