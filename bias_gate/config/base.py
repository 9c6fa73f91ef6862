"""What every section of model.yaml shares: the strict base model, the runtime type, and
the check that a name is registered (an entry point or a direct registration)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from bias_gate.registry import Registry

#: What answers the items and computes perplexity: ``torch`` (transformers, a GGUF
#: dequantized) or ``llama_cpp`` (llama.cpp through llama-cpp-python, the GGUF file as
#: it ships; the ``pytest-bias-gate[llama]`` extra). :mod:`bias_gate.models.runtimes`.
Runtime = Literal["torch", "llama_cpp"]


def registered(registry: Registry[Any], name: str) -> str:
    """``name`` if ``registry`` has it (by entry point or directly), else a ValueError
    listing what it has (read by the config loader as one line at the key)."""
    if name not in registry.available():
        raise ValueError(registry.unknown(name))
    return name


class Strict(BaseModel):
    """Base of every config section: unknown keys are errors; values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)
