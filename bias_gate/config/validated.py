"""model.yaml loaded whole, once: the spec, each compression's method and typed options,
and the resolved threshold profile.

    model.yaml -> schema (bias_gate.config.schema) -> methods (bias_gate.compress.methods)
               -> runtimes (bias_gate.models.runtimes) -> thresholds (bias_gate.judge.thresholds)
               -> :class:`GateConfig`

Every problem is a one-line :class:`~bias_gate.errors.ConfigError` at its file, line and
key, found here, before anything runs. The stages after this read what it holds and
validate nothing again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bias_gate.compress.methods import CompressionMethod, resolve_method
from bias_gate.config.schema import GateSpec, parse_gate_spec
from bias_gate.config.validation import combined
from bias_gate.config.yaml_source import YamlDocument, load_yaml
from bias_gate.errors import ConfigError
from bias_gate.judge.thresholds import ThresholdSet, resolve_thresholds
from bias_gate.models.runtimes import check_runtimes


@dataclass(frozen=True)
class GateConfig:
    """A validated model.yaml. ``spec``: its settings (compression options as validated,
    defaults filled in); ``methods``: each compression config's method and typed options,
    by config name, in model.yaml order; ``thresholds``: the resolved profile
    (``--bias-gate-thresholds`` applied)."""

    spec: GateSpec
    methods: dict[str, CompressionMethod]
    thresholds: ThresholdSet


def parse_gate_config(doc: YamlDocument, profile: str | None = None) -> GateConfig:
    """Validate a loaded model.yaml whole; ``profile`` replaces its threshold profile."""
    spec = parse_gate_spec(doc)
    methods: dict[str, CompressionMethod] = {}
    errors: list[ConfigError] = []
    for index, compression in enumerate(spec.compressions):  # every config's problems
        try:
            methods[compression.name] = resolve_method(compression, doc, ("compressions", index))
        except ConfigError as exc:
            errors.append(exc)
    if errors:
        raise combined(errors)
    spec = spec.model_copy(update={"compressions": [m.spec for m in methods.values()]})
    check_runtimes(spec, methods, doc)
    thresholds = resolve_thresholds(spec.thresholds, spec.data.categories, doc, profile)
    return GateConfig(spec=spec, methods=methods, thresholds=thresholds)


def load_gate_config(path: str | Path, profile: str | None = None) -> GateConfig:
    """Load and validate model.yaml (:func:`parse_gate_config`)."""
    return parse_gate_config(load_yaml(Path(path)), profile)
