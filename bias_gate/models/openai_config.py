"""The checks of ``runtime: openai`` in model.yaml, one line each, when it is loaded: a
config answered by a server has its own ``endpoint``; the dense model it is compared
with has ``model.endpoint`` (a config is always compared with the dense model in its own
runtime)."""

from __future__ import annotations

from bias_gate.config.endpoint import EndpointSpec
from bias_gate.config.schema import GateSpec
from bias_gate.config.validation import dotted
from bias_gate.config.yaml_source import Loc, YamlDocument
from bias_gate.errors import ConfigError

OPENAI = "openai"


def _error(message: str, doc: YamlDocument, loc: Loc) -> ConfigError:
    return ConfigError(message, file=doc.path, line=doc.line_of(loc), key=dotted(loc))


def check_endpoints(spec: GateSpec, doc: YamlDocument) -> None:
    """One :class:`ConfigError` for the first problem of a server-answered config."""
    served = [c for c in spec.compressions if spec.runtime_of(c.name) == OPENAI]
    for index, config in enumerate(spec.compressions):
        if config.endpoint is not None and config not in served:
            raise _error(
                f"config {config.name!r} has an endpoint but runs in "
                f"{spec.runtime_of(config.name)}: add runtime: openai, or drop the endpoint",
                doc,
                ("compressions", index, "endpoint"),
            )
    if not served:
        return
    first = spec.compressions.index(served[0])
    for config in served:
        if config.endpoint is None:
            index = spec.compressions.index(config)
            raise _error(
                f"config {config.name!r} answers through a server (runtime openai): give "
                "it an endpoint (url, model) where the server serves this compressed model",
                doc,
                ("compressions", index),
            )
    if spec.model.endpoint is None:
        raise _error(
            "runtime openai compares each config with the dense model through a server: "
            "give model.endpoint (url, model) where the dense model is served",
            doc,
            ("compressions", first, "runtime") if spec.model.runtime != OPENAI else ("model",),
        )


def endpoint_of(spec: GateSpec, name: str | None) -> tuple[EndpointSpec, str]:
    """The endpoint of config ``name`` (``None``: the dense model's) and its config key."""
    if name is None:
        assert spec.model.endpoint is not None, "checked when model.yaml was loaded"
        return spec.model.endpoint, "model.endpoint"
    index = [c.name for c in spec.compressions].index(name)
    endpoint = spec.compressions[index].endpoint
    assert endpoint is not None, "checked when model.yaml was loaded"
    return endpoint, f"compressions[{index}].endpoint"
