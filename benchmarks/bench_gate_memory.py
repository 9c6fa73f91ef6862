"""A whole gate run's peak memory on a random Llama, compressing in place and compressing
copies, side by side (issue 27, decision #109).

The model is one of ``bench_scale.py``'s random Llamas (built once under ``--work``; its
answers are meaningless, its memory is not). The config: magnitude 2:4, Wanda 50% (4 x 256
calibration tokens) and rtn int8 on 80 Age items (40 ambiguous in two looks, 40
disambiguated), ``continuation``, perplexity on 2 windows of 512, validity checks off (a
random model answers at chance). Each mode runs ``pytest --bias-gate`` in a process of
its own, from an empty cache, which reports the RSS before the gate starts (Python,
pytest, torch, transformers and bias-gate imported: the fixed cost) and its peak
(``VmHWM``) when the gate is done.

    python benchmarks/bench_gate_memory.py --size 1b     # about 13 minutes per mode on 2 cores
    python benchmarks/bench_gate_memory.py --size 60m    # seconds

Last line: ``gate_peak_over_weights_in_place=<x> gate_peak_over_weights_copies=<y>``:
(peak - fixed) / the dense weights' bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

CONFIG = """\
model:
  path: {model}
  name: random-{size}
data:
  source: official
  categories: [Age]
  items_per_category: 80
compressions:
  - {{name: nm-2-4, method: magnitude, pattern: "2:4"}}
  - name: wanda-50
    method: wanda
    sparsity: 0.5
    calibration: {{samples: 4, seq_len: 256}}
  - {{name: rtn-int8, method: rtn, bits: 8}}
scoring:
  mode: continuation
  batch_size: 16
perplexity:
  corpus: wikitext2:test
  window: 512
  windows: 2
sequential:
  looks: 2
thresholds:
  overrides:
    validity: {{max_disambig_pvalue: 1.0, max_letter_share: 1.0}}
"""

#: Run in the child: import what a gate imports, report the RSS, run the gate, report
#: the peak. ``sys.argv[1:]`` is pytest's command line.
CHILD = f"""
import json, sys
sys.path.insert(0, {str(ROOT / "benchmarks")!r})
import pytest, torch, transformers, bias_gate.plugin
from bench_scale import proc_status
fixed = proc_status("VmRSS")
code = pytest.main(sys.argv[1:])
print(json.dumps({{"fixed_rss": fixed, "peak_rss": proc_status("VmHWM"), "exit": int(code)}}))
"""


def weight_bytes(model_dir: Path) -> int:
    """The dense weights' bytes: the safetensors files' tensor data."""
    from bias_gate.compress.storage import read_header

    total = 0
    for path in model_dir.glob("*.safetensors"):
        with path.open("rb") as handle:
            header, _ = read_header(handle)
        total += sum(
            end - begin
            for name, info in header.items()
            if name != "__metadata__"
            for begin, end in [info["data_offsets"]]
        )
    return total


def run_mode(args: argparse.Namespace, config: Path, in_place: bool) -> dict[str, Any]:
    """One gate run in its own process; its fixed and peak RSS."""
    mode = "in-place" if in_place else "copies"
    cache = args.work / f"gate-{args.size}" / f"cache-{mode}"
    shutil.rmtree(cache, ignore_errors=True)
    command = [
        sys.executable, "-c", CHILD, "--bias-gate", str(config),
        "--bias-gate-cache-dir", str(cache), "--bias-gate-data-dir", str(args.data_dir),
        "--bias-gate-json", str(cache.parent / f"results-{mode}.json"),
        "-p", "no:cacheprovider", "-q",
    ]  # fmt: skip
    env = dict(os.environ, BIAS_GATE_IN_PLACE="1" if in_place else "0")
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    lines = done.stdout.strip().splitlines()
    if not lines or not lines[-1].startswith("{"):
        raise SystemExit(f"the {mode} gate run failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return {"mode": mode, **json.loads(lines[-1])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1b", choices=["60m", "0.5b", "1b"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/bias-gate-bench-scale"))
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    args.work, args.data_dir = args.work.resolve(), args.data_dir.resolve()
    import bench_scale

    model = args.work / f"random-{args.size}"
    args.work.mkdir(parents=True, exist_ok=True)
    bench_scale.build_random(args.size, model)
    config = args.work / f"gate-{args.size}" / "model.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(CONFIG.format(model=model, size=args.size), encoding="utf-8")
    weights = weight_bytes(model)
    figures = {}
    for in_place in (True, False):
        row = run_mode(args, config, in_place)
        over = (row["peak_rss"] - row["fixed_rss"]) / weights
        figures[row["mode"]] = over
        print(f"{row['mode']}: fixed {row['fixed_rss'] / 2**30:.3f} GiB, peak "
              f"{row['peak_rss'] / 2**30:.3f} GiB, (peak - fixed) / weights {over:.3f}, "
              f"pytest exit {row['exit']}")  # fmt: skip
    print(f"gate_peak_over_weights_in_place={figures['in-place']:.3f} "
          f"gate_peak_over_weights_copies={figures['copies']:.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
