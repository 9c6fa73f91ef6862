"""model.yaml's document to a :class:`~bias_gate.config.gate_spec.GateSpec`: method keys
moved under ``options``, paths resolved, the schema validated (any problem one line
naming file, line and key), the benchmark's categories and prompt applied, the files
checked."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bias_gate.config.gate_spec import GateSpec
from bias_gate.config.paths import check_files, resolve_paths
from bias_gate.config.validation import dotted, validation_error
from bias_gate.config.yaml_source import Loc, YamlDocument
from bias_gate.errors import BiasGateError, ConfigError
from bias_gate.registry import BENCHMARKS


def _split_compression(raw: Any) -> Any:
    """Move a compression entry's method options under ``options``."""
    if not isinstance(raw, dict):
        return raw
    own = ("name", "method", "runtime")
    base = {k: raw[k] for k in own if k in raw}
    base["options"] = {k: v for k, v in raw.items() if k not in own}
    return base


def _with_benchmark(spec: GateSpec, doc: YamlDocument) -> GateSpec:
    """Check ``data.categories`` against the chosen benchmark's, and take the
    benchmark's prompt where the config sets none."""
    try:
        benchmark = BENCHMARKS.get(spec.data.benchmark)
    except BiasGateError as exc:  # registered, but not a benchmark
        raise ConfigError(
            exc.message,
            file=doc.path,
            line=doc.line_of(("data", "benchmark")),
            key="data.benchmark",
        ) from None
    for index, category in enumerate(spec.data.categories):
        if category not in benchmark.categories:
            loc: Loc = ("data", "categories", index)
            raise ConfigError(
                f"unknown category {category!r} of benchmark {benchmark.name!r}; allowed: "
                f"{', '.join(benchmark.categories)}",
                file=doc.path,
                line=doc.line_of(loc),
                key=dotted(loc),
            )
    prompt = spec.scoring.prompt
    defaults = {
        key: value
        for key, value in (
            ("system", benchmark.system_prompt),
            ("template", benchmark.template),
        )
        if key not in prompt.model_fields_set
    }
    if not defaults:
        return spec
    scoring = spec.scoring.model_copy(update={"prompt": prompt.model_copy(update=defaults)})
    return spec.model_copy(update={"scoring": scoring})


def parse_gate_spec(doc: YamlDocument) -> GateSpec:
    """Validate a loaded YAML document against the schema of model.yaml. A compression's
    method keys are kept as given (``options``); :func:`bias_gate.config.validated.load_gate_config`
    validates them with the method, and resolves the threshold profile, once."""
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError(
            "the file must be a YAML mapping with at least 'compressions'; see docs/config.md",
            file=doc.path,
            line=1,
        )
    data = dict(data)
    resolve_paths(data, doc.path.parent)
    raw_compressions = data.get("compressions")
    if isinstance(raw_compressions, list):
        data["compressions"] = [_split_compression(c) for c in raw_compressions]
    try:
        spec = GateSpec.model_validate(data)
    except ValidationError as exc:
        # Method options live under "options" internally; users write them flat.
        raise validation_error(exc, doc, GateSpec, hidden=("options",)) from None
    lines = {
        comp.name: doc.line_of(("compressions", index)) or 1
        for index, comp in enumerate(spec.compressions)
    }
    spec = spec.model_copy(update={"source_path": doc.path, "source_lines": lines})
    spec = _with_benchmark(spec, doc)
    check_files(spec, doc)
    return spec
