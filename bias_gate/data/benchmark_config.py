"""``data.benchmarks`` of model.yaml: several benchmarks in one run, checked and expanded
when the config loads.

``data.categories`` then names categories of any of them: a plain name (``Age``) is that
category of every listed benchmark that has it, ``<benchmark>/<Category>``
(``kobbq/Race_ethnicity_nationality``) one benchmark's only. They are expanded into the
run's gate categories (:func:`bias_gate.data.benchmark_set.gate_category`), benchmark by
benchmark in the listed order, so everything after the config reads one list. Each
benchmark is asked in its own prompt (its default, unless the config sets
``scoring.prompt``), kept in ``GateSpec.benchmark_prompts``.
"""

from __future__ import annotations

from bias_gate.config.parse import benchmark_prompt
from bias_gate.config.schema import GateSpec, PromptSpec
from bias_gate.config.validation import dotted
from bias_gate.config.yaml_source import Loc, YamlDocument
from bias_gate.data.benchmark_set import gate_category
from bias_gate.errors import BiasGateError, ConfigError
from bias_gate.registry import BENCHMARKS


def _problem(doc: YamlDocument, loc: Loc, message: str) -> ConfigError:
    return ConfigError(message, file=doc.path, line=doc.line_of(loc), key=dotted(loc))


def _categories_of(spec: GateSpec, doc: YamlDocument) -> dict[str, tuple[str, ...]]:
    """Each listed benchmark's categories (a name that is not a benchmark: one line)."""
    names = spec.data.benchmarks or []
    out: dict[str, tuple[str, ...]] = {}
    for index, name in enumerate(names):
        try:
            out[name] = tuple(BENCHMARKS.get(name).categories)
        except BiasGateError as exc:  # registered, but not a benchmark
            raise _problem(doc, ("data", "benchmarks", index), exc.message) from None
    return out


def expanded_categories(spec: GateSpec, doc: YamlDocument) -> list[str]:
    """``data.categories`` as the run's gate categories, benchmark by benchmark; a
    category no listed benchmark has is one line at its entry."""
    known = _categories_of(spec, doc)
    wanted: dict[str, list[str]] = {name: [] for name in known}
    for index, entry in enumerate(spec.data.categories):
        loc: Loc = ("data", "categories", index)
        benchmark, slash, category = entry.partition("/")
        if slash:
            if benchmark not in known:
                raise _problem(
                    doc,
                    loc,
                    f"{entry!r} names benchmark {benchmark!r}, which data.benchmarks "
                    f"does not list ({', '.join(known)})",
                )
            if category not in known[benchmark]:
                raise _problem(
                    doc,
                    loc,
                    f"unknown category {category!r} of benchmark {benchmark!r}; "
                    f"allowed: {', '.join(known[benchmark])}",
                )
            wanted[benchmark].append(category)
            continue
        having = [name for name, categories in known.items() if entry in categories]
        if not having:
            allowed = "; ".join(f"{name}: {', '.join(cats)}" for name, cats in known.items())
            raise _problem(
                doc,
                loc,
                f"unknown category {entry!r}: no benchmark of data.benchmarks has "
                f"it; allowed: {allowed}",
            )
        for name in having:
            wanted[name].append(entry)
    names = [gate_category(b, c) for b, cats in wanted.items() for c in dict.fromkeys(cats)]
    return names


def benchmark_prompts(spec: GateSpec) -> dict[str, PromptSpec]:
    """Each listed benchmark's prompt: ``scoring.prompt`` where the config sets a field,
    the benchmark's own default elsewhere."""
    return {
        name: benchmark_prompt(spec.scoring.prompt, BENCHMARKS.get(name))
        for name in spec.data.benchmarks or []
    }


def with_benchmarks(spec: GateSpec, doc: YamlDocument) -> GateSpec:
    """``spec`` of a config with ``data.benchmarks``: its categories expanded, each
    benchmark's prompt in ``benchmark_prompts``, ``scoring.prompt`` the first one's (what
    the run's header shows)."""
    if "benchmark" in spec.data.model_fields_set:
        raise _problem(
            doc,
            ("data", "benchmark"),
            "give data.benchmark (one benchmark) or data.benchmarks (several), not both",
        )
    categories = expanded_categories(spec, doc)
    if not categories:
        raise _problem(doc, ("data", "categories"), "no category of data.benchmarks is asked")
    prompts = benchmark_prompts(spec)
    first = next(iter(prompts.values()))
    data = spec.data.model_copy(update={"categories": categories})
    scoring = spec.scoring.model_copy(update={"prompt": first})
    return spec.model_copy(update={"data": data, "scoring": scoring, "benchmark_prompts": prompts})
