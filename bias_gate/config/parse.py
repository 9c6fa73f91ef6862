"""model.yaml's document to a :class:`~bias_gate.config.gate_spec.GateSpec`: method keys
moved under ``options``, paths resolved, the schema validated (any problem one line
naming file, line and key), the benchmark's categories and prompt applied, the files
checked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from bias_gate.config.gate_spec import GateSpec
from bias_gate.config.paths import file_errors, resolve_paths
from bias_gate.config.scoring_spec import PromptSpec
from bias_gate.config.validation import combined, dotted, validation_error
from bias_gate.config.yaml_source import Loc, YamlDocument
from bias_gate.errors import BiasGateError, ConfigError
from bias_gate.registry import BENCHMARKS


def split_compression(raw: Any) -> Any:
    """Move a compression entry's method options under ``options``."""
    if not isinstance(raw, dict):
        return raw
    own = ("name", "method", "runtime", "endpoint")
    base = {k: raw[k] for k in own if k in raw}
    base["options"] = {k: v for k, v in raw.items() if k not in own}
    return base


def _benchmark(name: Any, doc: YamlDocument) -> Any:
    """The benchmark named ``data.benchmark``; one that is registered but not a
    benchmark is a ConfigError at that key."""
    try:
        return BENCHMARKS.get(name)
    except BiasGateError as exc:  # registered, but not a benchmark
        raise ConfigError(
            exc.message,
            file=doc.path,
            line=doc.line_of(("data", "benchmark")),
            key="data.benchmark",
        ) from None


def category_errors(
    benchmark: Any, categories: Sequence[Any], doc: YamlDocument
) -> list[ConfigError]:
    """One ConfigError per entry of ``data.categories`` the benchmark does not have."""
    errors = []
    for index, category in enumerate(categories):
        if isinstance(category, str) and category not in benchmark.categories:
            loc: Loc = ("data", "categories", index)
            errors.append(
                ConfigError(
                    f"unknown category {category!r} of benchmark {benchmark.name!r}; allowed: "
                    f"{', '.join(benchmark.categories)}",
                    file=doc.path,
                    line=doc.line_of(loc),
                    key=dotted(loc),
                )
            )
    return errors


def _raw_category_errors(data: dict[str, Any], doc: YamlDocument) -> list[ConfigError]:
    """The unknown categories of a document the schema refused (its other problems are
    reported beside them); nothing when the data section is itself unreadable."""
    section = data.get("data")
    if not isinstance(section, dict) or not isinstance(section.get("categories"), list):
        return []
    if "benchmarks" in section:  # several benchmarks: checked once the schema reads them
        return []
    try:
        benchmark = BENCHMARKS.get(section.get("benchmark", "bbq"))
    except Exception:  # an unknown benchmark: the schema's own error names it
        return []
    return category_errors(benchmark, section["categories"], doc)


def benchmark_prompt(prompt: PromptSpec, benchmark: Any) -> PromptSpec:
    """``prompt`` with the benchmark's system prompt and template where the config sets
    neither."""
    defaults = {
        key: value
        for key, value in (
            ("system", benchmark.system_prompt),
            ("template", benchmark.template),
        )
        if key not in prompt.model_fields_set
    }
    return prompt.model_copy(update=defaults) if defaults else prompt


def _with_prompt(spec: GateSpec, benchmark: Any) -> GateSpec:
    """``spec`` with the benchmark's prompt where the config sets none."""
    prompt = benchmark_prompt(spec.scoring.prompt, benchmark)
    if prompt is spec.scoring.prompt:
        return spec
    scoring = spec.scoring.model_copy(update={"prompt": prompt})
    return spec.model_copy(update={"scoring": scoring})


def prepared(doc: YamlDocument) -> dict[str, Any]:
    """The document as the schema reads it: paths resolved, method keys under
    ``options``; a document that is not a mapping is a ConfigError."""
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
        data["compressions"] = [split_compression(c) for c in raw_compressions]
    return data


def gather_gate_spec(doc: YamlDocument) -> tuple[GateSpec | None, list[ConfigError]]:
    """The spec (``None`` when the schema refuses the document) and every problem found:
    the schema's, the unknown categories and the missing files."""
    data = prepared(doc)
    try:
        spec = GateSpec.model_validate(data)
    except ValidationError as exc:
        # Method options live under "options" internally; users write them flat.
        error = validation_error(exc, doc, GateSpec, hidden=("options",))
        return None, [error, *_raw_category_errors(data, doc)]
    lines = {
        comp.name: doc.line_of(("compressions", index)) or 1
        for index, comp in enumerate(spec.compressions)
    }
    spec = spec.model_copy(update={"source_path": doc.path, "source_lines": lines})
    if spec.data.benchmarks:  # several benchmarks: each one's categories and prompt
        from bias_gate.data.benchmark_config import with_benchmarks

        return with_benchmarks(spec, doc), file_errors(spec, doc)
    benchmark = _benchmark(spec.data.benchmark, doc)
    errors = category_errors(benchmark, spec.data.categories, doc)
    errors += file_errors(spec, doc)
    return _with_prompt(spec, benchmark), errors


def parse_gate_spec(doc: YamlDocument) -> GateSpec:
    """Validate a loaded YAML document against the schema of model.yaml (every problem
    at once: :func:`gather_gate_spec`). A compression's method keys are kept as given
    (``options``); :func:`bias_gate.config.validated.load_gate_config` validates them
    with the method, and resolves the threshold profile, once."""
    spec, errors = gather_gate_spec(doc)
    if errors or spec is None:
        raise combined(errors)
    return spec
