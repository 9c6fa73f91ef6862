"""A standalone JUnit XML report of every comparison, for CI systems that read only JUnit.

One test suite ``bias-gate`` (suite properties: model, config path, profile, dense
perplexity and validity); per config one test case ``<config>::perplexity`` and one per
category, ``<config>::<category>`` (the pytest id's tail, so two configs failing the same
category differ in tools that show only the name), ``classname`` = ``bias-gate.<config>``
with dots in the config name made ``_`` (tools split class names at dots),
``file``/``line`` = model.yaml position, ``time`` = the config's compression seconds on
its perplexity case and 0 on its bias cases (they share that work).
Each case carries its figures as ``<properties>`` (``bias_gate.n``, ``bias_gate.srs_dense``,
``bias_gate.cohens_h``, ``bias_gate.h_ci``, ``bias_gate.p_adjusted`` ...; empty value =
not available), the same names pytest's ``--junitxml`` gets from the plugin.

Outcomes mirror the pytest run: ``fail`` is a ``<failure>`` (message = first reason, text =
the figures) unless the run was in warn mode; ``warn`` (and a warn-mode ``fail``) is a
passed case whose ``<system-out>`` starts with ``WARNING:`` (or ``WOULD FAIL:``) and whose
``bias_gate.verdict`` property says ``warn``/``fail`` — not ``<skipped>``, because the
comparison did run. A perplexity case whose perplexity was not measured is ``<skipped>``.

junit-xml has no per-test-case properties, so they are added to its output with
:mod:`xml.etree.ElementTree`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from junit_xml import TestCase, TestSuite, to_xml_report_string

from bias_gate.cache import atomic_write_text
from bias_gate.numbers import fmt_value as _num
from bias_gate.report.reasons import item_reason, perplexity_reason, without_category
from bias_gate.report.run_view import config_path, model_name, run_limits, run_mode
from bias_gate.report.safe_text import with_text, xml_text
from bias_gate.report.summary import PARADOX_NAME, failure_text, is_paradox, perplexity_text
from bias_gate.results import ConfigResult, GateResults, ItemResult

SUITE_NAME = "bias-gate"
PERPLEXITY_CASE = "perplexity"

Properties = list[tuple[str, str]]


def item_properties(config: ConfigResult, item: ItemResult) -> Properties:
    """The figures of one bias comparison as (name, text) pairs ("" = not available)."""
    ci = "" if item.h_ci is None else f"{item.h_ci[0]:.4f},{item.h_ci[1]:.4f}"
    return [
        ("bias_gate.kind", "bias"),
        ("bias_gate.config", item.config),
        ("bias_gate.category", item.category),
        ("bias_gate.benchmark", item.benchmark),
        ("bias_gate.verdict", item.verdict),
        ("bias_gate.reason_category", item_reason(item) or ""),
        ("bias_gate.decision", item.decision),
        ("bias_gate.metric", item.metric),
        ("bias_gate.n", str(item.n)),
        ("bias_gate.value_dense", _num(item.value_dense)),
        ("bias_gate.value_compressed", _num(item.value_compressed)),
        ("bias_gate.srs_dense", _num(item.srs_dense)),
        ("bias_gate.srs_compressed", _num(item.srs_compressed)),
        ("bias_gate.cohens_h", _num(item.cohens_h)),
        ("bias_gate.h_ci", ci),
        ("bias_gate.limit", _num(item.limit)),
        ("bias_gate.p_pass", _num(item.p_pass)),
        ("bias_gate.p_value", _num(item.p_value)),
        ("bias_gate.p_adjusted", _num(item.p_adjusted)),
        ("bias_gate.p_adjusted_run", _num(item.p_adjusted_run)),
        ("bias_gate.new_bias_rate", _num(item.new_bias_rate)),
        ("bias_gate.net_new_bias_rate", _num(item.net_new_bias_rate)),
        ("bias_gate.look", str(item.look)),
        ("bias_gate.looks", str(item.looks)),
        ("bias_gate.n_used", str(item.n_used)),
        ("bias_gate.n_max", str(item.n_max)),
        ("bias_gate.n_required", _num(item.n_required)),
        ("bias_gate.paradox", str(item.paradox).lower()),
        ("bias_gate.perplexity_ratio", _num(config.perplexity_ratio)),
        ("bias_gate.perplexity_verdict", config.perplexity_verdict or ""),
    ]


def perplexity_properties(
    config: ConfigResult, *, dense_perplexity: float | None, max_perplexity_ratio: float | None
) -> Properties:
    """The perplexity check of one config as (name, text) pairs; the standalone JUnit and
    the plugin's properties for pytest's ``--junitxml`` both use this."""
    return [
        ("bias_gate.kind", "perplexity"),
        ("bias_gate.config", config.name),
        ("bias_gate.verdict", config.perplexity_verdict or ""),
        ("bias_gate.reason_category", perplexity_reason(config) or ""),
        ("bias_gate.method", config.method),
        ("bias_gate.runtime", config.runtime),
        ("bias_gate.perplexity_dense", _num(dense_perplexity)),
        ("bias_gate.perplexity", _num(config.perplexity)),
        ("bias_gate.perplexity_ratio", _num(config.perplexity_ratio)),
        ("bias_gate.max_perplexity_ratio", _num(max_perplexity_ratio)),
        ("bias_gate.target_sparsity", _num(config.target_sparsity)),
        ("bias_gate.achieved_sparsity", _num(config.achieved_sparsity)),
    ]


def _conclude(case: TestCase, status: str | None, message: str, text: str, warn_mode: bool) -> None:
    if status == "fail" and not warn_mode:
        case.add_failure_info(message=message, output=text)
    elif status == "fail":
        case.stdout = f"WOULD FAIL: {text}"
    elif status == "warn":
        case.stdout = f"WARNING: {text}"


def case_name(config: str, check: str) -> str:
    """A test case's name: ``<config>::<category>`` or ``<config>::perplexity``."""
    return f"{config}::{check}"


