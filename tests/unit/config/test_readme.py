"""The README's model.yaml sample loads on a default install (no extra installed)."""

from __future__ import annotations

import re
import sys

import pytest

from bias_gate.config.validated import load_gate_config
from bias_gate.errors import ConfigError
from tests.conftest import ROOT


def readme_sample() -> str:
    """The first ```yaml block under the README's "## model.yaml" heading."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("\n## model.yaml\n") :]
    match = re.search(r"```yaml\n(.*?)```", section, flags=re.S)
    assert match, "README.md: no yaml block under ## model.yaml"
    return match.group(1)


def test_readme_sample_loads_without_any_extra(tmp_path, monkeypatch):
    # "Not installed", as an import sees it: the llama extra is absent on a default install.
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    path = tmp_path / "model.yaml"
    path.write_text(readme_sample(), encoding="utf-8")
    config = load_gate_config(path)
    assert config.spec.scoring.mode == "continuation"  # SmolLM2 cannot be judged permuted
    assert {config.spec.runtime_of(name) for name in config.methods} == {"torch"}
    assert list(config.methods) == ["wanda-50", "nm-2-4", "int8", "q8-gguf"]


def test_a_llama_cpp_runtime_needs_the_extra_the_readme_names(tmp_path, monkeypatch):
    """The check above can fail: the old sample's llama.cpp config is refused without the
    extra, with the install line the README gives."""
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    sample = readme_sample().replace(
        "scoring:",
        "  - {name: q4km, method: gguf, type: Q4_K_M, runtime: llama_cpp}\nscoring:",
    )
    path = tmp_path / "model.yaml"
    path.write_text(sample, encoding="utf-8")
    with pytest.raises(Exception, match=re.escape("pip install 'pytest-bias-gate[llama]'")):
        load_gate_config(path)


def _plugin_options() -> set[str]:
    """Every option the plugin adds, read from its own ``pytest_addoption``."""
    from bias_gate import plugin

    names: set[str] = set()

    class Group:
        def addoption(self, *flags: str, **_: object) -> None:
            names.update(flags)

    class Parser:
        def getgroup(self, *_: object) -> Group:
            return Group()

    plugin.pytest_addoption(Parser())  # type: ignore[arg-type]
    return names


@pytest.mark.parametrize(
    ("doc", "heading"), [("README.md", "## Options"), ("docs/config.md", "## Command-line options")]
)
def test_the_options_sections_name_every_option(doc, heading):
    text = (ROOT / doc).read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    end = section.find("\n## ", 1)
    section = section if end < 0 else section[:end]
    named = set(re.findall(r"--bias-gate[\w-]*", section))
    assert named == _plugin_options()


@pytest.mark.parametrize("doc", ["README.md", "docs/config.md"])
def test_the_documented_error_is_the_real_one(tmp_path, doc):
    """The example error in the docs is what the README's sample with ``sparsity: 50``
    for wanda-50 really gives (as pytest prints a usage error)."""
    (documented,) = re.findall(
        r"^    (ERROR: bias-gate: .*)$", (ROOT / doc).read_text(encoding="utf-8"), re.M
    )
    path = tmp_path / "model.yaml"
    sample = readme_sample()
    assert "{name: wanda-50, method: wanda, sparsity: 0.5}" in sample
    path.write_text(sample.replace("sparsity: 0.5}", "sparsity: 50}", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_gate_config(path)
    assert f"ERROR: bias-gate: {caught.value}".replace(str(path), "model.yaml") == documented
