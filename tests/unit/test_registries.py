"""The registries: one shape for every kind of extension (entry points, a protocol
checked on registration, an error listing what is available), and no torch to list or
check names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest

from bias_gate.registry import (
    BENCHMARKS,
    COMPRESSORS,
    METRICS,
    REPORTS,
    SCORING_MODES,
    RegistrationError,
    UnknownName,
)

SHIPPED = [
    (BENCHMARKS, ["bbq", "kobbq"]),
    (METRICS, ["expected_srs", "srs"]),
    (SCORING_MODES, ["continuation", "generate", "letter", "permuted"]),
    (REPORTS, ["html", "json", "junit", "markdown", "plots"]),
]


@pytest.mark.parametrize(("registry", "names"), SHIPPED, ids=[r.group for r, _ in SHIPPED])
def test_every_shipped_extension_is_an_entry_point_that_satisfies_its_protocol(registry, names):
    assert registry.available() == names
    for name in names:
        assert registry.get(name).name == name


def test_an_unknown_name_lists_the_available_ones():
    with pytest.raises(UnknownName) as info:
        METRICS.get("accuracy")
    assert str(info.value) == "unknown gated metric 'accuracy'; available: expected_srs, srs"
    assert isinstance(info.value, KeyError)


class HalfAMetric:
    name: ClassVar[str] = "half"
    description: ClassVar[str] = "has pairs, lacks look and summary"

    def pairs(self, items, dense, compressed):
        return None


def test_registration_checks_the_protocol():
    with pytest.raises(RegistrationError) as info:
        METRICS.register("half", HalfAMetric)
    assert str(info.value) == (
        "bias_gate.metrics: gated metric 'half' (registered directly) does not satisfy "
        "bias_gate.metrics.gated.GatedMetric: lacks look, summary"
    )
    assert "half" not in METRICS.available()


def test_the_registered_name_is_the_extension_name():
    from bias_gate.metrics.gated import SRS

    with pytest.raises(RegistrationError, match="its name is 'srs', registered as 'srs2'"):
        METRICS.register("srs2", SRS)


class NoCompress:
    """Declares its options, forgets to compress."""

    Options: ClassVar = None


class Minimal:
    """Options and compress only: ``cacheable`` and ``fingerprint_inputs`` are optional."""

    Options: ClassVar = None

    def compress(self, model, options, context):
        return None


def test_compressors_are_checked_against_their_protocol_at_registration():
    with pytest.raises(RegistrationError) as info:
        COMPRESSORS.register("nocompress", NoCompress)
    assert str(info.value) == (
        "bias_gate.compressors: compression method 'nocompress' (registered directly) does "
        "not satisfy bias_gate.compress.base.Compressor: lacks compress"
    )
    assert "nocompress" not in COMPRESSORS.available()
    COMPRESSORS.register("minimal", Minimal)
    try:
        assert COMPRESSORS.get("minimal") is Minimal
    finally:
        COMPRESSORS.unregister("minimal")


class _Mode:
    def variants(self, ctx, item):
        return []

    def answer_batch(self, ctx, scorer, items, variants):
        return []


class Undeclared(_Mode):
    name: ClassVar[str] = "undeclared"


class Rotating(_Mode):
    name: ClassVar[str] = "rotating"
    position_balanced: ClassVar[bool] = True


class OneOrder(_Mode):
    name: ClassVar[str] = "one-order"
    position_balanced: ClassVar[bool] = False


def _letter_bound(mode: str):
    """Validity of a model that answers every prompt with letter A, read in ``mode``."""
    from bias_gate.judge.validity import Validity

    return Validity(
        mode=mode,
        n=90,
        disambig_n=90,
        disambig_correct=60,
        disambig_accuracy=60 / 90,
        disambig_pvalue=1e-6,
        letter_share=(1.0, 0.0, 0.0),
        letter_votes=90,
        max_letter_share=1.0,
        unknown_rate=0.1,
        unknown_rate_ambig=None,
        generations=0,
        parse_failures=0,
        parse_failure_rate=None,
        invalid_items=0,
        invalid_rate=0.0,
    )


def test_a_scoring_mode_declares_whether_it_is_position_balanced_and_validity_reads_it():
    from bias_gate.judge.thresholds import ValidityThresholds

    with pytest.raises(RegistrationError, match=r"'undeclared' .* lacks position_balanced"):
        SCORING_MODES.register("undeclared", Undeclared)
    SCORING_MODES.register("rotating", Rotating)
    SCORING_MODES.register("one-order", OneOrder)
    try:
        limits = ValidityThresholds(max_letter_share=0.9)
        balanced, reasons = _letter_bound("rotating").assess(limits)
        assert balanced and not reasons
        assert any("letter A wins 100.0%" in note for note in _letter_bound("rotating").notes())
        judged, reasons = _letter_bound("one-order").assess(limits)
        assert not judged and "answers by letter position" in reasons[0]
        assert _letter_bound("permuted").position_balanced
        assert not _letter_bound("letter").position_balanced
    finally:
        SCORING_MODES.unregister("rotating")
        SCORING_MODES.unregister("one-order")


def _dist(site: Path, entry_points: str) -> None:
    info = site / "demo_registry_ext-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-registry-ext\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(entry_points)


def test_entry_points_of_another_distribution_are_found_and_checked(tmp_path, monkeypatch):
    (tmp_path / "demo_registry_ext.py").write_text(
        "class Csv:\n"
        "    name = 'csv'\n"
        "    description = 'rows'\n"
        "    def write(self, results, path):\n"
        "        return [path]\n"
        "class NoWrite:\n"
        "    name = 'nowrite'\n"
        "    description = 'cannot write'\n"
    )
    _dist(
        tmp_path,
        "[bias_gate.reports]\n"
        "csv = demo_registry_ext:Csv\n"
        "nowrite = demo_registry_ext:NoWrite\n"
        "gone = demo_registry_missing:Writer\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert {"csv", "nowrite", "gone"} <= set(REPORTS.available())
        assert REPORTS.get("csv").name == "csv"
        with pytest.raises(RegistrationError, match=r"'nowrite' .* lacks write"):
            REPORTS.get("nowrite")
        with pytest.raises(RegistrationError, match=r"'gone' .* cannot be loaded"):
            REPORTS.get("gone")
    finally:
        REPORTS.unregister("csv")
    sys.modules.pop("demo_registry_ext", None)


def test_listing_and_checking_config_names_imports_no_torch():
    code = (
        "import sys\n"
        "import bias_gate.plugin, bias_gate.hookspec\n"
        "import bias_gate.config.schema, bias_gate.config.validated\n"
        "from bias_gate.registry import BENCHMARKS, METRICS, REPORTS, SCORING_MODES\n"
        "SCORING_MODES.available()\n"
        "BENCHMARKS.get('bbq'); METRICS.get('srs'); REPORTS.get('html')\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


MINI_CONFIG = """\
data:
  benchmark: mini
  source: data
  categories: [Alter]
