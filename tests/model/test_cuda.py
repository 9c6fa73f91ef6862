"""The CUDA path (``--bias-gate-device cuda``): run only where a CUDA device is visible,
skipped with the reason elsewhere (scripts/gpu-check.sh runs them on a GPU machine).

What must hold on a GPU: the model and every tensor a compressor makes live on the
device; Wanda prunes exactly the fraction asked and nearly the same weights as on the
CPU (sums of squares accumulate in another order); SmolLM2 answers as on the CPU and
its perplexity agrees to float rounding.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from bias_gate.compress.base import CompressionContext
from bias_gate.compress.measure import MeasureSettings
from bias_gate.compress.methods import resolve_method
from bias_gate.compress.pipeline import compress_model
from bias_gate.compress.targets import projection_linears
from bias_gate.config.schema import CompressionSpec, PerplexitySpec, ScoringSpec, default_model
from bias_gate.models.loading import LoadedModel, load_model
from bias_gate.models.perplexity import perplexity

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="needs a CUDA device and none is visible (scripts/gpu-check.sh runs these on a GPU)",
)

QUICK = MeasureSettings(sizes=False, latency=False)
WANDA = CompressionSpec(
    name="wanda-50",
    method="wanda",
    options={"sparsity": 0.5, "calibration": {"samples": 8, "seq_len": 128}},
)


def on_cuda(loaded: LoadedModel) -> LoadedModel:
    model = loaded.model.to("cuda")
    return LoadedModel(model, loaded.tokenizer, loaded.fingerprint, loaded.description, "cuda")


def test_wanda_on_cuda_prunes_as_on_the_cpu(tiny_llama, wikitext_dir, tmp_path):
    cpu = LoadedModel(copy.deepcopy(tiny_llama.model), tiny_llama.tokenizer, "t", "t", "cpu")
    gpu = on_cuda(
        LoadedModel(copy.deepcopy(tiny_llama.model), tiny_llama.tokenizer, "t", "t", "cpu")
    )
    method = resolve_method(WANDA)
    masks = {}
    for loaded in (cpu, gpu):
        context = CompressionContext(
            tokenizer=loaded.tokenizer,
            config_dir=Path.cwd(),
            data_dir=wikitext_dir.parent,
            device=loaded.device,
        )
        model, report = compress_model(loaded, method, context, tmp_path / loaded.device, QUICK)
        assert report.achieved_sparsity == pytest.approx(0.5, abs=1e-3)
        assert {p.device.type for p in model.parameters()} == {loaded.device}
        masks[loaded.device] = torch.cat(
            [m.weight.detach().cpu().flatten() == 0 for m in projection_linears(model).values()]
        )
    agree = (masks["cpu"] == masks["cuda"]).float().mean().item()
    assert agree > 0.99, agree


def test_smollm2_answers_and_perplexity_on_cuda_match_the_cpu(smollm2, wikitext_dir, bbq_dir):
    from bias_gate.answer.engine import answer_items
    from bias_gate.data.bbq import parse_lines

    gpu = load_model(default_model(), device="cuda")
    assert next(gpu.model.parameters()).device.type == "cuda"
    lines = (bbq_dir / "Age.jsonl").read_text(encoding="utf-8").splitlines()
    items = [i for i in parse_lines(lines, "Age.jsonl") if i.is_ambiguous][:40]
    scoring = ScoringSpec(mode="continuation")
    cpu_answers = answer_items(smollm2.model, smollm2.tokenizer, items, scoring)
    gpu_answers = answer_items(gpu.model, gpu.tokenizer, items, scoring)
    same = sum(cpu_answers[k].choice == gpu_answers[k].choice for k in cpu_answers)
    assert same >= 0.95 * len(items), same
    spec = PerplexitySpec(window=256, windows=4)
    cpu_ppl = perplexity(smollm2.model, smollm2.tokenizer, spec, data_dir=wikitext_dir.parent)
    gpu_ppl = perplexity(gpu.model, gpu.tokenizer, spec, data_dir=wikitext_dir.parent)
    assert gpu_ppl.perplexity == pytest.approx(cpu_ppl.perplexity, rel=1e-3)
