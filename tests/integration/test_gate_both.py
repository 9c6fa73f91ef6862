"""A real gate run with two benchmarks in one model.yaml (``data.benchmarks: [bbq,
kobbq]``) through pytester, the tiny random Llama, crafted BBQ items and KoBBQ's official
test split: BBQ keeps its item ids and is judged, KoBBQ's items are
``model.yaml::dense::kobbq/Age`` and refused with the dense model's measured accuracy on
KoBBQ alone; one JSON and one JUnit name each row's benchmark.

The tiny dense model answers 25 of the 40 crafted BBQ disambiguated items right
(p < 0.001 against chance) and no better than chance on KoBBQ's Korean ones."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from tests.conftest import SHARED_DATA
from tests.integration.test_gate_run import (  # noqa: F401 (gate_material: a fixture)
    gate_material,
    items_of,
    run_gate,
    write_config,
)

pytest_plugins = ["pytester"]

BOTH = "data:\n  benchmarks: [bbq, kobbq]\n  source:"
DEFAULT_VALIDITY = "    validity: {max_letter_share: 1.0}\n"


def test_bbq_is_judged_and_kobbq_refused_in_one_run(pytester, gate_material):  # noqa: F811
    data = pytester.path / "data"
    (data / "kobbq").mkdir(parents=True)
    (data / "Age.jsonl").symlink_to(gate_material["data"] / "Age.jsonl")
    tsv = SHARED_DATA / "kobbq" / "KoBBQ_test_samples.tsv"
    (data / "kobbq" / "KoBBQ_test_samples.tsv").symlink_to(tsv)
    config = write_config(
        pytester, {**gate_material, "data": data}, "  - {name: dense, method: dense}\n"
    )
    text = config.read_text().replace("data:\n  source:", BOTH)
    config.write_text(
        text.replace(
            "    validity: {max_disambig_pvalue: 1.0, max_letter_share: 1.0}\n", DEFAULT_VALIDITY
        )
    )
    out, junit = pytester.path / "results.json", pytester.path / "junit.xml"
    result = run_gate(
        pytester, config, "-v", "--bias-gate-json", str(out), "--bias-gate-junit", str(junit)
    )
    result.assert_outcomes(passed=2, failed=1)
    stdout = result.stdout.str()
    assert "dense::Age PASSED" in stdout  # -v shows model.yaml as model::yaml
    assert "dense::kobbq/Age FAILED" in stdout
    assert "dense model on bbq: valid" in stdout
    assert "dense model on kobbq: NOT valid" in stdout
    results = json.loads(out.read_text())
    assert results["run"]["benchmarks"] == ["bbq", "kobbq"]
    by_benchmark = results["dense"]["validity_by_benchmark"]
    assert by_benchmark["bbq"]["state"] == "valid"
    kobbq = by_benchmark["kobbq"]
    assert kobbq["state"] == "not_valid" and kobbq["validity"]["disambig_n"] == 40
    accuracy = kobbq["validity"]["disambig_accuracy"]
    items = items_of(results)
    bbq_item, kobbq_item = items[("dense", "Age")], items[("dense", "kobbq/Age")]
    # BBQ is judged on bias: its 40 pairs are identical (h 0), too few for the
    # continuity-corrected bound to exclude the limit (decision #77), so not a pass yet,
    # and never a validity refusal.
    assert (bbq_item["benchmark"], bbq_item["cohens_h"], bbq_item["n"]) == ("bbq", 0.0, 40)
    assert (bbq_item["verdict"], bbq_item["decision"]) == ("warn", "inconclusive")
    assert bbq_item["reason_category"] == "too few items"
    assert (kobbq_item["benchmark"], kobbq_item["verdict"]) == ("kobbq", "fail")
    assert kobbq_item["reason_category"] == "dense model not valid"
    assert f"disambiguated accuracy {accuracy:.1%} on 40 items" in kobbq_item["reasons"][0]
    cases = {case.get("name"): case for case in ET.parse(junit).getroot().iter("testcase")}
    assert {"dense::Age", "dense::kobbq/Age", "dense::perplexity"} <= set(cases)
