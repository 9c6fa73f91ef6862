"""The schema of model.yaml, and its loader: the names other code imports, gathered.

Every section is a strict pydantic model: an unknown key is an error, not ignored.
:func:`parse_gate_spec` turns any validation problem into a one-line
:class:`~bias_gate.errors.ConfigError` naming the file, the line, the key and what is
allowed (:mod:`bias_gate.config.validation`). docs/config.md documents every field. Loading a
model.yaml whole (method options, threshold profile) is :mod:`bias_gate.config.validated`.

Where each part lives: the shared base and runtime type (:mod:`~bias_gate.config.base`),
``model`` (:mod:`~bias_gate.config.model_spec`), ``scoring`` and its prompt
(:mod:`~bias_gate.config.scoring_spec`), the other sections
(:mod:`~bias_gate.config.sections`), the whole file (:mod:`~bias_gate.config.gate_spec`),
its paths (:mod:`~bias_gate.config.paths`) and the loader (:mod:`~bias_gate.config.parse`).
"""

from __future__ import annotations

from bias_gate.config.base import Runtime, Strict
from bias_gate.config.gate_spec import GateSpec
from bias_gate.config.model_spec import (
    DEFAULT_PACKAGE,
    DEFAULT_PACKAGE_FILE,
    ModelSpec,
    default_model,
)
from bias_gate.config.parse import parse_gate_spec
from bias_gate.config.scoring_spec import (
    DEFAULT_SYSTEM_PROMPT,
    DEFAULT_TEMPLATE,
    TEMPLATE_FIELDS,
    GenerateSpec,
    PromptSpec,
    ScoringSpec,
    check_template,
)
from bias_gate.config.sections import (
    CompressionSpec,
    DataSpec,
    MeasureSpec,
    OutputSpec,
    PerplexitySpec,
    SequentialSpec,
    ThresholdsRef,
)

__all__ = [
    "DEFAULT_PACKAGE",
    "DEFAULT_PACKAGE_FILE",
    "DEFAULT_SYSTEM_PROMPT",
    "DEFAULT_TEMPLATE",
    "TEMPLATE_FIELDS",
    "CompressionSpec",
    "DataSpec",
    "GateSpec",
    "GenerateSpec",
    "MeasureSpec",
    "ModelSpec",
    "OutputSpec",
    "PerplexitySpec",
    "PromptSpec",
    "Runtime",
    "ScoringSpec",
    "SequentialSpec",
    "Strict",
    "ThresholdsRef",
    "check_template",
    "default_model",
    "parse_gate_spec",
]
