"""Write every report a gate run asked for, each through its registered writer
(:mod:`bias_gate.report.writers`; options override model.yaml's output:)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from bias_gate.report.staging import Staging, check_output, write_error
from bias_gate.results import GateResults

if TYPE_CHECKING:
    from bias_gate.config.schema import GateSpec
    from bias_gate.gate.options import GateOptions

#: The shipped writers with an option and an output key of their own, in writing order.
OWN_KEYS = ("json", "junit", "markdown", "plots", "html")


def _target(option: Path | None, configured: Path | None, stem: str, count: int) -> Path | None:
    if option is not None:
        if count <= 1:
            return option
        return option.with_name(f"{option.stem}-{stem}{option.suffix}")
    return configured


def requested(
    options: GateOptions, spec: GateSpec | None, stem: str, count: int
) -> dict[str, Path]:
    """Each report asked for, by writer name: the shipped ones' own options and keys
    first, then ``output.reports``, then ``--bias-gate-report`` (an option replaces the
    config's path for the same writer). With several model.yaml files an option's path
    gets the file's stem (``out.json`` -> ``out-model.json``)."""
    output = spec.output if spec is not None else None
    paths: dict[str, Path] = {}
    for name in OWN_KEYS:
        option = getattr(options, "json_path" if name == "json" else name)
        configured = getattr(output, "json_path" if name == "json" else name) if output else None
        path = _target(option, configured, stem, count)
        if path is not None:
            paths[name] = path
    if output is not None:
        paths.update(output.reports)
    for name, option in options.reports:
        target = _target(option, None, stem, count)
        if target is not None:
            paths[name] = target
    return paths


def check_outputs(options: GateOptions, spec: GateSpec | None, count: int) -> None:
    """Before the run: raise a one-line :class:`BiasGateError` for the first requested
    report that could not be written (a parent that is a file, a read-only folder)."""
    stem = spec.source_path.stem if spec is not None and spec.source_path else "model"
    for name, path in requested(options, spec, stem, count).items():
        check_output(path, _key(options, name), name)


def _key(options: GateOptions, name: str) -> str:
    if getattr(options, "json_path" if name == "json" else name, None) is not None:
        return f"--bias-gate-{name}"  # an option replaces the config's path
    if any(name == given for given, _ in options.reports):
        return "--bias-gate-report"
    return f"output.{name}"


def write_outputs(
    results: GateResults, options: GateOptions, spec: GateSpec | None, count: int
) -> list[Path]:
    """Write every requested report, all or none (:mod:`bias_gate.report.staging`), and
    the GitHub step summary when running in GitHub Actions. Returns the files written.
    (Annotations go to the terminal summary, where pytest does not capture them.)"""
    from bias_gate.registry import REPORTS

    stem = Path(results.run.get("config_path", "model")).stem
    written: list[Path] = []
    with Staging() as staging:
        for name, path in requested(options, spec, stem, count).items():
            staged = staging.path(path, name)
            try:
                files = REPORTS.get(name)().write(results, staged)
            except OSError as exc:
                raise write_error(name, path, exc) from None
            written.extend(staging.final(Path(file)) for file in files)
        try:
            staging.commit()
        except OSError as exc:
            raise write_error("staged", path, exc) from None
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from bias_gate.report.markdown import write_step_summary

        write_step_summary(results)
    return written
