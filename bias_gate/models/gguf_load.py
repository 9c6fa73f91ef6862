"""A GGUF model as the gate loads it (decision #110): dequantized by transformers on
every load, written as safetensors to the cache's ``scratch/`` folder and loaded again
from that file, so its weights are mapped from a file as a directory model's are (what
compressing in place needs, decision #109). The caller removes the copy once the model
is loaded (:func:`remove_scratch`): the cache never keeps the dense model.

What it does keep is the file's config and tokenizer (``models/<key>/``, kind ``model``,
a few megabytes): reading them from the GGUF's metadata takes about half of a load (9 of
SmolLM2's 19 s), reading them from their files a tenth of a second. They are keyed by
the file's content, the dtype (the config names it) and the versions of the libraries
that read them. And the tensor-name map transformers builds for every module is built
once (:func:`name_map_built_once`).
"""

from __future__ import annotations

import atexit
import functools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bias_gate.cache import (
    fill_folder_once,
    remove_stale_temporaries,
    staging_dir,
    write_or_warn,
)
from bias_gate.cache_usage import mark_used
from bias_gate.fingerprint import cached_file_digest

#: The cache folder of GGUF files' config and tokenizer (an evictable entry each).
METADATA = "models"
#: The cache folder the dequantized copies are written to, each removed once loaded.
SCRATCH = "scratch"
_WEIGHTS = (".safetensors", ".safetensors.index.json")


def metadata_dir(path: Path, dtype: str, cache_dir: Path) -> Path:
    """Where the config and tokenizer of the GGUF file ``path`` are kept."""
    from bias_gate.identity import gguf_metadata_key

    return cache_dir / METADATA / gguf_metadata_key(cached_file_digest(path), dtype)


def load_gguf(
    path: Path, dtype: str, cache_dir: Path, trust_remote_code: bool = False
) -> tuple[Any, Any, Path | None]:
    """The model and tokenizer of the GGUF file ``path`` in ``dtype``, and the scratch
    folder the model is mapped from (``None`` when the cache could not take it: one
    warning, and the model dequantized in memory is used)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    meta = metadata_dir(path, dtype, cache_dir)
    remote = {"trust_remote_code": trust_remote_code}
    kwargs: dict[str, Any] = {"gguf_file": path.name, **remote}
    if (meta / "config.json").is_file():
        mark_used(meta / "config.json")  # what least-recently-used eviction orders by
        tokenizer = AutoTokenizer.from_pretrained(str(meta), **remote)
        kwargs["config"] = AutoConfig.from_pretrained(str(meta), **remote)
    else:
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), **kwargs)
    torch_dtype = getattr(torch, dtype)
    with name_map_built_once():
        model = AutoModelForCausalLM.from_pretrained(str(path.parent), dtype=torch_dtype, **kwargs)
    scratch = _dequantized_copy(model, tokenizer, cache_dir)
    if scratch is None:
        return model, tokenizer, None
    _keep_metadata(scratch, meta)
    del model  # the copy, mapped from its file, instead
    try:
        model = AutoModelForCausalLM.from_pretrained(
            str(scratch), dtype=torch_dtype, use_safetensors=True, **remote
        )
    except BaseException:
        remove_scratch(scratch)
        raise
    return model, tokenizer, scratch


@contextmanager
def name_map_built_once() -> Iterator[None]:
    """While a GGUF model loads, gguf's tensor-name map is built once per architecture
    and layer count. transformers builds it again for every module it walks
    (``get_gguf_hf_weights_map`` recurses over ``named_children``): 397 times, about 4 s
    of a SmolLM2 load. The map depends on nothing else, and transformers only reads it.
    Where gguf has no such function, nothing changes."""
    import gguf

    original = getattr(gguf, "get_tensor_name_map", None)
    if original is None:
        yield
        return
    gguf.get_tensor_name_map = functools.lru_cache(maxsize=None)(original)
    try:
        yield
    finally:
        gguf.get_tensor_name_map = original


def remove_scratch(folder: Path) -> None:
    """Remove a scratch copy once its model is loaded. Its files stay readable through
    the mappings made of them (POSIX); where a mapped file cannot be removed (Windows),
    it goes when the process exits, or a later load's cleanup removes it once stale."""
    try:
        shutil.rmtree(folder)
    except OSError:
        atexit.register(shutil.rmtree, folder, ignore_errors=True)


def _dequantized_copy(model: Any, tokenizer: Any, cache_dir: Path) -> Path | None:
    """Write a GGUF-loaded model as a plain safetensors folder under ``cache_dir``'s
    ``scratch/`` (a temporary name, ``.dense.<random>.tmp``) and return it; ``None`` when
    the cache cannot take it (one warning, :func:`bias_gate.cache.write_or_warn`: the
    model in hand is used, and no half folder is left behind, whatever failed). What a
    killed run left there is removed first, once stale."""
    scratch = cache_dir / SCRATCH
    remove_stale_temporaries(scratch)
    written: list[Path] = []

    def write() -> None:
        written.append(_stage_dequantized(model, tokenizer, scratch / "dense"))

    write_or_warn("the dequantized model", scratch, write)
    return written[0] if written else None


def _stage_dequantized(model: Any, tokenizer: Any, target: Path) -> Path:
    folder = staging_dir(target)
    quantizer = getattr(model, "hf_quantizer", None)
    quantization_config = getattr(model.config, "quantization_config", None)
    try:
        # The weights are already dequantized; drop the GGUF marker so transformers
        # saves (and then loads) them as an ordinary checkpoint.
        model.hf_quantizer = None
        if quantization_config is not None:
            del model.config.quantization_config
        model.save_pretrained(folder, safe_serialization=True)
        tokenizer.save_pretrained(folder)
        return folder
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        model.hf_quantizer = quantizer
        if quantization_config is not None:
            model.config.quantization_config = quantization_config


def _keep_metadata(scratch: Path, meta: Path) -> None:
    """Keep the scratch copy's config and tokenizer files (all but the weights) as
    ``meta``, atomically (a folder renamed into place; another process's copy is kept).
    A cache that cannot take them is one warning."""
    if (meta / "config.json").is_file():
        return
    remove_stale_temporaries(meta.parent)

    def fill(staging: Path) -> None:
        for source in scratch.iterdir():
            if source.is_file() and not source.name.endswith(_WEIGHTS):
                shutil.copyfile(source, staging / source.name)

    write_or_warn(
        "the GGUF model's config and tokenizer", meta.parent, lambda: fill_folder_once(meta, fill)
    )
