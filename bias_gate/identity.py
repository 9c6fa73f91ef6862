"""One identity per measurement: the cache keys of everything the gate measures.

A cache key that forgets an input hands back a stale answer that looks valid, so every
stored result (compressed weights, answers, perplexity, the dense baseline, a GGUF
file's config and tokenizer) is keyed here, by one core function (:func:`identity`)
over named parts that each say *what the result is made of*:

* the model: its fingerprint, taken from file content
  (:func:`bias_gate.models.loading.model_fingerprint`; a GGUF file's with the version
  of the gguf library that dequantizes it);
* the compression (:func:`compression_part`), asked of the compressor itself for every
  method, cacheable or not: its name, its validated options (less the options that only
  say where an input lies), and what it declares through ``fingerprint_inputs`` (a
  checkpoint's file content, the calibration text, the version of torchao or
  optimum-quanto that quantizes);
* the items, the prompt and scoring settings that change answers, the perplexity
  corpus's content and windows;
* the kind of device that computes it, and the versions of the libraries that compute
  every measurement (:data:`COMMON_LIBRARIES`).

Paths never enter a key (files enter by the SHA-256 of their bytes), nor do settings
that change no result (``batch_size``, ``max_batch_tokens``, output paths).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bias_gate.config.schema import CompressionSpec, PerplexitySpec, ScoringSpec
from bias_gate.fingerprint import fingerprint, library_versions

#: Bumped when the meaning of a part changes, so old entries are never read as new.
IDENTITY_VERSION = 2
#: Libraries that compute every measurement (kernels, model code, the engine).
COMMON_LIBRARIES = ("torch", "transformers", "pytest-bias-gate")
#: Libraries that read a GGUF file's config and tokenizer.
GGUF_READERS = ("transformers", "tokenizers", "gguf", "pytest-bias-gate")
#: Scoring settings that change how fast answers come, never which answers.
SCORING_SPEED_ONLY = frozenset({"batch_size", "max_batch_tokens"})
#: The compression part of the dense model itself (no compression step).
NO_COMPRESSION: dict[str, Any] = {"method": None}


def identity(kind: str, parts: Mapping[str, Any]) -> str:
    """The key of one measurement of ``kind`` made of the named ``parts`` (24 hex
    digits of the SHA-256 of their canonical JSON)."""
    return fingerprint("bias-gate-identity", IDENTITY_VERSION, kind, dict(parts), length=24)


def device_kind(device: str) -> str:
    """``cuda:1`` -> ``cuda``: the kernels that compute a result differ by kind of
    device, not by which card of a machine it is."""
    return device.split(":", 1)[0]


def compressor_inputs(compressor: Any, options: Any, context: Any) -> list[Any]:
    """What ``compressor`` declares besides its options (``fingerprint_inputs``); a
    method that declares nothing depends on its options alone."""
    declared = getattr(compressor, "fingerprint_inputs", None)
    return list(declared(options, context)) if callable(declared) else []


def compression_part(
    spec: CompressionSpec, compressor: Any, options: Any, context: Any
) -> dict[str, Any]:
    """The compression's share of every key: method, validated options without the
    options that only locate an input (``Options.location_options``), and the
    compressor's declared inputs (content hashes, library versions)."""
    exclude = getattr(options, "location_options", None) or None
    return {
        "method": spec.method,
        "options": options.model_dump(mode="json", exclude=exclude),
        "inputs": compressor_inputs(compressor, options, context),
    }


def scoring_part(scoring: ScoringSpec) -> dict[str, Any]:
    """The scoring settings that change answers: mode, prompt, normalisation, generate
    settings (not the batch sizes)."""
    return scoring.model_dump(mode="json", exclude=set(SCORING_SPEED_ONLY))


def perplexity_part(settings: PerplexitySpec, corpus_digest: str) -> dict[str, Any]:
    """The perplexity settings that change the figure: the corpus by its content, the
    window and the number of windows (not where the corpus file lies)."""
    return {"corpus": corpus_digest, "window": settings.window, "windows": settings.windows}


def compressed_weights_key(model: str, compression: dict[str, Any], device: str) -> str:
    """Key of the compressed weights of ``model`` under ``compression``."""
    return identity(
        "compressed-weights",
        {
            "model": model,
            "compression": compression,
            "device": device_kind(device),
            "libraries": library_versions(COMMON_LIBRARIES),
        },
    )


def answers_key(
    model: str,
    compression: dict[str, Any],
    items: str,
    scoring: ScoringSpec,
    device: str,
    versions: Mapping[str, str | None] | None = None,
    runtime: Mapping[str, Any] | None = None,
) -> str:
    """Key of the answers of ``model`` under ``compression`` to the items whose content
    fingerprint is ``items``, read as ``scoring`` says. The items are the planned set:
    answering any subset of them uses the same key. ``versions`` replaces the installed
    library versions (tests). ``runtime``: :func:`bias_gate.models.runtimes.runtime_part`
    (``None``, torch, adds nothing)."""
    return identity(
        "answers",
        _with_runtime(
            {
                "model": model,
                "compression": compression,
                "items": items,
                "scoring": scoring_part(scoring),
                "device": device_kind(device),
                "libraries": dict(versions) if versions is not None else _libraries(),
            },
            runtime,
        ),
    )


def perplexity_key(
    model: str,
    compression: dict[str, Any],
    settings: PerplexitySpec,
    corpus_digest: str,
    device: str,
    runtime: Mapping[str, Any] | None = None,
) -> str:
    """Key of the perplexity of ``model`` under ``compression`` on the corpus whose
    content digest is ``corpus_digest``, computed in ``runtime`` (as in :func:`answers_key`)."""
    return identity(
        "perplexity",
        _with_runtime(
            {
                "model": model,
                "compression": compression,
                "perplexity": perplexity_part(settings, corpus_digest),
                "device": device_kind(device),
                "libraries": _libraries(),
            },
            runtime,
        ),
    )


def baseline_parts(
    model: str,
    items: str,
    scoring: ScoringSpec,
    perplexity: PerplexitySpec,
    corpus_digest: str | None,
    device: str,
    runtime: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything that determines the dense baseline, by name (a baseline file stores
    them, so a mismatch can say which part differs). ``corpus_digest`` is ``None`` when
    perplexity is off; ``runtime`` as in :func:`answers_key`."""
    return _with_runtime(
        {
            "format": IDENTITY_VERSION,
            "model": model,
            "items": items,
            "scoring": scoring_part(scoring),
            "perplexity": (
                perplexity_part(perplexity, corpus_digest) if corpus_digest is not None else None
            ),
            "device": device_kind(device),
            "libraries": _libraries(),
        },
        runtime,
    )


def baseline_key(parts: Mapping[str, Any]) -> str:
    """Key of the dense baseline made of :func:`baseline_parts`."""
    return identity("baseline", parts)


def gguf_metadata_key(file: str, dtype: str) -> str:
    """Key of the config and tokenizer read from the GGUF file whose SHA-256 is ``file``,
    for a model in ``dtype`` (:mod:`bias_gate.models.gguf_load`)."""
    return identity(
        "gguf-metadata",
        {"file": file, "dtype": dtype, "libraries": library_versions(GGUF_READERS)},
    )


def _with_runtime(parts: dict[str, Any], runtime: Mapping[str, Any] | None) -> dict[str, Any]:
    """``parts`` with the runtime's part added when it is not torch's (``None``)."""
    return parts if runtime is None else {**parts, "runtime": dict(runtime)}


def _libraries() -> dict[str, str | None]:
    return library_versions(COMMON_LIBRARIES)
