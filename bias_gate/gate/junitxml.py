"""pytest's own ``--junitxml``: the gate's test cases named as in the standalone JUnit
(``<config>::<check>``, class ``bias-gate.<config>``: :mod:`bias_gate.report.junit`).

pytest names a case after the last part of its node id (``Age``), which tools that show
only the name cannot tell apart across configs. A gate item's reports carry the names
(``report.bias_gate_case``, which crosses xdist like any report attribute), and the
process that writes the XML sets them as attributes of the case, as pytest's
``record_xml_attribute`` fixture does for a test function (gate items have no
fixtures, and that fixture cannot reach the controller under xdist).
"""

from __future__ import annotations

import pytest
from _pytest.junitxml import xml_key

from bias_gate.report.junit import case_name, class_name

REPORT_ATTRIBUTE = "bias_gate_case"


def case_attributes(config_name: str, check: str) -> dict[str, str]:
    """The ``name`` and ``classname`` of a gate item's test case."""
    return {"name": case_name(config_name, check), "classname": class_name(config_name)}


def name_case(config: pytest.Config, report: pytest.TestReport) -> None:
    """Give the case of ``report``'s item the gate's names, once (at its setup report)
    and only where pytest writes a ``--junitxml`` file."""
    attributes = getattr(report, REPORT_ATTRIBUTE, None)
    xml = config.stash.get(xml_key, None)
    if attributes is None or xml is None or report.when != "setup":
        return
    reporter = xml.node_reporter(report)
    for name, value in attributes.items():
        reporter.add_attribute(name, value)
