"""The command line's overrides of model.yaml (``--bias-gate-limit/-seed/-device/-looks/
-measure``), applied to the spec before anything is computed."""

from __future__ import annotations

from typing import Any

from bias_gate.config.schema import GateSpec
from bias_gate.gate.options import GateOptions


def apply_overrides(spec: GateSpec, options: GateOptions) -> GateSpec:
    """The spec with ``--bias-gate-limit/-seed/-device/-measure`` applied."""
    data_update: dict[str, Any] = {}
    if options.limit is not None:
        data_update["items_per_category"] = options.limit
    if options.seed is not None:
        data_update["seed"] = options.seed
    update: dict[str, Any] = {}
    if data_update:
        update["data"] = spec.data.model_copy(update=data_update)
    if options.device is not None:
        update["model"] = spec.model.model_copy(update={"device": options.device})
    if options.looks is not None:
        update["sequential"] = spec.sequential.model_copy(update={"looks": options.looks})
    if options.measure is not None:
        update["measure"] = spec.measure.model_copy(
            update={name: name in options.measure for name in type(spec.measure).model_fields}
        )
    return spec.model_copy(update=update) if update else spec
