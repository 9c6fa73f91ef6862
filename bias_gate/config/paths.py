"""The paths model.yaml names: made relative to the file's directory before validation
(:func:`resolve_paths`), and checked to exist after it (:func:`file_errors`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bias_gate.config.gate_spec import GateSpec
from bias_gate.config.validation import dotted
from bias_gate.config.yaml_source import Loc, YamlDocument
from bias_gate.errors import ConfigError


def resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Make relative paths in the config relative to the config file's directory."""

    def fix(section: str, key: str) -> None:
        block = data.get(section)
        if isinstance(block, dict) and isinstance(block.get(key), str):
            candidate = Path(block[key]).expanduser()
            if not candidate.is_absolute():
                candidate = base / candidate
            block[key] = str(candidate)

    fix("model", "path")
    fix("model", "gguf")
    for key in ("json", "junit", "markdown", "html", "plots", "cache_dir"):
        fix("output", key)
    output = data.get("output")
    if isinstance(output, dict) and isinstance(output.get("reports"), dict):
        output["reports"] = {
            name: str(base / Path(path).expanduser()) if isinstance(path, str) else path
            for name, path in output["reports"].items()
        }
    data_block = data.get("data")
    if isinstance(data_block, dict):
        source = data_block.get("source")
        if isinstance(source, str) and source != "official" and not source.startswith("hf:"):
            data_block["source"] = str((base / Path(source).expanduser()).resolve())
    perplexity = data.get("perplexity")
    if isinstance(perplexity, dict):
        corpus = perplexity.get("corpus")
        if isinstance(corpus, str) and not corpus.startswith("wikitext2:"):
            perplexity["corpus"] = str((base / Path(corpus).expanduser()).resolve())
    thresholds = data.get("thresholds")
    if isinstance(thresholds, dict):
        profile = thresholds.get("profile")
        if isinstance(profile, str) and profile.endswith((".yaml", ".yml")):
            thresholds["profile"] = str((base / Path(profile).expanduser()).resolve())


def file_errors(spec: GateSpec, doc: YamlDocument) -> list[ConfigError]:
    """A :class:`ConfigError` at the key of each path that does not exist (a model
    directory or GGUF file, a data directory, a corpus file), and of an unknown
    ``wikitext2:`` corpus."""
    errors: list[ConfigError] = []

    def missing(loc: Loc, path: Path, what: str) -> None:
        errors.append(
            ConfigError(
                f"{what} {str(path)!r} does not exist; fix the path (relative paths are "
                "relative to this file)",
                file=doc.path,
                line=doc.line_of(loc),
                key=dotted(loc),
            )
        )

    if spec.model.path is not None and not spec.model.path.is_dir():
        missing(("model", "path"), spec.model.path, "model directory")
    if spec.model.gguf is not None and not spec.model.gguf.is_file():
        missing(("model", "gguf"), spec.model.gguf, "GGUF file")
    source = spec.data.source
    if source != "official" and not source.startswith("hf:") and not Path(source).is_dir():
        missing(("data", "source"), Path(source), "BBQ data directory")
    corpus = spec.perplexity.corpus
    if not corpus.startswith("wikitext2:") and not Path(corpus).is_file():
        missing(("perplexity", "corpus"), Path(corpus), "text file")
    elif corpus.startswith("wikitext2:") and corpus not in ("wikitext2:test", "wikitext2:valid"):
        errors.append(
            ConfigError(
                "unknown corpus; allowed: wikitext2:test, wikitext2:valid, or a text file path",
                file=doc.path,
                line=doc.line_of(("perplexity", "corpus")),
                key="perplexity.corpus",
            )
        )
    return errors
