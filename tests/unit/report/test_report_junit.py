"""The standalone JUnit report, parsed back with xml.etree."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from bias_gate.report.junit import write_junit
from tests.conftest import ROOT
from tests.support.reports import make_results, results_for, results_params


@pytest.fixture(params=results_params())
def results(request):
    return results_for(request.param)


def _cases(path):
    root = ET.parse(path).getroot()
    return root, {_key(c.get("name")): c for c in root.iter("testcase")}


def _key(name: str) -> tuple[str, str]:
    config, check = name.rsplit("::", 1)
    return config, check


def _props(case) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in case.findall("properties/property")}


def test_one_case_per_config_and_category_plus_perplexity(results, tmp_path):
    path = write_junit(results, tmp_path / "junit.xml")
    root, cases = _cases(path)
    expected = {(c.name, i.category) for c in results.configs for i in c.items}
    expected |= {(c.name, "perplexity") for c in results.configs}
    assert set(cases) == expected
    suite = root.find("testsuite")
    assert suite is not None and int(suite.get("tests")) == len(expected)
    failed = sum(i.verdict == "fail" for i in results.items()) + sum(
        c.perplexity_verdict == "fail" for c in results.configs
    )
    if results.run.get("mode") != "warn":
        assert int(suite.get("failures")) == failed


def test_failures_warnings_and_properties(tmp_path):
    results = make_results()
    _, cases = _cases(write_junit(results, tmp_path / "junit.xml"))
    paradox = cases[("wanda-50", "Age")]
    failure = paradox.find("failure")
    assert failure is not None and failure.get("message").startswith("wanda-50 / Age: FAIL")
    assert "smart-pruning paradox" in failure.text
    props = _props(paradox)
    assert props["bias_gate.n"] == "120"
    assert float(props["bias_gate.cohens_h"]) == pytest.approx(results.items()[0].cohens_h, 1e-5)
    assert props["bias_gate.h_ci"].count(",") == 1
    for name in (
        "srs_dense",
        "srs_compressed",
        "p_adjusted",
        "new_bias_rate",
        "n_required",
        "perplexity_ratio",
    ):
        assert props[f"bias_gate.{name}"] != ""
    assert paradox.get("file") == "examples/smollm2.yaml" and paradox.get("line") == "12"

    warn = cases[("magnitude-50", "Gender_identity")]
    assert warn.find("failure") is None and warn.find("skipped") is None
    assert warn.find("system-out").text.startswith("WARNING:")
    assert _props(warn)["bias_gate.verdict"] == "warn"

    empty = _props(cases[("int8", "Gender_identity")])
    assert empty["bias_gate.n"] == "0" and empty["bias_gate.cohens_h"] == ""
    assert cases[("magnitude-50", "perplexity")].find("failure") is not None
    assert cases[("wanda-50", "perplexity")].find("failure") is None


def test_warn_mode_reports_would_fail(tmp_path):
    results = make_results()
    results.run["mode"] = "warn"
    root, cases = _cases(write_junit(results, tmp_path / "junit.xml"))
    assert root.find("testsuite").get("failures") == "0"
    assert cases[("wanda-50", "Age")].find("system-out").text.startswith("WOULD FAIL:")


def test_perplexity_not_measured_is_skipped(tmp_path):
    results = make_results()
    results.configs[0].perplexity_verdict = None
    results.configs[0].perplexity_ratio = None
    _, cases = _cases(write_junit(results, tmp_path / "junit.xml"))
    assert cases[("wanda-50", "perplexity")].find("skipped") is not None


def test_case_names_class_names_time_and_failure_messages(tmp_path):
    """Two configs failing the same category differ by name (tools that show only the
    name); a config name with dots stays one class; every case has a time; the failure
    message names the config and the paradox."""
    results = make_results()
    results.configs[1].name = "int4.g128"
    for item in results.configs[1].items:
        item.config = "int4.g128"
    root = ET.parse(write_junit(results, tmp_path / "junit.xml")).getroot()
    cases = list(root.iter("testcase"))
    names = [c.get("name") for c in cases]
    assert len(set(names)) == len(names)
    assert "wanda-50::Age" in names and "int4.g128::perplexity" in names
    classes = {c.get("classname") for c in cases}
    assert "bias-gate.int4_g128" in classes
    assert all(name.count(".") == 1 for name in classes), classes  # one dot: suite.config
    assert all(float(c.get("time")) >= 0 for c in cases)
    assert float(root.find("testsuite").get("time")) > 0
    paradox = next(c for c in cases if c.get("name") == "wanda-50::Age").find("failure")
    message = paradox.get("message")
    assert message.startswith(
        "wanda-50 / Age: FAIL (bias amplified) (smart-pruning paradox): Cohen's h"
    )
    failed = [c.find("failure") for c in cases if c.find("failure") is not None]
    assert all(
        f.get("message").split(" / ")[0] in {c.name for c in results.configs} for f in failed
    )


def test_both_junit_writers_share_property_names_and_the_docs_promise_only_those(tmp_path):
    """The plugin (pytest's --junitxml) and the standalone writer get their properties
    from the same functions; docs/reports.md lists only names that are written."""

    from bias_gate.gate import nodes
    from bias_gate.report import junit

    assert nodes.item_properties is junit.item_properties
    assert nodes.perplexity_properties is junit.perplexity_properties
    results = make_results()
    root = ET.parse(write_junit(results, tmp_path / "junit.xml")).getroot()
    written = {p.get("name") for p in root.iter("property")}
    docs = (ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
    section = docs.split("## Standalone JUnit XML", 1)[1].split("\n## ", 1)[0]
    listing = section.split("Each test case has `<properties>`:", 1)[1]
    listing = listing.split("pytest's `--junitxml` gets exactly", 1)[0]
    promised = {
        name if name.startswith("bias_gate.") else f"bias_gate.{name}"
        for name in re.findall(r"`([a-z_][a-z_.]*)`", listing)
    }
    assert promised, "the docs list no JUnit properties"
    assert promised <= written, f"promised but not written: {sorted(promised - written)}"
