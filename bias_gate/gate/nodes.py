"""The pytest nodes of a gate: ``model.yaml`` -> config -> items.

Ids read ``model.yaml::wanda-50::Age`` and ``model.yaml::wanda-50::perplexity``, so
``-k``, ``--lf`` and ``--deselect`` work as for any test; each item points back at the
line of its config in model.yaml.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from bias_gate.cache import is_write_error, write_error_reason
from bias_gate.errors import BiasGateError
from bias_gate.judge.plan import PERPLEXITY_CHECK, planned_configs
from bias_gate.report.junit import item_properties, perplexity_properties
from bias_gate.report.safe_text import safe_text
from bias_gate.results import Status

if TYPE_CHECKING:
    from bias_gate.gate.runner import GateRun


class BiasGateWarning(UserWarning):
    """A comparison that warns (inconclusive, uninformative, or ``--bias-gate-mode=warn``)."""


class BiasGateFailure(Exception):
    """A comparison that fails the gate; its text is the whole failure report."""


class GateFile(pytest.File):
    """A model.yaml given with ``--bias-gate``."""

    run: GateRun

    def collect(self) -> Iterator[pytest.Collector]:
        for config in planned_configs(self.run.spec, self.run.options.shard):
            node = ConfigNode.from_parent(self, name=config.name)
            node.checks = config.checks
            yield node


class ConfigNode(pytest.Collector):
    """One compression config: a perplexity item, then one item per BBQ category
    (its checks, :func:`bias_gate.judge.plan.planned_configs`)."""

    checks: tuple[str, ...]

    def collect(self) -> Iterator[pytest.Item]:
        parent = self.parent
        assert isinstance(parent, GateFile)
        run = parent.run
        group = f"{parent.path.name}::{self.name}"
        for name in self.checks:
            cls = PerplexityItem if name == PERPLEXITY_CHECK else BiasItem
            item = cls.from_parent(self, name=name, run=run, config_name=self.name)
            item.add_marker(pytest.mark.bias_gate)
            item.add_marker(pytest.mark.xdist_group(name=group))
            yield item


class GateItem(pytest.Item):
    """Shared behaviour of gate items: locate in model.yaml, report, fail or warn."""

    def __init__(self, *, run: GateRun, config_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run
        self.config_name = config_name
        self.bias_gate_record: dict[str, Any] | None = None

    def reportinfo(self) -> tuple[Any, int | None, str]:
        line = self.run.spec.line_of_compression(self.config_name)
        return self.path, (line - 1 if line else None), self.nodeid

    def _conclude(self, status: Status, text: str) -> None:
        if status == "fail" and self.run.options.mode == "gate":
            raise BiasGateFailure(text)
        if status != "pass":
            label = "would fail" if status == "fail" else "warning"
            # Attributed to the config's line in model.yaml, not to this module.
            warnings.warn_explicit(
                BiasGateWarning(safe_text(f"{self.nodeid} ({label}): {text}")),
                BiasGateWarning,
                filename=str(self.path),
                lineno=self.run.spec.line_of_compression(self.config_name) or 1,
            )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> Any:
        if isinstance(excinfo.value, BiasGateFailure):
            return safe_text(str(excinfo.value))
        if isinstance(excinfo.value, BiasGateError):
            # Bad input found mid-run (a model that will not load, missing data): one line.
            return safe_text(f"bias-gate: {excinfo.value}")
        if is_write_error(excinfo.value):
            # The disk failed under a file the run needs (a GGUF artifact): one line.
            return safe_text(_disk_error_line(excinfo.value))
        return super().repr_failure(excinfo, style=style)


def _disk_error_line(exc: BaseException) -> str:
    """One line for a file-system error: the OS's words, the file, what to do."""
    filename = getattr(exc, "filename", None)
    where = f" at {filename}" if filename else ""
    return (
        f"bias-gate: file system error ({write_error_reason(exc)}){where}; free space, raise "
        "the file-size limit or give a writable --bias-gate-cache-dir"
    )


class BiasItem(GateItem):
    """Dense vs compressed on one BBQ category."""

    def runtest(self) -> None:
        outcome = self.run.config_outcome(self.config_name)
        result = outcome.item(self.name)
        self.user_properties.extend(item_properties(outcome.result, result))
        self.bias_gate_record = self.run.record(outcome, result)
        self._conclude(result.verdict, self.run.failure_text(outcome, result))


class PerplexityItem(GateItem):
    """Perplexity of the compressed model relative to the dense one."""

    def runtest(self) -> None:
        outcome = self.run.config_outcome(self.config_name)
        config = outcome.result
        self.user_properties.extend(
            perplexity_properties(
                config,
                dense_perplexity=config.dense_perplexity,
                max_perplexity_ratio=self.run.thresholds.base.max_perplexity_ratio,
            )
        )
        self.bias_gate_record = self.run.record(outcome, None)
        self._conclude(config.perplexity_verdict or "pass", "; ".join(config.perplexity_reasons))
