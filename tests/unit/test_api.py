"""The public API: every name in ``bias_gate.api.__all__`` is there, the extension
protocols are the ones the registries check, and importing it loads no torch."""

from __future__ import annotations

import re
import subprocess
import sys

import bias_gate.api as api
from bias_gate import registry
from tests.conftest import ROOT


def test_every_public_name_resolves():
    assert len(set(api.__all__)) == len(api.__all__)
    for name in api.__all__:
        assert getattr(api, name) is not None, name


def test_the_registries_check_the_protocols_the_api_exports():
    protocols = [
        (registry.BENCHMARKS, api.Benchmark),
        (registry.METRICS, api.GatedMetric),
        (registry.SCORING_MODES, api.ScoringMode),
        (registry.REPORTS, api.ReportWriter),
        (registry.COMPRESSORS, api.Compressor),
    ]
    for kind, protocol in protocols:
        module, _, name = kind.protocol.partition(":")
        assert (protocol.__module__, protocol.__name__) == (module, name)


def test_an_unknown_name_is_an_attribute_error():
    try:
        api.NoSuchThing  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("bias_gate.api.NoSuchThing resolved")


def test_importing_the_api_imports_no_torch_until_a_mode_is_asked_for():
    code = (
        "import sys\n"
        "import bias_gate.api as api\n"
        "from bias_gate.api import BBQItem, GateResults, Benchmark, CompressionContext\n"
        "print('torch' in sys.modules)\n"
        "api.Continuation\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def _extension_example() -> str:
    source = (ROOT / "tests" / "integration" / "test_extensions.py").read_text()
    quote = "'" * 3
    return source.split("EXTENSION = " + quote, 1)[1].split(quote, 1)[0]


def test_the_extension_guide_and_its_example_import_only_the_public_api():
    """docs/extending.md and the working example it points to
    (tests/integration/test_extensions.py's EXTENSION) import from bias_gate.api only,
    and only names it exports."""
    texts = {
        "docs/extending.md": (ROOT / "docs" / "extending.md").read_text(),
        "EXTENSION": _extension_example(),
    }
    for where, text in texts.items():
        modules = re.findall(r"^\s*(?:from|import)\s+(bias_gate[\w.]*)", text, re.M)
        assert set(modules) == {"bias_gate.api"}, (where, modules)
        for names in re.findall(r"^from bias_gate\.api import (\([^)]*\)|.*)$", text, re.M):
            for name in re.findall(r"\w+", names):
                assert name in api.__all__, (where, name)
