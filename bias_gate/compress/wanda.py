"""Wanda (Sun et al., 2023): prune by |W_ij| * ||X_j||_2 within each output row.

Faithful to the reference implementation (locuslab/wanda, ``prune_wanda``): the
activations of a decoder block are measured on the output of the already-pruned
blocks before it (sequential), all seven projections are pruned, and each row loses
exactly ``floor(in_features * sparsity)`` weights (or N in each M-block for ``N:M``).

``variant: study`` reproduces the 2026 study's variant instead, a documented confound:
only q/k/v/gate/up are pruned (o_proj and down_proj stay dense) and all norms come from
one pass of the dense model. At a 50% target that prunes about a third of the weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal

import torch
from pydantic import Field, model_validator

from bias_gate.compress.base import CompressionContext, CompressionResult
from bias_gate.compress.calibration import (
    CalibrationOptions,
    LayerInput,
    calibration_ids,
    first_layer_inputs,
    layer_output,
)
from bias_gate.compress.masks import n_m_mask, row_mask
from bias_gate.compress.pruning import (
    Pattern,
    PatternPruningOptions,
    apply_mask,
    pruning_result,
)
from bias_gate.compress.targets import (
    decoder_layers,
    layer_linears,
    projection_linears,
)
from bias_gate.data.text import corpus_fingerprint

#: What the 2026 study's Wanda pruned: activations were captured only for these.
STUDY_TARGETS: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "gate_proj", "up_proj")


class WandaOptions(PatternPruningOptions):
    """Options of ``wanda``.

    ``sparsity``, ``seed`` (draws the calibration windows), ``targets``, ``pattern``;
    ``sequential`` (default true): measure each block on the pruned output of the blocks
    before it, as upstream; false measures every block in one pass of the dense model.
    ``variant``: ``faithful`` (default) or ``study`` (= targets q/k/v/gate/up and
    sequential false: the 2026 study's confounded variant). ``calibration``: corpus,
    samples, seq_len, batch_size.
    """

    sequential: bool = True
    variant: Literal["faithful", "study"] = "faithful"
    calibration: CalibrationOptions = Field(default_factory=CalibrationOptions)

    #: The calibration corpus enters the identity by its content (``fingerprint_inputs``).
    location_options: ClassVar[dict[str, Any]] = {"calibration": {"corpus"}}

    @model_validator(mode="before")
    @classmethod
    def _study_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("variant") != "study":
            return data
        targets = data.get("targets")
        if targets is not None and set(targets) != set(STUDY_TARGETS):
            raise ValueError(
                f"variant study prunes exactly {', '.join(STUDY_TARGETS)}; leave targets out"
            )
        if data.get("sequential") not in (None, False):
            raise ValueError("variant study is non-sequential; leave sequential out")
        return {**data, "targets": list(STUDY_TARGETS), "sequential": False}


def wanda_mask(weight: torch.Tensor, sq_norms: torch.Tensor, sparsity: float, pattern: Pattern):
    """The Wanda mask of ``weight`` given the summed squared input activations per input
    column ``sq_norms``: score |W_ij| * sqrt(sq_norms_j), smallest pruned per row."""
    norms = sq_norms.to(weight.device).double().sqrt().unsqueeze(0)
    score = weight.detach().abs().double() * norms
    if pattern.structured:
        return n_m_mask(score, pattern.n, pattern.m)
    return row_mask(score, sparsity)


class _NormRecorder:
    """Forward hooks summing x_j^2 over all tokens for each input column of some linears."""

    def __init__(self, modules: dict[str, torch.nn.Linear]) -> None:
        self.sums = {
            name: torch.zeros(m.in_features, dtype=torch.float64) for name, m in modules.items()
        }
        self._handles = [m.register_forward_hook(self._hook(name)) for name, m in modules.items()]

    def _hook(self, name: str):
        def record(module: torch.nn.Module, inputs: tuple, _output: Any) -> None:
            x = inputs[0].detach().reshape(-1, inputs[0].shape[-1]).float()
            self.sums[name] += x.pow(2).sum(0).double().cpu()

        return record

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


class WandaCompressor:
    """Wanda pruning; see the module docstring for what is faithful and what ``study`` does."""

    Options: ClassVar[type[WandaOptions]] = WandaOptions
    cacheable: ClassVar[bool] = True

    def fingerprint_inputs(self, options: WandaOptions, context: CompressionContext) -> list[Any]:
        """What besides the options determines the result: the calibration text, by
        the SHA-256 of its content (a named corpus and a file alike)."""
        corpus = options.calibration.corpus
        return [{"calibration": corpus_fingerprint(corpus, context.data_dir, context.config_dir)}]

    def compress(
        self, model: torch.nn.Module, options: WandaOptions, context: CompressionContext
    ) -> CompressionResult:
        ids = calibration_ids(
            context.tokenizer,
            options.calibration,
            options.seed,
            context.data_dir,
            Path(context.config_dir),
        )
        if options.sequential:
            self._prune_sequential(model, ids, options)
        else:
            self._prune_one_pass(model, ids, options)
        cal = options.calibration
        notes = [
            f"calibration: {cal.samples} x {cal.seq_len} tokens of {cal.corpus}, "
            f"seed {options.seed}"
        ]
        if options.variant == "study":
            notes.append(
                "variant study (2026 study's confound): o_proj and down_proj stay dense and "
                "norms come from one pass of the dense model"
            )
        elif not options.sequential:
            notes.append("non-sequential: norms from one pass of the dense model")
        return pruning_result(model, options, notes)

    @torch.no_grad()
    def _prune_sequential(self, model: torch.nn.Module, ids: torch.Tensor, options: WandaOptions):
        layers = decoder_layers(model)
        inputs = first_layer_inputs(model, layers[0], ids, options.calibration.batch_size)
        for layer in layers:
            linears = layer_linears(layer, options.targets)
            recorder = _NormRecorder(linears)
            try:
                for item in inputs:
                    layer_output(layer, item)
            finally:
                recorder.remove()
            for name, module in linears.items():
                apply_mask(module, self._mask(module, recorder.sums[name], options))
            # The next block's inputs replace this block's batch by batch: one set of
            # calibration activations is held, never two.
            for index, item in enumerate(inputs):
                inputs[index] = LayerInput(layer_output(layer, item), item.kwargs)

    @torch.no_grad()
    def _prune_one_pass(self, model: torch.nn.Module, ids: torch.Tensor, options: WandaOptions):
        linears = projection_linears(model, options.targets)
        recorder = _NormRecorder(linears)
        device = next(model.parameters()).device
        try:
            for batch in ids.split(options.calibration.batch_size):
                model(input_ids=batch.to(device), use_cache=False)
        finally:
            recorder.remove()
        for name, module in linears.items():
            apply_mask(module, self._mask(module, recorder.sums[name], options))

    @staticmethod
    def _mask(module: torch.nn.Linear, sums: torch.Tensor, options: WandaOptions) -> torch.Tensor:
        return wanda_mask(module.weight, sums, options.target, options.parsed_pattern)
