"""Real gate runs through pytester on a tiny random Llama saved as a model directory,
crafted BBQ items and a controlled compressor, so every expected verdict is known."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.support.gate import run_gate_args, save_tiny_model, write_crafted_bbq

pytest_plugins = ["pytester"]

#: A test-only compressor: adds a logit bias to the word that every crafted item's
#: biased answer contains, so the compressed model picks the biased answer while its
#: perplexity barely moves (the smart-pruning paradox, by construction).
BOOST_CONFTEST = """
import torch

from bias_gate.compress import methods
from bias_gate.compress.base import CompressionResult, CompressorOptions


class BoostOptions(CompressorOptions):
    word: str = " zeta"
    strength: float = 8.0


class BoostCompressor:
    Options = BoostOptions

    def compress(self, model, options, context):
        ids = context.tokenizer.encode(options.word, add_special_tokens=False)
        old = model.lm_head
        head = torch.nn.Linear(old.in_features, old.out_features, bias=True)
        with torch.no_grad():
            head.weight = torch.nn.Parameter(old.weight.detach().clone())
            head.bias.zero_()
            head.bias[ids] = options.strength
        model.lm_head = head
        model.config.tie_word_embeddings = False
        return CompressionResult(model, target_sparsity=None, achieved_sparsity=None)


methods.register("boost", BoostCompressor)
"""

CONFIG = """\
model:
  path: {model}
data:
  source: {data}
  categories: [Age]
  items_per_category: {items}
compressions:
{compressions}
scoring:
  mode: continuation
  batch_size: 16
perplexity:
  corpus: {corpus}
  window: 64
  windows: 4
thresholds:
  profile: default
  overrides:
    validity: {{max_disambig_pvalue: 1.0, max_letter_share: 1.0}}
"""

NULL = """\
  - {name: dense, method: dense}
  - {name: random-0, method: random, sparsity: 0.0}
"""
BOOST = """\
  - {name: boost, method: boost}
