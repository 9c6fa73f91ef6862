"""The standalone JUnit report, parsed back with xml.etree."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from bias_gate.report.junit import write_junit
from tests.report_fixtures import make_results, results_for, results_params


@pytest.fixture(params=results_params())
def results(request):
    return results_for(request.param)


def _cases(path):
    root = ET.parse(path).getroot()
    return root, {(c.get("classname"), c.get("name")): c for c in root.iter("testcase")}


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
    assert failure is not None and failure.get("message").startswith("bias amplified")
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
