"""Which runtime answers a config, and what it needs.

``torch`` answers with the model as transformers loads it (a GGUF dequantized), on the
configured device. ``llama_cpp`` answers with a GGUF file as it ships, in llama.cpp on
the CPU (:mod:`bias_gate.llama.runtime`): the ``gguf`` method's file, a ``checkpoint``'s
own GGUF, or the dense model written as an F32 GGUF (lossless: the weights the torch
engine loads). ``openai`` answers through an OpenAI-compatible server: the dense model
at ``model.endpoint``, a config at its own ``endpoint``
(:mod:`bias_gate.models.openai_runtime`, docs/serving.md). A config is always compared
with the dense model in its own runtime, so a difference between runtimes is never read
as an effect of compression.

Methods that change torch weights (pruning, torch quantization) have no file llama.cpp
could run; a compressor says it has one with the optional member ``runs_as_gguf(options)``
(:class:`bias_gate.compress.base.Compressor`). Everything here is checked when
model.yaml is loaded (:func:`check_runtimes`), one line each.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bias_gate.config.schema import GateSpec, Runtime
from bias_gate.config.validation import dotted
from bias_gate.config.yaml_source import Loc, YamlDocument
from bias_gate.errors import ConfigError
from bias_gate.fingerprint import installed_version
from bias_gate.llama.available import INSTALL, llama_cpp_installed, llama_cpp_version

if TYPE_CHECKING:
    from bias_gate.compress.methods import CompressionMethod
    from bias_gate.llama.runtime import LlamaModel
    from bias_gate.models.loading import LoadedModel
    from bias_gate.models.openai_runtime import OpenAIModel

TORCH: Runtime = "torch"
LLAMA_CPP: Runtime = "llama_cpp"
OPENAI: Runtime = "openai"


def runtime_part(runtime: Runtime, served: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The runtime's share of the answer, perplexity and baseline keys: ``None`` for
    torch (keys made before runtimes existed stay valid; the torch and transformers
    versions are in every key already); for llama.cpp, its binding's version (which
    pins the llama.cpp source it was built from) and the version of the ``gguf``
    package that writes the dense model's F32 file; for a server, ``served``: what
    names the served model (:meth:`bias_gate.models.openai_client.EndpointClient.identity`)."""
    if runtime == TORCH:
        return None
    if runtime == OPENAI:
        if served is None:
            raise ValueError("runtime openai keys need the served model's identity")
        return {"runtime": runtime, "served": served}
    return {
        "runtime": runtime,
        "llama-cpp-python": llama_cpp_version(),
        "gguf": installed_version("gguf"),
    }


def runtime_device(runtime: Runtime, device: str) -> str:
    """Where ``runtime`` computes: llama.cpp runs on the CPU here, a server on its own
    hardware (named by its identity), whatever the torch device."""
    if runtime == OPENAI:
        return "server"
    return "cpu" if runtime == LLAMA_CPP else device


def runs_as_gguf(method: CompressionMethod) -> bool:
    """Whether config ``method``'s model exists as a GGUF file llama.cpp can run."""
    declared = getattr(method.compressor, "runs_as_gguf", None)
    return bool(declared(method.options)) if callable(declared) else False


def _config_loc(spec: GateSpec, name: str) -> tuple[Loc, Loc]:
    """The location of config ``name``'s ``runtime`` key and of the config itself."""
    index = [c.name for c in spec.compressions].index(name)
    return ("compressions", index, "runtime"), ("compressions", index)


def check_runtimes(
    spec: GateSpec, methods: dict[str, CompressionMethod], doc: YamlDocument
) -> None:
    """One :class:`ConfigError` for the first config that cannot run in its runtime: a
    method with no GGUF file in ``llama_cpp``, or llama.cpp not installed (saying how
    to install it). The dense model's own source is checked by the schema."""
    from bias_gate.models.openai_config import check_endpoints

    check_endpoints(spec, doc)
    needed: Loc | None = ("model", "runtime") if spec.model.runtime == LLAMA_CPP else None
    for name, method in methods.items():
        if spec.runtime_of(name) != LLAMA_CPP:
            continue
        own = method.spec.runtime is not None
        key_loc, config_loc = _config_loc(spec, name)
        loc = key_loc if own else ("model", "runtime")
        if not runs_as_gguf(method):
            raise ConfigError(
                f"config {name!r} (method {method.spec.method}) changes torch weights and "
                "has no GGUF file for llama.cpp to run; use method gguf, a checkpoint's "
                "gguf, or runtime: torch for this config",
                file=doc.path,
                line=doc.line_of(key_loc if own else config_loc),
                key=dotted(key_loc if own else config_loc),
            )
        if spec.model.gguf is None and spec.model.package is None:
            raise ConfigError(
                "runtime llama_cpp compares this config with the dense model in llama.cpp, "
                "written from its GGUF file: give the model as gguf or package, or use "
                "runtime: torch",
                file=doc.path,
                line=doc.line_of(loc),
                key=dotted(loc),
            )
        needed = needed or loc
    if needed is not None and not llama_cpp_installed():
        raise ConfigError(
            f"runtime llama_cpp needs llama-cpp-python (llama.cpp): {INSTALL}",
            file=doc.path,
            line=doc.line_of(needed),
            key=dotted(needed),
        )


def open_endpoint(
    spec: GateSpec, name: str | None, loaded: LoadedModel, cache_dir: Path
) -> OpenAIModel:
    """Config ``name``'s served model (``None``: the dense model's), answering with
    ``loaded``'s tokenizer; its answers cached under ``cache_dir``/http."""
    from bias_gate.models.openai_config import endpoint_of
    from bias_gate.models.openai_runtime import OpenAIModel

    endpoint, key = endpoint_of(spec, name)
    return OpenAIModel(endpoint, loaded.tokenizer, cache_dir / "http", key=key)


def served_identity(spec: GateSpec, name: str | None) -> dict[str, Any]:
    """What names config ``name``'s served model (``None``: the dense model's), asked of
    its server: its share of the answer and perplexity keys."""
    from bias_gate.models.openai_client import EndpointClient
    from bias_gate.models.openai_config import endpoint_of

    endpoint, key = endpoint_of(spec, name)
    return EndpointClient(endpoint, key=key).identity()


def open_llama(path: Path, loaded: LoadedModel) -> LlamaModel:
    """The GGUF file ``path`` in llama.cpp, answering with ``loaded``'s tokenizer and
    generation settings, on as many threads as torch uses (one per pytest-xdist worker
    in the tests)."""
    import torch

    from bias_gate.llama.runtime import LlamaModel

    return LlamaModel(
        path, generation_config=loaded.model.generation_config, threads=torch.get_num_threads()
    )
