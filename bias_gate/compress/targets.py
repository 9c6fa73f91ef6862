"""Which weights pruning touches: the seven linear projections of every decoder block.

Embeddings and the LM head are never pruning targets (SmolLM2 ties them, so pruning one
would prune both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import torch

#: One of the seven projections (the options' ``targets``).
Projection = Literal["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

#: The linear projections of a Llama-style decoder block, attention first.
PROJECTIONS: tuple[Projection, ...] = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
)


def decoder_layers(model: torch.nn.Module) -> torch.nn.ModuleList:
    """The model's list of decoder blocks (``model.model.layers`` for Llama-style models).

    Raises ``ValueError`` when the model has no module list holding the projections.
    """
    import torch

    decoder = model.get_decoder() if hasattr(model, "get_decoder") else None  # type: ignore[operator]
    layers = getattr(decoder, "layers", None)
    if isinstance(layers, torch.nn.ModuleList):
        return layers
    for module in model.modules():
        if isinstance(module, torch.nn.ModuleList) and len(module) > 0:
            names = {name.rsplit(".", 1)[-1] for name, _ in module[0].named_modules()}
            if names & set(PROJECTIONS):
                return module
    raise ValueError(
        f"{type(model).__name__} has no decoder blocks with {', '.join(PROJECTIONS)}; "
        "only Llama-style decoders can be pruned"
    )


def layer_linears(
    layer: torch.nn.Module, projections: tuple[str, ...] | list[str] = PROJECTIONS
) -> dict[str, torch.nn.Linear]:
    """The ``nn.Linear`` modules of one decoder block whose last name part is in
    ``projections``, keyed by their name inside the block (``self_attn.q_proj``)."""
    import torch

    wanted = set(projections)
    return {
        name: module
        for name, module in layer.named_modules()
        if isinstance(module, torch.nn.Linear) and name.rsplit(".", 1)[-1] in wanted
    }


def projection_linears(
    model: torch.nn.Module, projections: tuple[str, ...] | list[str] = PROJECTIONS
) -> dict[str, torch.nn.Linear]:
    """Every targeted projection of every decoder block, keyed by its full module name
    (``model.layers.0.self_attn.q_proj``), in model order."""
    layers = decoder_layers(model)
    prefix = layers_prefix(model, layers)
    found: dict[str, torch.nn.Linear] = {}
    for index, layer in enumerate(layers):
        for name, module in layer_linears(layer, projections).items():
            found[f"{prefix}{index}.{name}"] = module
    return found


def layers_prefix(model: torch.nn.Module, layers: torch.nn.ModuleList) -> str:
    """The module name of ``layers`` inside ``model`` plus a dot (``model.layers.``)."""
    for name, module in model.named_modules():
        if module is layers:
            return f"{name}." if name else ""
    return ""
