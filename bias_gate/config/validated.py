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

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from bias_gate.compress.methods import CompressionMethod, resolve_method
from bias_gate.config.parse import gather_gate_spec, split_compression
from bias_gate.config.schema import GateSpec
from bias_gate.config.sections import CompressionSpec
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


def _compressions(
    spec: GateSpec | None, doc: YamlDocument
) -> Iterator[tuple[int, CompressionSpec]]:
    """(index, spec) of each compression entry to validate with its method: the spec's,
    or, when the schema refused the document, each entry that reads as one on its own
    (the others' problems are in the schema's error already)."""
    if spec is not None:
        yield from enumerate(spec.compressions)
        return
    raw = doc.data.get("compressions") if isinstance(doc.data, dict) else None
    for index, entry in enumerate(raw if isinstance(raw, list) else []):
        try:
            yield index, CompressionSpec.model_validate(split_compression(entry))
        except ValidationError:
            continue


def _by_line(errors: list[ConfigError]) -> ConfigError:
    """One error for all of ``errors``, in the order of their lines in the file."""
    flat = [e for error in errors for e in getattr(error, "errors", [error])]
    return combined(sorted(flat, key=lambda e: (e.line is None, e.line or 0)))


def parse_gate_config(doc: YamlDocument, profile: str | None = None) -> GateConfig:
    """Validate a loaded model.yaml whole; ``profile`` replaces its threshold profile.
    Every problem of the file is reported at once, in line order: the schema's, the
    categories, the files, each config's method options and the threshold profile."""
    spec, errors = gather_gate_spec(doc)
    methods: dict[str, CompressionMethod] = {}
    for index, compression in _compressions(spec, doc):  # every config's problems
        try:
            methods[compression.name] = resolve_method(compression, doc, ("compressions", index))
        except ConfigError as exc:
            errors.append(exc)
    thresholds = None
    if spec is not None:
        try:
            thresholds = resolve_thresholds(spec.thresholds, spec.data.categories, doc, profile)
        except ConfigError as exc:
            errors.append(exc)
    if errors or spec is None or thresholds is None:
        raise _by_line(errors)
    spec = spec.model_copy(update={"compressions": [m.spec for m in methods.values()]})
    check_runtimes(spec, methods, doc)
    return GateConfig(spec=spec, methods=methods, thresholds=thresholds)


def load_gate_config(path: str | Path, profile: str | None = None) -> GateConfig:
    """Load and validate model.yaml (:func:`parse_gate_config`)."""
    return parse_gate_config(load_yaml(Path(path)), profile)
