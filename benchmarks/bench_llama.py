"""llama.cpp beside the torch engine on the same GGUF file and the same BBQ items.

Run from the repository root (needs ``pip install 'pytest-bias-gate[llama]'``):

    python benchmarks/bench_llama.py --data-dir ../shared/data --type Q8_0 --n 40

Writes the ``gguf`` method's file for ``--type`` from the embedded SmolLM2 GGUF (and the
dense model as F32 GGUF with ``--type F32``), loads it in both runtimes (torch: the file
dequantized by transformers; llama.cpp: the file as it is), answers ``--n`` ambiguous
Age items in each ``--modes`` with both, and prints per mode the items/s of each runtime,
their ratio, and their agreement (share of identical choices, largest log-probability
difference), then the perplexity of each on ``--windows`` windows of 256 tokens. Both
runtimes get the same threads (``--threads``, default all cores).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--type", default="Q8_0", help="a llama.cpp type, or F32 (dense)")
    parser.add_argument("--quantizer", default="auto", choices=["auto", "llama_cpp", "numpy"])
    parser.add_argument("--n", type=int, default=40, help="ambiguous Age items")
    parser.add_argument("--modes", nargs="+", default=["letter", "continuation"])
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--work", type=Path, default=None, help="artifact dir (default cache)")
    return parser.parse_args()


def _write_gguf(type_: str, quantizer: str, work: Path | None) -> Path:
    """The ``gguf`` method's file of ``type_`` from the embedded SmolLM2 GGUF (the dense
    model as F32 GGUF for ``F32``)."""
    from bias_gate.compress import gguf_quant
    from bias_gate.compress.base import CompressionContext
    from bias_gate.config.schema import default_model
    from bias_gate.models.loading import gguf_file

    context = CompressionContext(
        tokenizer=None,
        config_dir=Path.cwd(),
        dense_gguf=gguf_file(default_model()),
        artifact_dir=work,
    )
    if type_ == "F32":
        return gguf_quant.write_dense_gguf(context)
    options = gguf_quant.GGUFOptions(type=type_, quantizer=quantizer)
    return gguf_quant.write_artifact(options, context)


def _compare_answers(loaded: Any, llama: Any, items: list[Any], modes: list[str]) -> None:
    """Per mode: items/s of each runtime, their ratio, and their agreement."""
    from bias_gate.answer.engine import answer_items
    from bias_gate.config.schema import ScoringSpec
    from bias_gate.llama.agreement import agreement

    print(
        f"{'mode':<14}{'torch it/s':>11}{'llama it/s':>11}{'ratio':>7}{'same':>7}{'max dlogp':>11}"
    )
    for mode in modes:
        scoring = ScoringSpec(mode=mode)
        start = time.perf_counter()
        torch_answers = answer_items(loaded.model, loaded.tokenizer, items, scoring)
        torch_rate = len(items) / (time.perf_counter() - start)
        start = time.perf_counter()
        llama_answers = answer_items(llama, loaded.tokenizer, items, scoring)
        llama_rate = len(items) / (time.perf_counter() - start)
        found = agreement(torch_answers, llama_answers)
        diff = "-" if found.max_logprob_diff is None else f"{found.max_logprob_diff:.4f}"
        print(
            f"{mode:<14}{torch_rate:>11.2f}{llama_rate:>11.2f}{llama_rate / torch_rate:>7.2f}"
            f"{found.same_choice:>7.3f}{diff:>11}"
        )


def _compare_perplexity(loaded: Any, llama: Any, windows: int, data_dir: Path) -> None:
    """The perplexity of each runtime on ``windows`` windows of 256 tokens."""
    from bias_gate.config.schema import PerplexitySpec
    from bias_gate.llama.runtime import llama_perplexity
    from bias_gate.models.perplexity import perplexity

    ppl_spec = PerplexitySpec(window=256, windows=windows)
    torch_ppl = perplexity(loaded.model, loaded.tokenizer, ppl_spec, data_dir=data_dir)
    llama_ppl = llama_perplexity(llama, loaded.tokenizer, ppl_spec, data_dir=data_dir)
    print(
        f"perplexity ({windows} x 256): torch {torch_ppl.perplexity:.4f} "
        f"llama.cpp {llama_ppl.perplexity:.4f}"
    )


def main() -> None:
    args = _arguments()

    import torch

    from bias_gate.config.schema import DataSpec, ModelSpec
    from bias_gate.data.loader import load_items
    from bias_gate.llama.runtime import LlamaModel
    from bias_gate.models.loading import load_model

    torch.set_num_threads(args.threads)
    path = _write_gguf(args.type, args.quantizer, args.work)
    print(f"file: {path.name} ({path.stat().st_size} bytes), threads {args.threads}")
    loaded = load_model(ModelSpec(gguf=path), device="cpu")
    llama = LlamaModel(path, generation_config=loaded.model.generation_config, threads=args.threads)
    spec = DataSpec(categories=["Age"], conditions=["ambig"], items_per_category=args.n)
    items = load_items(spec, data_dir=args.data_dir).items
    _compare_answers(loaded, llama, items, args.modes)
    _compare_perplexity(loaded, llama, args.windows, args.data_dir)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