"""


@pytest.fixture(scope="session")
def gate_material(tmp_path_factory, tiny_llama, wikitext_dir) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("gate-material")
    model = save_tiny_model(tiny_llama, root / "tiny-llama")
    data = root / "bbq"
    write_crafted_bbq(data, templates=40)
    return {"model": model, "data": data, "corpus": wikitext_dir / "test.txt"}


def write_config(
    pytester: pytest.Pytester,
    material: dict[str, Path],
    compressions: str,
    items: int = 80,
    extra: str = "",
) -> Path:
    path = pytester.path / "model.yaml"
    path.write_text(
        CONFIG.format(
            model=material["model"],
            data=material["data"],
            corpus=material["corpus"],
            items=items,
            compressions=compressions,
        )
        + extra
    )
    pytester.makeconftest(BOOST_CONFTEST)
    return path


def run_gate(pytester: pytest.Pytester, config: Path, *args: str) -> pytest.RunResult:
    cache = pytester.path / "cache"
    return run_gate_args(
        pytester,
        "--bias-gate",
        str(config),
        "--bias-gate-cache-dir",
        str(cache),
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::DeprecationWarning",
        *args,
    )


def items_of(results: dict) -> dict[tuple[str, str], dict]:
    return {
        (config["name"], item["category"]): item
        for config in results["configs"]
        for item in config["items"]
    }


def test_null_run_has_no_bias_failure(pytester, gate_material):
    config = write_config(pytester, gate_material, NULL)
    out = pytester.path / "results.json"
    result = run_gate(pytester, config, "--bias-gate-json", str(out))
    result.assert_outcomes(passed=4)
    results = json.loads(out.read_text())
    for item in items_of(results).values():
        assert item["cohens_h"] == 0.0
        assert item["new_bias_rate"] == 0.0
        assert item["verdict"] in ("pass", "warn")
        assert item["n"] == 40
    assert results["configs"][1]["achieved_sparsity"] == 0.0
    assert "bias-gate summary" in result.stdout.str()
    for config in results["configs"]:  # not measured unless asked
        assert config["storage"] == {"dense_bytes": None, "sparse_bytes": None}
        assert config["latency_ms"] == {"dense": None, "compressed": None}
    # Each set of answers is complete, so its store was compacted into one file.
    folders = list((pytester.path / "cache" / "answers").iterdir())
    assert len(folders) == 3  # dense, dense config, random-0
    for folder in folders:
        assert [p.name.split("-")[0] for p in folder.iterdir()] == ["answers"]


def test_amplified_bias_fails_and_names_the_paradox(pytester, gate_material):
    config = write_config(pytester, gate_material, BOOST)
    junit = pytester.path / "junit.xml"
    out = pytester.path / "results.json"
    result = run_gate(
        pytester,
        config,
        "--junitxml",
        str(junit),
        "--bias-gate-json",
        str(out),
        "--bias-gate-measure",
        "storage,latency",
    )
    result.assert_outcomes(passed=1, failed=1)
    text = result.stdout.str()
    assert "model.yaml::boost::Age FAILED" in text or "FAILED model.yaml::boost::Age" in text
    assert "bias amplified" in text
    assert "smart-pruning paradox" in text
    assert "Traceback" not in text

    results = json.loads(out.read_text())
    measured = results["configs"][0]
    assert measured["storage"]["dense_bytes"] > 0 and measured["storage"]["sparse_bytes"] > 0
    assert measured["latency_ms"]["dense"] > 0 and measured["latency_ms"]["compressed"] > 0
    item = items_of(results)[("boost", "Age")]
    assert item["verdict"] == "fail"
    assert item["cohens_h"] > 0.2
    assert item["p_adjusted"] < 0.05
    assert item["srs_compressed"] > item["srs_dense"]

    # pytest's own --junitxml names the cases as the plugin's JUnit does.
    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    assert set(cases) == {"boost::Age", "boost::perplexity"}
    assert {case.get("classname") for case in cases.values()} == {"bias-gate.boost"}
    age = cases["boost::Age"]
    assert age.find("failure") is not None
    properties = {p.get("name"): p.get("value") for p in age.iter("property")}
    assert properties["bias_gate.verdict"] == "fail"
    assert float(properties["bias_gate.cohens_h"]) > 0.2
    perplexity = cases["boost::perplexity"]
    assert perplexity.find("failure") is None
    ppl_properties = {p.get("name"): p.get("value") for p in perplexity.iter("property")}
    assert float(ppl_properties["bias_gate.perplexity_ratio"]) < 1.5
    # pytest's --junitxml carries the standalone JUnit's property names (one function).
    from bias_gate.report.junit import perplexity_properties
    from bias_gate.results import GateResults

    config_result = GateResults.read(out).configs[0]
    names = [
        name
        for name, _ in perplexity_properties(
            config_result, dense_perplexity=None, max_perplexity_ratio=None
        )
    ]
    assert [p.get("name") for p in perplexity.iter("property")] == names
    assert ppl_properties["bias_gate.max_perplexity_ratio"] != ""


def test_warn_mode_reports_without_failing(pytester, gate_material):
    config = write_config(pytester, gate_material, BOOST)
    result = run_gate(pytester, config, "--bias-gate-mode", "warn")
    result.assert_outcomes(passed=2, warnings=1)
    assert "would fail" in result.stdout.str()


def test_too_few_items_is_inconclusive_and_says_how_many_would_do(pytester, gate_material):
    config = write_config(pytester, gate_material, "  - {name: dense, method: dense}\n", items=12)
    out = pytester.path / "results.json"
    result = run_gate(pytester, config, "--bias-gate-json", str(out))
    result.assert_outcomes(passed=2, warnings=1)
    item = items_of(json.loads(out.read_text()))[("dense", "Age")]
    assert (item["verdict"], item["decision"]) == ("warn", "inconclusive")
    assert item["reason_category"] == "too few items"
    assert item["reasons"][0].startswith("inconclusive:")
    assert item["n_required"] > 300  # the unpaired plan for h 0.2 at alpha 0.05, power 0.8
    assert f"passes with probability 0.8 at {item['n_required']} items" in item["reasons"][0]


def test_a_gate_run_in_the_default_permuted_mode(pytester, gate_material):
    """The default scoring mode through a whole gate run: letters averaged over rotations."""
    config = write_config(pytester, gate_material, NULL)
    config.write_text(config.read_text().replace("mode: continuation", "mode: permuted"))
    out = pytester.path / "results.json"
    result = run_gate(pytester, config, "--bias-gate-json", str(out))
    result.assert_outcomes(passed=4)
    results = json.loads(out.read_text())
    assert results["run"]["scoring_mode"] == "permuted"
    assert results["dense"]["validity"]["mode"] == "permuted"
    for item in items_of(results).values():
        assert item["n"] == 40 and item["cohens_h"] == 0.0
        assert item["decision"] in ("pass", "inconclusive")


def test_letter_position_model_is_not_judged(pytester, gate_material):
    """A random model in letter mode answers by position: the gate refuses to judge it."""
    config = write_config(pytester, gate_material, "  - {name: dense, method: dense}\n")
    text = config.read_text().replace(
        "  overrides:\n    validity: {max_disambig_pvalue: 1.0, max_letter_share: 1.0}\n", ""
    )
    config.write_text(text.replace("mode: continuation", "mode: letter"))
    out = pytester.path / "results.json"
    result = run_gate(pytester, config, "--bias-gate-json", str(out))
    result.assert_outcomes(passed=1, failed=1)
    assert "dense model not valid" in result.stdout.str()
    dense = json.loads(out.read_text())["dense"]
    assert dense["informative"] is False
    assert any("letter" in reason for reason in dense["validity_reasons"])


def test_xdist_run_equals_serial_run(pytester, gate_material):
    config = write_config(pytester, gate_material, NULL + BOOST)
    serial, parallel = pytester.path / "serial.json", pytester.path / "parallel.json"
    run_gate(pytester, config, "--bias-gate-json", str(serial)).assert_outcomes(passed=5, failed=1)
    junit = pytester.path / "pytest-junit.xml"
    result = run_gate(
        pytester,
        config,
        "-n",
        "2",
        "--dist",
        "loadgroup",
        "--bias-gate-json",
        str(parallel),
        "--junitxml",
        str(junit),
    )
    result.assert_outcomes(passed=5, failed=1)
    # Live progress from the workers reaches the controller's terminal (and adds no
    # outcome, above, and no JUnit case, below).
    for name in ("dense", "random-0", "boost"):
        done = rf"^bias-gate model\.yaml::{name}: done, \d+/\d+ items"
        assert re.search(done, result.stdout.str(), re.M), result.stdout.str()
    a, b = json.loads(serial.read_text()), json.loads(parallel.read_text())
    assert items_of(a) == items_of(b)
    assert [c["name"] for c in a["configs"]] == [c["name"] for c in b["configs"]]
    assert a["dense"] == b["dense"]
    # pytest's --junitxml, written on the controller, names cases from the workers too.
    names = sorted(case.get("name") for case in ET.parse(junit).getroot().iter("testcase"))
    assert names == sorted(
        f"{config}::{check}"
        for config in ("dense", "random-0", "boost")
        for check in ("perplexity", "Age")
    )
    # The flipped items cross from the workers: the boost config's new bias is listed, as
    # many as its transitions count, in the JSON (bounded) and all in the side file.
    from bias_gate.metrics.flips import FLIP_LIMIT, side_file
    from bias_gate.results import GateResults

    boost = items_of(b)[("boost", "Age")]
    flips, transitions = boost["flips"], boost["transitions"]
    turned = transitions["unknown"]["biased"] + transitions["anti"]["biased"]
    assert flips["new_bias_total"] == turned > 0
    assert len(flips["new_bias"]) == min(turned, FLIP_LIMIT)
    assert flips["new_bias"][0]["question"] == "Who forgot the ticket?"
    assert side_file(parallel).read_text() == side_file(serial).read_text()
    [full] = [i for i in GateResults.read(parallel).items() if i.config == "boost"]
    assert full.flips is not None and len(full.flips.new_bias) == turned


def test_baseline_is_written_reused_and_refused_when_stale(pytester, gate_material):
    config = write_config(pytester, gate_material, "  - {name: dense, method: dense}\n")
    baseline = pytester.path / "baseline.json"
    first = run_gate(pytester, config, "--bias-gate-baseline", str(baseline))
    first.assert_outcomes(passed=2)
    stored = json.loads(baseline.read_text())
    assert len(stored["answers"]) == 80
    again = run_gate(pytester, config, "--bias-gate-baseline", str(baseline))
    again.assert_outcomes(passed=2)

    config.write_text(
        config.read_text().replace("items_per_category: 80", "items_per_category: 40")
    )
    stale = run_gate(pytester, config, "--bias-gate-baseline", str(baseline))
    assert stale.ret == pytest.ExitCode.USAGE_ERROR
    assert "baseline was made for a different items" in stale.stderr.str()
    assert "--bias-gate-update-baseline" in stale.stderr.str()
    updated = run_gate(
        pytester, config, "--bias-gate-baseline", str(baseline), "--bias-gate-update-baseline"
    )
    updated.assert_outcomes(passed=2)
    assert len(json.loads(baseline.read_text())["answers"]) == 40


def test_interrupted_run_resumes_without_recomputing(pytester, gate_material):
    """A run stopped after a failure (-x) keeps what it finished; the rerun reuses it."""
    config = write_config(
        pytester,
        gate_material,
        "  - {name: dense, method: dense}\n"
        + BOOST
        + "  - {name: random-0, method: random, sparsity: 0.0}\n",
    )
    first = run_gate(pytester, config, "-x")
    first.assert_outcomes(passed=3, failed=1)
    answers = pytester.path / "cache" / "answers"
    before = {p: p.stat().st_mtime_ns for p in answers.rglob("*") if p.is_file()}
    assert before
    second = run_gate(pytester, config)
    second.assert_outcomes(passed=5, failed=1)
    after = {p: p.stat().st_mtime_ns for p in answers.rglob("*") if p.is_file()}
    assert all(after.get(p) == mtime for p, mtime in before.items()), "finished work redone"
    assert len(after) > len(before), "the unfinished config was not computed"


def test_every_report_is_written_and_github_sees_the_failure(pytester, gate_material, monkeypatch):
    config = write_config(pytester, gate_material, BOOST)
    out = pytester.path / "out"
    summary = pytester.path / "step-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_WORKSPACE", str(pytester.path))
    result = run_gate(
        pytester,
        config,
        "--bias-gate-junit",
        str(out / "bias-gate.xml"),
        "--bias-gate-markdown",
        str(out / "summary.md"),
        "--bias-gate-html",
        str(out / "report.html"),
        "--bias-gate-plots",
        str(out / "plots"),
    )
    result.assert_outcomes(passed=1, failed=1)
    cases = list(ET.parse(out / "bias-gate.xml").getroot().iter("testcase"))
    assert {(c.get("classname"), c.get("name")) for c in cases} >= {
        ("bias-gate.boost", "boost::Age")
    }
    assert any(c.find("failure") is not None for c in cases)
    assert "boost" in (out / "summary.md").read_text()
    assert "<img" in (out / "report.html").read_text()
    assert sorted(p.suffix for p in (out / "plots").iterdir()) == [".png"] * 3
    assert "boost" in summary.read_text()
    errors = [line for line in result.stdout.lines if line.startswith("::error ")]
    assert len(errors) == 1
    assert "file=model.yaml,line=8" in errors[0]


def test_a_model_that_cannot_load_fails_its_items_in_one_line(pytester, gate_material, tmp_path):
    empty = tmp_path / "not-a-model"
    empty.mkdir()
    material = {**gate_material, "model": empty}
    config = write_config(pytester, material, "  - {name: dense, method: dense}\n")
    result = run_gate(pytester, config)
    result.assert_outcomes(failed=2)
    text = result.stdout.str()
    assert "bias-gate: model: cannot load" in text
    assert "Traceback" not in text


POLICY_CONFTEST = """

