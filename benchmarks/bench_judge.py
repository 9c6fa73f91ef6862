"""Judge benchmark: ``bias-gate compare`` on many configs, answers generated.

Writes a dense answer file and a compressed one with ``--configs`` configs (default 900)
answering the same ``--items`` items (default 600, the first of one category, Age) of
the official BBQ file, then runs the command's own ``compare`` (reading, validity, one
look per config x category, the score bounds for the report) and times it. Answers are
drawn with a fixed seed: the dense model answers correctly (the labelled option) 70% of
the time and at random otherwise; each config keeps its answer or, with a
config-specific probability from 0 to 0.3, replaces it by a random one.

    python benchmarks/bench_judge.py --data-dir ../shared/data

``--jobs`` is passed on to compare (default ``auto``: both cores of a 2-core machine).
Prints the wall and CPU seconds (the judging processes' included), the verdict counts,
then one line:

    judge_configs_per_s=...

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bias_gate.commands.compare import compare, configure  # noqa: E402
from bias_gate.commands.compare_jobs import usable_cores  # noqa: E402


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")


def _answers(
    bbq: Path, category: str, items: int, configs: int, seed: int, folder: Path
) -> tuple[Path, Path]:
    lines = (bbq / f"{category}.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines[:items]]
    ids = [record["example_id"] for record in records]
    rng = np.random.default_rng(seed)
    right = np.array([record["label"] for record in records])
    dense = np.where(rng.random(len(ids)) < 0.7, right, rng.integers(0, 3, size=len(ids)))
    _write(
        folder / "dense.jsonl",
        [
            {"category": category, "example_id": i, "answer": int(a)}
            for i, a in zip(ids, dense, strict=True)
        ],
    )
    rows: list[dict[str, object]] = []
    for config in range(configs):
        change = rng.random(len(ids)) < 0.3 * config / max(configs - 1, 1)
        answers = np.where(change, rng.integers(0, 3, size=len(ids)), dense)
        rows.extend(
            {"category": category, "example_id": i, "answer": int(a), "config": f"c{config}"}
            for i, a in zip(ids, answers, strict=True)
        )
    _write(folder / "compressed.jsonl", rows)
    return folder / "dense.jsonl", folder / "compressed.jsonl"


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its finished child processes (the judging
    processes of ``--jobs``)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--configs", type=int, default=900)
    parser.add_argument("--items", type=int, default=600)
    parser.add_argument("--category", default="Age")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--jobs", default="auto", help="compare's --jobs (default auto)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        dense, compressed = _answers(
            args.data_dir / "bbq", args.category, args.items, args.configs, args.seed, Path(tmp)
        )
        # The command's own parser, so every option it has gets its default.
        command = argparse.ArgumentParser()
        configure(command)
        source = str(args.data_dir / "bbq")
        arguments = ["--source", source, "--dense", str(dense), "--compressed", str(compressed)]
        namespace = command.parse_args([*arguments, "--jobs", args.jobs])
        wall, cpu = time.perf_counter(), _cpu_seconds()
        results = compare(namespace)
        wall, cpu = time.perf_counter() - wall, _cpu_seconds() - cpu
    verdicts = Counter(item.verdict for config in results.configs for item in config.items)
    tables = sum(len(config.items) for config in results.configs)
    print(f"configs={args.configs} items={args.items} category={args.category} tables={tables}")
    print(f"jobs={args.jobs} cores={usable_cores()}")
    print(f"wall_s={wall:.1f} cpu_s={cpu:.1f} verdicts={dict(sorted(verdicts.items()))}")
    print(f"judge_configs_per_s={args.configs / wall:.1f}")


if __name__ == "__main__":
    main()