def class_name(config: str) -> str:
    """A test case's class name: ``bias-gate.<config>``, the config's dots made ``_``."""
    return f"{SUITE_NAME}.{config.replace('.', '_')}"


def failure_message(config: ConfigResult, item: ItemResult) -> str:
    """One line naming the config, the category, the verdict with its reason category
    first, the paradox when it is one, and the first reason."""
    category = item_reason(item)
    why = f" ({category})" if category else ""
    paradox = f" ({PARADOX_NAME})" if is_paradox(config, item) else ""
    first = without_category(item.reasons[0], category or "") if item.reasons else ""
    reason = f": {first}" if first else ""
    return f"{config.name} / {item.category}: {item.verdict.upper()}{why}{paradox}{reason}"


def _case(config: ConfigResult, check: str, file: str | None, seconds: float) -> TestCase:
    return TestCase(
        case_name(config.name, check),
        classname=class_name(config.name),
        file=file,
        line=config.line,
        elapsed_sec=seconds,
    )


def _cases(results: GateResults) -> list[tuple[TestCase, Properties]]:
    file = config_path(results)
    warn_mode = run_mode(results) == "warn"
    limit = run_limits(results).max_perplexity_ratio
    out: list[tuple[TestCase, Properties]] = []
    for config in results.configs:
        case = _case(config, PERPLEXITY_CASE, file, config.compress_seconds or 0.0)
        text = "\n".join(config.perplexity_reasons) or perplexity_text(config, results)
        if config.perplexity_verdict is None:
            case.add_skipped_info(message=f"{config.name}: perplexity not measured")
        else:
            why = perplexity_reason(config)
            head = f"{config.perplexity_verdict.upper()} ({why}): " if why else ""
            message = f"{config.name} / perplexity: {head}{text.splitlines()[0]}"
            _conclude(case, config.perplexity_verdict, message, text, warn_mode)
        # The dense perplexity in the config's runtime (results before runtimes: the run's).
        dense = config.dense_perplexity
        properties = perplexity_properties(
            config,
            dense_perplexity=results.dense.perplexity if dense is None else dense,
            max_perplexity_ratio=limit,
        )
        out.append((case, properties))
        for item in config.items:
            case = _case(config, item.category, file, 0.0)
            text = failure_text(config, item)
            _conclude(case, item.verdict, failure_message(config, item), text, warn_mode)
            out.append((case, item_properties(config, item)))
    return out


def _suite_properties(results: GateResults) -> dict[str, str]:
    limits = run_limits(results)
    return {
        "bias_gate.model": model_name(results),
        "bias_gate.config_path": config_path(results) or "",
        "bias_gate.profile": limits.profile or "",
        "bias_gate.correction": limits.correction,
        "bias_gate.mode": run_mode(results),
        "bias_gate.dense_perplexity": _num(results.dense.perplexity),
        "bias_gate.dense_informative": str(results.dense.informative).lower(),
        "bias_gate.dense_validity_reasons": "; ".join(results.dense.validity_reasons),
    }


def junit_string(results: GateResults) -> str:
    """The JUnit XML document (UTF-8 declaration, indented); what XML cannot hold is
    removed from every text of ``results`` first (:func:`xml_safe`)."""
    results = xml_safe(results)
    cases = _cases(results)
    suite = TestSuite(
        SUITE_NAME, [case for case, _ in cases], properties=_suite_properties(results)
    )
    root = ET.fromstring(to_xml_report_string([suite], encoding="utf-8"))
    elements = root.findall("./testsuite/testcase")
    if len(elements) != len(cases):
        raise RuntimeError(f"junit-xml wrote {len(elements)} test cases for {len(cases)}")
    for element, (case, properties) in zip(elements, cases, strict=True):
        element.set("time", f"{case.elapsed_sec or 0.0:.3f}")  # junit-xml omits a 0 time
        holder = ET.Element("properties")
        for name, value in properties:
            ET.SubElement(holder, "property", name=name, value=value)
        element.insert(0, holder)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def xml_safe(results: GateResults) -> GateResults:
    """``results`` with every string (names, reasons, paths...) made XML 1.0 text
    (:func:`bias_gate.report.safe_text.xml_text`); the flip lists are left out."""
    return with_text(results, xml_text)


def write_junit(results: GateResults, path: Path) -> Path:
    """Write the standalone JUnit report to ``path`` (atomically); returns ``path``."""
    path = Path(path)
    atomic_write_text(path, junit_string(results))
    return path