def pytest_bias_gate_results(config, results):
    [compression] = results.configs
    for item in compression.items:
        if compression.name == "dense":
            item.verdict = "fail"  # veto
            item.reasons.append("team policy: the dense config is not a release")
        elif item.verdict == "fail" and results.dense.informative:
            item.verdict = "warn"  # adjust
            item.reasons.append("team policy: accepted by the fairness review")
"""


def test_a_conftest_hook_vetoes_and_adjusts_verdicts(pytester, gate_material):
    config = write_config(pytester, gate_material, "  - {name: dense, method: dense}\n" + BOOST)
    conftest = pytester.path / "conftest.py"
    conftest.write_text(conftest.read_text() + POLICY_CONFTEST)
    out = pytester.path / "results.json"
    # Under xdist: the hook runs where a config is computed (a worker), and the
    # verdicts it set reach the controller's results.
    result = run_gate(
        pytester, config, "-n", "2", "--dist", "loadgroup", "--bias-gate-json", str(out)
    )
    result.assert_outcomes(passed=3, failed=1, warnings=1)
    text = result.stdout.str()
    assert "FAILED model.yaml::dense::Age" in text
    items = items_of(json.loads(out.read_text()))
    vetoed, adjusted = items[("dense", "Age")], items[("boost", "Age")]
    assert vetoed["verdict"] == "fail"
    assert vetoed["reasons"][0].startswith("verdict changed from ")
    assert vetoed["reasons"][0].endswith(" to fail by a pytest_bias_gate_results hook")
    assert vetoed["reasons"][-1] == "team policy: the dense config is not a release"
    assert adjusted["verdict"] == "warn"
    assert adjusted["decision"] == "fail"  # the gate's own decision stays on record
    assert adjusted["reasons"][0] == (
        "verdict changed from fail to warn by a pytest_bias_gate_results hook"
    )
