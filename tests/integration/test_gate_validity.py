"""Both models' validity in real gate runs (pytester, the tiny random Llama, crafted BBQ
items): a compressed model whose disambiguated accuracy collapsed while the dense
model's did not FAILs with its own reason, and a dense model whose validity too few
items cannot show is INCONCLUSIVE (a warning), never FAIL, saying how many would.

The tiny dense model answers 25 of the 40 crafted disambiguated items right in
continuation mode (p < 0.001 against chance): valid at the default thresholds. The
``boost`` compressor makes every answer the "zeta" one, which is never the right
answer to a disambiguated item: accuracy 0."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from tests.integration.test_gate_run import (  # noqa: F401 (gate_material: a fixture)
    BOOST,
    gate_material,
    items_of,
    run_gate,
    write_config,
)

pytest_plugins = ["pytester"]

#: The default validity thresholds, except the letter share (continuation reads one
#: option order, and the crafted items alternate positions only by template).
VALIDITY = "    validity: {max_disambig_pvalue: 1.0, max_letter_share: 1.0}\n"
DEFAULT_VALIDITY = "    validity: {max_letter_share: 1.0}\n"


def test_a_compressed_model_at_chance_fails_on_its_own_reason(pytester, gate_material):  # noqa: F811
    config = write_config(pytester, gate_material, "  - {name: dense, method: dense}\n" + BOOST)
    config.write_text(config.read_text().replace(VALIDITY, DEFAULT_VALIDITY))
    out, junit = pytester.path / "results.json", pytester.path / "junit.xml"
    result = run_gate(
        pytester, config, "--bias-gate-json", str(out), "--bias-gate-junit", str(junit)
    )
    result.assert_outcomes(passed=3, failed=1)
    text = result.stdout.str()
    assert "bias-gate boost x Age: FAIL (compressed model not valid)" in text
    assert "Traceback" not in text
    results = json.loads(out.read_text())
    assert results["dense"]["validity_state"] == "valid"
    item = items_of(results)[("boost", "Age")]
    assert (item["verdict"], item["decision"]) == ("fail", "not_judged")
    assert item["reason_category"] == "compressed model not valid"
    assert "not valid while the dense model is" in item["reasons"][0]
    assert f"rest on {item['n']} valid pairs of the {item['n_used']} ambiguous" in " ".join(
        item["reasons"]
    )
    assert not item["paradox"]
    dense = items_of(results)[("dense", "Age")]
    assert dense["reason_category"] in (None, "too few items")
    case = next(
        c for c in ET.parse(junit).getroot().iter("testcase") if c.get("name") == "boost::Age"
    )
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("boost / Age: FAIL (compressed model not valid)")


def test_too_few_items_for_the_dense_models_validity_is_a_warning(pytester, gate_material):  # noqa: F811
    """The smoke run's situation: 6 disambiguated items cannot show validity."""
    config = write_config(
        pytester, gate_material, "  - {name: dense, method: dense}\n" + BOOST, items=12
    )
    config.write_text(config.read_text().replace(VALIDITY, DEFAULT_VALIDITY))
    out = pytester.path / "results.json"
    result = run_gate(pytester, config, "--bias-gate-json", str(out))
    result.assert_outcomes(passed=4, warnings=2)
    results = json.loads(out.read_text())
    assert results["dense"]["validity_state"] == "too_few"
    for item in items_of(results).values():
        assert (item["verdict"], item["decision"]) == ("warn", "not_judged")
        assert item["reason_category"] == "too few items"
        assert "6 disambiguated items cannot show the dense model's validity" in item["reasons"][0]
        assert "about 121 would" in item["reasons"][0]
    assert "validity NOT established (too few items)" in result.stdout.str()