compressions:
  - {name: d, method: dense}
perplexity:
  enabled: false
"""


def test_the_config_takes_categories_and_prompt_from_the_chosen_benchmark(tmp_path):
    from bias_gate.config.schema import DEFAULT_SYSTEM_PROMPT
    from bias_gate.config.validated import load_gate_config
    from bias_gate.data.benchmarks import BBQFormat
    from bias_gate.errors import ConfigError

    class Mini(BBQFormat):
        name: ClassVar[str] = "mini"
        categories: ClassVar[tuple[str, ...]] = ("Alter",)
        template: ClassVar[str] = "{context} {question}\nA. {a}\nB. {b}\nC. {c}\nAntwort:"

    BENCHMARKS.register("mini", Mini)
    try:
        (tmp_path / "data").mkdir()
        path = tmp_path / "model.yaml"
        path.write_text(MINI_CONFIG)
        spec = load_gate_config(path).spec
        assert spec.data.benchmark == "mini"
        assert spec.scoring.prompt.template.endswith("Antwort:")
        assert spec.scoring.prompt.system == DEFAULT_SYSTEM_PROMPT
        path.write_text(MINI_CONFIG.replace("[Alter]", "[Alter, Age]"))
        with pytest.raises(ConfigError) as info:
            load_gate_config(path)
        assert str(info.value) == (
            f"{path}:4: data.categories[1]: unknown category 'Age' of benchmark 'mini'; "
            "allowed: Alter"
        )
        own = MINI_CONFIG + "scoring:\n  prompt: {template: '{a} {b} {c}?'}\n"
        path.write_text(own)
        assert load_gate_config(path).spec.scoring.prompt.template == "{a} {b} {c}?"
    finally:
        BENCHMARKS.unregister("mini")


def test_a_broken_benchmark_entry_point_is_one_config_line(tmp_path, monkeypatch):
    from bias_gate.config.validated import load_gate_config
    from bias_gate.errors import ConfigError

    site = tmp_path / "site"
    site.mkdir()
    (site / "demo_broken_bench.py").write_text(
        "class NoSource:\n"
        "    name = 'nosource'\n"
        "    description = 'lacks source and parse_answer'\n"
        "    categories = ('Alter',)\n"
        "    system_prompt = None\n"
        "    template = '{a} {b} {c}'\n"
    )
    _dist(site, "[bias_gate.benchmarks]\nnosource = demo_broken_bench:NoSource\n")
    monkeypatch.syspath_prepend(str(site))
    (tmp_path / "data").mkdir()
    path = tmp_path / "model.yaml"
    path.write_text(MINI_CONFIG.replace("benchmark: mini", "benchmark: nosource"))
    with pytest.raises(ConfigError) as info:
        load_gate_config(path)
    assert str(info.value) == (
        f"{path}:2: data.benchmark: benchmark 'nosource' (entry point "
        "demo_broken_bench:NoSource in group bias_gate.benchmarks) does not satisfy "
        "bias_gate.data.benchmarks.Benchmark: lacks source, parse_answer"
    )
    sys.modules.pop("demo_broken_bench", None)
