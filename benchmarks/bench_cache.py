"""The compressed-weights cache on SmolLM2-135M-Instruct: what each method's entry
costs on disk, and whether reading it beats computing the weights again.

Run from the repository root:

    python benchmarks/bench_cache.py [--cache-dir DIR]

In one process, on the packaged SmolLM2-135M-Instruct (fp32; entries kept in
``--cache-dir``, default a temporary folder): for each of the README demo's methods
(magnitude, random, Wanda at 50% and rtn int8) and rtn int4, compress once with a cold
cache, then read the entry back (best of 3). Prints, per method: compute seconds, read
seconds (``-`` where the cache keeps nothing), the entry's bytes and its ratio to the
fp32 projection weights, and checks that the weights read back are bit-identical to
those computed. The last line is::

    entries_over_dense=<x> recompute_magnitude_s=<y> read_mask_s=<z>

``entries_over_dense``: all stored entries together over the dense model's fp32 size.
``read_mask_s``: reading Wanda's entry (a bitmask over the dense weights), what
magnitude or random would cost if stored the same way.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import torch

from bias_gate.compress.base import CompressionContext
from bias_gate.compress.measure import MeasureSettings
from bias_gate.compress.methods import resolve_method
from bias_gate.compress.pipeline import _load, compress_model
from bias_gate.compress.storage import model_tensors
from bias_gate.compress.targets import projection_linears
from bias_gate.compress.weight_store import same_bits
from bias_gate.config.schema import CompressionSpec, default_model
from bias_gate.models.loading import load_model

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
METHODS = [
    ("magnitude-50", "magnitude", {"sparsity": 0.5}),
    ("random-50", "random", {"sparsity": 0.5}),
    ("wanda-50", "wanda", {"sparsity": 0.5}),
    ("int8", "rtn", {"bits": 8}),
    ("int4", "rtn", {"bits": 4}),
]
QUICK = MeasureSettings(sizes=False, latency=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=None)
    args = parser.parse_args()
    root = args.cache_dir or Path(tempfile.mkdtemp(prefix="bench-cache-"))
    torch.set_num_threads(max(1, torch.get_num_threads()))
    dense = load_model(default_model(), device="cpu", cache_dir=root)
    dense_bytes = sum(t.numel() * t.element_size() for t in model_tensors(dense.model).values())
    projections = sum(m.weight.numel() * 4 for m in projection_linears(dense.model).values())
    context = CompressionContext(
        tokenizer=dense.tokenizer, config_dir=ROOT, data_dir=DATA if DATA.is_dir() else None
    )
    print(f"dense fp32 weights {dense_bytes} bytes; projections {projections} bytes")
    print(f"{'config':14} {'compute s':>10} {'read s':>8} {'entry bytes':>12} {'/proj':>7}")
    stored = 0
    figures: dict[str, float] = {}
    for name, method, options in METHODS:
        spec = resolve_method(CompressionSpec(name=name, method=method, options=options))
        folder = root / "compressed" / name
        made, report = compress_model(dense, spec, context, folder, QUICK)
        compute = report.compress_seconds  # the compressor's own time, no copy
        entry = sum(p.stat().st_size for p in folder.glob("*")) if folder.is_dir() else 0
        stored += entry
        read = "-"
        if report.cache_key is not None:
            times = []
            for _ in range(3):
                target = copy.deepcopy(dense.model)
                start = time.perf_counter()
                _load(folder, report.cache_key, target, dense.model)
                times.append(time.perf_counter() - start)
            mine, theirs = target.state_dict(), made.state_dict()
            assert all(same_bits(t, theirs[k]) for k, t in mine.items()), name
            read = f"{min(times):.2f}"
            figures[f"read_{method}"] = min(times)
        figures[f"compute_{method}"] = compute
        print(f"{name:14} {compute:10.2f} {read:>8} {entry:12d} {entry / projections:7.3f}")
        del made
    print(
        f"entries_over_dense={stored / dense_bytes:.3f} "
        f"recompute_magnitude_s={figures['compute_magnitude']:.2f} "
        f"read_mask_s={figures.get('read_wanda', float('nan')):.2f}"
    )


if __name__ == "__main__":
    main()
