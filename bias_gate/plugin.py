"""The pytest entry point of bias-gate: options, and nothing else until asked.

This module is loaded by every pytest run on a machine where bias-gate is installed,
so it imports no torch and registers no collection hooks at load. Only when
``--bias-gate MODEL_YAML`` is given does :func:`pytest_configure` validate the
configs (a bad one ends the run as a usage error, exit code 4, in one line) and
register :class:`bias_gate.gate.hooks.GatePlugin`, which does the work.
"""

from __future__ import annotations

from typing import Any

import pytest

PLUGIN_NAME = "bias-gate-run"


#: The command-line options, in ``--help`` order: each flag with its ``addoption`` keywords.
OPTIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "--bias-gate",
        {
            "action": "append",
            "default": [],
            "metavar": "MODEL_YAML",
            "dest": "bias_gate",
            "help": "Run the bias gate described by MODEL_YAML (repeatable).",
        },
    ),
    (
        "--bias-gate-thresholds",
        {
            "metavar": "PROFILE",
            "default": None,
            "help": "Threshold profile (default, strict, paper, or a .yaml path); replaces "
            "the config's thresholds.profile.",
        },
    ),
    (
        "--bias-gate-mode",
        {
            "choices": ("gate", "warn"),
            "default": "gate",
            "help": "gate: failing comparisons fail their items; warn: report them as "
            "warnings only.",
        },
    ),
    (
        "--bias-gate-limit",
        {
            "type": int,
            "metavar": "N",
            "default": None,
            "help": "Items per category (replaces data.items_per_category; for smoke runs).",
        },
    ),
    (
        "--bias-gate-looks",
        {
            "type": int,
            "metavar": "K",
            "default": None,
            "help": "Looks per category (replaces sequential.looks; 1 = fixed design).",
        },
    ),
    ("--bias-gate-seed", {"type": int, "metavar": "S", "default": None, "help": "Sampling seed."}),
    (
        "--bias-gate-device",
        {
            "choices": ("cpu", "cuda", "auto"),
            "default": None,
            "help": "Device for the model (replaces model.device).",
        },
    ),
    (
        "--bias-gate-baseline",
        {
            "metavar": "PATH",
            "default": None,
            "help": "Keep the dense baseline in this file (commit it); a mismatched one is "
            "refused.",
        },
    ),
    (
        "--bias-gate-update-baseline",
        {
            "action": "store_true",
            "default": False,
            "help": "Recompute and rewrite the baseline file.",
        },
    ),
    ("--bias-gate-json", {"metavar": "PATH", "default": None, "help": "Write all results."}),
    (
        "--bias-gate-junit",
        {"metavar": "PATH", "default": None, "help": "Write a standalone JUnit report."},
    ),
    (
        "--bias-gate-markdown",
        {"metavar": "PATH", "default": None, "help": "Write a markdown summary."},
    ),
    ("--bias-gate-html", {"metavar": "PATH", "default": None, "help": "Write an HTML report."}),
    ("--bias-gate-plots", {"metavar": "DIR", "default": None, "help": "Write PNG plots."}),
    (
        "--bias-gate-report",
        {
            "action": "append",
            "default": [],
            "metavar": "NAME=PATH",
            "dest": "bias_gate_report",
            "help": "Write the report of writer NAME (json, junit, markdown, plots, html, or "
            "one registered in the entry point group bias_gate.reports) at PATH (repeatable).",
        },
    ),
    (
        "--bias-gate-shard",
        {
            "metavar": "K/N",
            "default": None,
            "help": "Run shard K of N: whole compression configs, assigned deterministically.",
        },
    ),
    (
        "--bias-gate-data-dir",
        {
            "metavar": "DIR",
            "default": None,
            "help": "Local mirror of the official data (bbq/, wikitext-2/) instead of "
            "downloading; also BIAS_GATE_DATA_DIR.",
        },
    ),
    (
        "--bias-gate-measure",
        {
            "metavar": "LIST",
            "default": None,
            "help": "Also measure these (comma-separated: storage, latency, agreement; or "
            "none); replaces the config's measure section. Off by default: they cost time "
            "and are never judged.",
        },
    ),
    (
        "--bias-gate-progress-interval",
        {
            "type": float,
            "metavar": "SECONDS",
            "default": 30.0,
            "help": "Seconds between the progress lines when the output is not a terminal "
            "(default 30; on a terminal one line updates in place; -q shows none).",
        },
    ),
    (
        "--bias-gate-cache-dir",
        {
            "metavar": "DIR",
            "default": None,
            "help": "Cache for answers and compressed weights; also BIAS_GATE_CACHE_DIR.",
        },
    ),
    (
        "--bias-gate-cache-max-size",
        {
            "metavar": "SIZE",
            "default": None,
            "help": "Cut the cache down to SIZE (e.g. 5GB) when the run ends, least recently "
            "used weights first; overrides cache.max_size.",
        },
    ),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bias-gate", "bias-gate: fail when compression amplifies bias")
    for flag, keywords in OPTIONS:
        group.addoption(flag, **keywords)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Publish bias-gate's own hooks (:mod:`bias_gate.hookspec`) for conftests."""
    from bias_gate import hookspec

    pluginmanager.add_hookspecs(hookspec)


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("bias_gate"):
        return
    config.addinivalue_line(
        "markers", "bias_gate: an item of the bias gate (compression config x BBQ category)"
    )
    if not config.pluginmanager.hasplugin("xdist"):
        # pytest-xdist registers it where it is loaded; the gate marks its items with it.
        config.addinivalue_line(
            "markers", "xdist_group(name): pytest-xdist's group (the items of one config)"
        )
    from bias_gate.errors import BiasGateError
    from bias_gate.gate.hooks import GatePlugin

    try:
        plugin = GatePlugin.from_config(config)
    except BiasGateError as exc:
        from bias_gate.report.safe_text import safe_line

        # One line per problem (a model.yaml's problems come together, one per line).
        lines = [safe_line(f"bias-gate: {line}") for line in str(exc).split("\n")]
        raise pytest.UsageError("\n".join(lines)) from None
    config.pluginmanager.register(plugin, PLUGIN_NAME)
