"""Measure every built-in compression method on SmolLM2-135M-Instruct (CPU).

Prints one row per config: target and achieved sparsity (over all seven projections),
WikiText-2 test perplexity, compression seconds, bytes of a plain safetensors save and
of the bitmask save, and compressed/dense forward latency (median, interleaved).

    BIAS_GATE_DATA_DIR=../shared/data python benchmarks/bench_compression.py --windows 32

Figures are printed, never asserted. Compressed weights are cached (a rerun skips
Wanda); pass --cache-dir to choose where.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from bias_gate.compress.base import CompressionContext
from bias_gate.compress.measure import MeasureSettings
from bias_gate.compress.methods import resolve_method
from bias_gate.compress.pipeline import compress_model
from bias_gate.config.schema import CompressionSpec, PerplexitySpec, default_model
from bias_gate.models.loading import load_model
from bias_gate.models.perplexity import perplexity
from bias_gate.numbers import fmt_as

CONFIGS: list[CompressionSpec] = [
    CompressionSpec(name="dense", method="dense"),
    CompressionSpec(name="random-50", method="random", options={"sparsity": 0.5}),
    CompressionSpec(name="magnitude-50", method="magnitude", options={"sparsity": 0.5}),
    CompressionSpec(name="magnitude-2of4", method="magnitude", options={"pattern": "2:4"}),
    CompressionSpec(name="wanda-50", method="wanda", options={"sparsity": 0.5}),
    CompressionSpec(name="wanda-2of4", method="wanda", options={"pattern": "2:4"}),
    CompressionSpec(
        name="wanda-study-50", method="wanda", options={"sparsity": 0.5, "variant": "study"}
    ),
    CompressionSpec(name="rtn-int8", method="rtn", options={"bits": 8}),
    CompressionSpec(name="rtn-int4-g32", method="rtn", options={"bits": 4, "group_size": 32}),
    CompressionSpec(name="torchao-int8", method="torchao", options={"scheme": "int8_weight_only"}),
    CompressionSpec(
        name="torchao-int4-g32",
        method="torchao",
        options={"scheme": "int4_weight_only", "group_size": 32},
    ),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=32, help="perplexity windows")
    parser.add_argument("--window", type=int, default=512, help="tokens per window")
    parser.add_argument("--only", nargs="*", help="config names to run (default all)")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write rows as JSON")
    args = parser.parse_args()

    data_dir = Path(os.environ.get("BIAS_GATE_DATA_DIR", "../shared/data"))
    start = time.perf_counter()
    dense = load_model(default_model(), device="cpu")
    print(f"loaded {dense.description} in {time.perf_counter() - start:.1f} s")
    context = CompressionContext(
        tokenizer=dense.tokenizer, config_dir=Path.cwd(), data_dir=data_dir
    )
    ppl_spec = PerplexitySpec(window=args.window, windows=args.windows)
    settings = MeasureSettings(latency_tokens=128, latency_repeats=7)

    header = (
        "| config | method | target | achieved | ppl | compress s | dense bytes | "
        "sparse bytes | bitmask saves | latency ratio |"
    )
    rows = [header, "|" + "---|" * 10]
    records = []
    for spec in CONFIGS:
        if args.only and spec.name not in args.only:
            continue
        model, report = compress_model(
            dense, resolve_method(spec), context, args.cache_dir, settings
        )
        ppl = perplexity(model, dense.tokenizer, ppl_spec, data_dir=data_dir)
        row = (
            f"| {spec.name} | {spec.method} | {fmt_as(report.target_sparsity, '.3f')} | "
            f"{fmt_as(report.achieved_sparsity, '.4f')} | {ppl.perplexity:.4g} | "
            f"{report.compress_seconds:.1f}{' (cached)' if report.from_cache else ''} | "
            f"{fmt_as(report.dense_bytes, 'd')} | {fmt_as(report.sparse_bytes, 'd')} | "
            f"{fmt_as(report.sparse_saving, '.1%')} | {fmt_as(report.latency_ratio, '.2f')} |"
        )
        rows.append(row)
        print(row, flush=True)
        record = {**report.to_dict(), "perplexity": ppl.perplexity, "ppl_tokens": ppl.n_tokens}
        records.append(record)
        del model
    print(f"\nperplexity: wikitext2:test, {args.windows} windows x {args.window} tokens")
    print("\n".join(rows))
    if args.json:
        for record in records:
            record.pop("per_layer", None)
        args.json.write_text(json.dumps(records, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
