"""How fast and how small the YAML loader refuses hostile files (issue 26, finding 2).

Run from the repository root:

    python benchmarks/bench_yaml_bounds.py

Writes each hostile file to a temporary folder, loads it with
:func:`bias_gate.config.yaml_source.load_yaml` and prints, per file: its size, the
seconds until the one-line error, the peak Python allocation of a second, traced load
(tracemalloc) and the process's peak RSS afterwards, then the error line itself.
Before the bounds the billion laughs ran past 120 s at 2.57 GB and growing, and a 50 MB
file was parsed for 61 s.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bias_gate.config.yaml_source import load_yaml
from bias_gate.errors import ConfigError
from tests.support.hostile import laughs


def cases() -> dict[str, bytes]:
    return {
        "billion-laughs (9 levels)": laughs(9).encode(),
        "50 MB of comments": b"# padding padding padding padding padding padding pad\n"
        * (50 * 2**20 // 54),
        "1000 aliases": ("a: &a [x]\n" + "".join(f"k{i}: *a\n" for i in range(1000))).encode(),
        "nesting 100,000 deep": b"[" * 100_000,
        "duplicate key": b"model: {}\ncompressions: []\nmodel: {}\n",
        "not UTF-8": b"model:\n  name: caf\xe9\n",
        "examples/smollm2.yaml (valid)": Path("examples/smollm2.yaml").read_bytes()
        if Path("examples/smollm2.yaml").is_file()
        else b"compressions: [{name: a, method: dense}]\n",
    }


def load(path: Path) -> str:
    """``loaded``, or the one-line error."""
    try:
        load_yaml(path)
    except ConfigError as exc:
        return str(exc).replace(str(path), "case.yaml")
    return "loaded"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, body in cases().items():
            path = Path(folder) / "case.yaml"
            path.write_bytes(body)
            start = time.perf_counter()
            outcome = load(path)
            seconds = time.perf_counter() - start
            tracemalloc.start()  # a second load, traced (tracing slows it down)
            load(path)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{name:32s} {len(body):>10d} B  {seconds:7.3f} s  "
                f"peak alloc {peak / 2**20:6.1f} MiB  max RSS {rss:6.0f} MiB"
            )
            print(f"    {outcome}")


if __name__ == "__main__":
    main()
