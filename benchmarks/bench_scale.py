"""How time, memory and cache grow with the model: SmolLM2-135M and random Llamas.

For each model size, every stage runs in its own child process (so each peak RSS is
that stage's alone) and prints one JSON line; the parent prints a table per model:

- ``load``: the dense model loaded as the gate loads it (``load_model``);
- ``compress:<config>``: load, then ``compress_model`` as the gate calls it (in place
  where the weights are mapped from their file, decision #109), then a config's life in
  the gate: the compressed model answers 4 items, the dense one (restored from the file)
  answers them, the compressed one (re-applied from the cache) answers again; for
  magnitude 2:4, Wanda 50% with calibration, rtn int8 and int4 (group 64: SmolLM2 is 576
  wide), and gguf Q8_0 (SmolLM2 only: the method writes its file from the model's GGUF,
  which the random models lack; it loads its own model, beside the dense one);
- ``perplexity``: the dense model's perplexity on a fixed token budget;
- ``answer``: the dense model answering 100 ambiguous Age items in ``continuation``.

Each stage reports wall seconds, the RSS before the model (Python, torch, transformers
and bias-gate imported: the runtime's fixed cost), the stage's peak RSS (``VmHWM``) and
the bytes its run added to the cache folder. The random models (configs shaped like
public small Llamas, SmolLM2's tokenizer and vocabulary, weights drawn locally with a
fixed seed, nothing downloaded) are built once under ``--work``; their answers are
meaningless, their memory and time are not.

    python benchmarks/bench_scale.py --data-dir ../shared/data --sizes smollm2 0.5b 1b
    python benchmarks/bench_scale.py --quick      # smollm2 and a 60M random Llama, small budgets

Last line, for the largest size run (1b when it is run):
``peak_rss_over_weights=<x> cache_over_weights=<y> seconds_per_billion_params=<z>``:
x = the largest stage peak minus the fixed cost, over the dense weights in the run's
dtype; y = the bytes all stages added to the cache, over the dense weights;
z = the wall seconds of all stages over the billions of parameters.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: Llama shapes (hidden, intermediate, layers, heads, kv heads) with SmolLM2's
#: 49152-token vocabulary and tied embeddings. ``1b``: Llama-3.2-1B's shape (1.07 B
#: parameters with this vocabulary); ``0.5b``: TinyLlama's width ratio at 1024 wide
#: (0.53 B); ``60m``: for ``--quick``.
SHAPES: dict[str, tuple[int, int, int, int, int]] = {
    "60m": (256, 1024, 4, 8, 2),
    "0.5b": (1024, 5632, 24, 16, 4),
    "1b": (2048, 8192, 16, 32, 8),
}

CONFIGS: list[dict[str, Any]] = [
    {"name": "nm-2-4", "method": "magnitude", "options": {"sparsity": 0.5, "pattern": "2:4"}},
    {"name": "wanda-50", "method": "wanda", "options": {"sparsity": 0.5}},
    {"name": "rtn-int8", "method": "rtn", "options": {"bits": 8}},
    {"name": "rtn-int4-g64", "method": "rtn", "options": {"bits": 4, "group_size": 64}},
    {"name": "q8-gguf", "method": "gguf", "options": {"type": "Q8_0"}},
]


def proc_status(field: str) -> int:
    """A ``/proc/self/status`` memory figure (``VmRSS``, ``VmHWM``) in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def build_random(size: str, folder: Path) -> None:
    """A random Llama of ``size`` saved as safetensors in ``folder`` (once, seed 0)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    if (folder / "config.json").is_file():
        return
    hidden, inter, layers, heads, kv = SHAPES[size]
    tokenizer = AutoTokenizer.from_pretrained(smollm2_tokenizer_dir(folder.parent))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=inter,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)


def smollm2_tokenizer_dir(work: Path) -> str:
    """SmolLM2's tokenizer, read from the packaged GGUF and saved in ``work`` (once): the
    random models' tokenizer."""
    from transformers import AutoTokenizer

    from bias_gate.config.schema import default_model
    from bias_gate.models.loading import gguf_file

    folder = work / "smollm2-tokenizer"
    if not (folder / "tokenizer_config.json").is_file():
        path = gguf_file(default_model())
        assert path is not None
        tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        tokenizer.save_pretrained(folder)
    return str(folder)


def model_spec(size: str, work: Path, dtype: str, device: str) -> Any:
    from bias_gate.config.schema import ModelSpec, default_model

    if size == "smollm2":
        return default_model().model_copy(update={"dtype": dtype, "device": device})
    return ModelSpec(path=work / f"random-{size}", dtype=dtype, device=device)


def run_stage(args: argparse.Namespace) -> dict[str, Any]:
    """One stage in this (child) process; returns its figures."""
    import torch

    from bias_gate.models.loading import load_model

    torch.manual_seed(0)
    fixed = proc_status("VmRSS")
    cache = args.work / f"cache-{args.size}"
    before = folder_bytes(cache) if cache.is_dir() else 0
    start = time.perf_counter()
    spec = model_spec(args.size, args.work, args.dtype, args.device)
    attach = None
    if args.stage.startswith("compress:"):
        from bias_gate.compress.in_place import attach_loaded as attach
    loaded = load_model(spec, cache_dir=cache, on_loaded=attach)  # as the gate does
    extra: dict[str, Any] = {
        "params": sum(p.numel() for p in loaded.model.parameters()),
        "weight_bytes": sum(p.numel() * p.element_size() for p in loaded.model.parameters()),
        "load_seconds": time.perf_counter() - start,
    }
    if args.stage.startswith("compress:"):
        extra.update(stage_compress(args, spec, loaded, cache))
    elif args.stage == "perplexity":
        extra.update(stage_perplexity(args, loaded))
    elif args.stage == "answer":
        extra.update(stage_answer(args, loaded))
    if loaded.device == "cuda":
        extra["cuda_peak_bytes"] = torch.cuda.max_memory_allocated()
    return {
        "stage": args.stage,
        "seconds": time.perf_counter() - start,
        "fixed_rss": fixed,
        "peak_rss": proc_status("VmHWM"),
        "cache_bytes": folder_bytes(cache) - before,
        **extra,
    }


def stage_compress(args: argparse.Namespace, spec: Any, loaded: Any, cache: Path) -> dict:
    from bias_gate.compress.base import CompressionContext
    from bias_gate.compress.measure import MeasureSettings
    from bias_gate.compress.methods import resolve_method
    from bias_gate.compress.pipeline import compress_model
    from bias_gate.config.schema import CompressionSpec
    from bias_gate.models.loading import gguf_file

    name = args.stage.split(":", 1)[1]
    config = next(c for c in CONFIGS if c["name"] == name)
    options = dict(config["options"])
    if config["method"] == "wanda":
        options["calibration"] = {"samples": args.calibration_samples, "seq_len": 256}
    method = resolve_method(CompressionSpec(name=name, method=config["method"], options=options))
    context = CompressionContext(
        tokenizer=loaded.tokenizer,
        config_dir=Path.cwd(),
        data_dir=args.data_dir,
        device=loaded.device,
        dense_gguf=gguf_file(spec),
        artifact_dir=cache / "artifacts",
        cache_dir=cache,
    )
    settings = MeasureSettings(sizes=False, latency=False)
    model, report = compress_model(
        loaded, method, context, cache / "compressed", settings, in_place=True
    )
    figures = {
        "compress_seconds": report.compress_seconds,
        "shared_parameters": shared_parameters(loaded.model, model),
        "in_place": loaded.in_place is not None and model is loaded.model,
        "in_place_reason": loaded.in_place_reason,
    }
    if figures["in_place"]:
        figures.update(switch_states(args, loaded, report.compression))
    return figures


def switch_states(args: argparse.Namespace, loaded: Any, compression: dict) -> dict[str, Any]:
    """A config's life in the gate after compressing in place: the compressed model
    answers, the dense one answers (weights restored from the file), the compressed one
    answers again (weights re-applied from the cache entry); the switches are timed."""
    from bias_gate.identity import NO_COMPRESSION

    weights, items = loaded.in_place, age_items(args)[:4]
    answer(loaded, items)
    started = time.perf_counter()
    weights.use(NO_COMPRESSION)
    restore = time.perf_counter() - started
    answer(loaded, items)
    started = time.perf_counter()
    weights.use(compression)
    reapply = time.perf_counter() - started
    answer(loaded, items)
    return {"restore_seconds": restore, "reapply_seconds": reapply}


def age_items(args: argparse.Namespace) -> list[Any]:
    """The ambiguous Age items, in file order."""
    from bias_gate.data.bbq import parse_lines

    lines = (args.data_dir / "bbq" / "Age.jsonl").read_text(encoding="utf-8").splitlines()
    return [i for i in parse_lines(lines, "Age.jsonl") if i.is_ambiguous]


def answer(loaded: Any, items: list[Any]) -> dict[str, Any]:
    from bias_gate.answer.engine import answer_items
    from bias_gate.config.schema import ScoringSpec

    return answer_items(loaded.model, loaded.tokenizer, items, ScoringSpec(mode="continuation"))


def shared_parameters(dense: Any, compressed: Any) -> int:
    """How many parameter elements the compressed model shares with the dense one."""
    mine = {p.data_ptr() for p in dense.parameters()}
    return sum(p.numel() for p in compressed.parameters() if p.data_ptr() in mine)


def stage_perplexity(args: argparse.Namespace, loaded: Any) -> dict[str, Any]:
    from bias_gate.config.schema import PerplexitySpec
    from bias_gate.models.perplexity import perplexity

    spec = PerplexitySpec(window=512, windows=args.ppl_windows)
    result = perplexity(loaded.model, loaded.tokenizer, spec, data_dir=args.data_dir)
    return {"perplexity": result.perplexity, "ppl_tokens": result.n_tokens}


def stage_answer(args: argparse.Namespace, loaded: Any) -> dict[str, Any]:
    items = age_items(args)[: args.items]
    started = time.perf_counter()
    answers = answer(loaded, items)
    return {"items": len(answers), "answer_seconds": time.perf_counter() - started}


def dtype_agreement(args: argparse.Namespace) -> None:
    """SmolLM2 in float32 and in ``args.dtype``: the same 100 ambiguous and 100
    disambiguated Age items in ``continuation`` (share of equal choices) and the
    perplexity on the fixed token budget, each timed."""
    from bias_gate.answer.engine import answer_items
    from bias_gate.config.schema import PerplexitySpec, ScoringSpec
    from bias_gate.data.bbq import parse_lines
    from bias_gate.models.loading import load_model
    from bias_gate.models.perplexity import perplexity

    lines = (args.data_dir / "bbq" / "Age.jsonl").read_text(encoding="utf-8").splitlines()
    parsed = parse_lines(lines, "Age.jsonl")
    items = [i for i in parsed if i.is_ambiguous][: args.items]
    items += [i for i in parsed if not i.is_ambiguous][: args.items]
    ppl_spec = PerplexitySpec(window=512, windows=args.ppl_windows)
    runs = {}
    for dtype in ("float32", args.dtype):
        spec = model_spec("smollm2", args.work, dtype, args.device)
        loaded = load_model(spec, cache_dir=args.work / "cache-agreement")
        start = time.perf_counter()
        answers = answer_items(
            loaded.model, loaded.tokenizer, items, ScoringSpec(mode="continuation")
        )
        answer_s = time.perf_counter() - start
        ppl = perplexity(loaded.model, loaded.tokenizer, ppl_spec, data_dir=args.data_dir)
        runs[dtype] = (answers, answer_s, ppl.perplexity)
        print(f"{dtype}: {len(items)} items in {answer_s:.1f} s, perplexity {ppl.perplexity:.4f}")
    (base, _, base_ppl), (other, _, other_ppl) = runs["float32"], runs[args.dtype]
    same = sum(base[k].choice == other[k].choice for k in base)
    print(f"agreement_{args.dtype}_vs_float32={same / len(base):.3f} ({same}/{len(base)}) "
          f"perplexity_ratio={other_ppl / base_ppl:.4f}")  # fmt: skip


def stages(size: str) -> list[str]:
    names = [c["name"] for c in CONFIGS if c["method"] != "gguf" or size == "smollm2"]
    return ["load", *(f"compress:{n}" for n in names), "perplexity", "answer"]


def child(args: argparse.Namespace, size: str, stage: str) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--stage",
        stage,
        "--size",
        size,
        *forwarded(args),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"stage {stage} of {size} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def forwarded(args: argparse.Namespace) -> list[str]:
    return [
        "--work", str(args.work), "--data-dir", str(args.data_dir), "--dtype", args.dtype,
        "--device", args.device, "--items", str(args.items),
        "--ppl-windows", str(args.ppl_windows),
        "--calibration-samples", str(args.calibration_samples),
    ]  # fmt: skip


def in_place(row: dict[str, Any]) -> str:
    """A compress stage's in-place figures: the switch times, or why it copied."""
    if "in_place" not in row:
        return "-"
    if not row["in_place"]:
        return f"no: {row['in_place_reason'] or 'a copy'}"
    return f"yes ({row['restore_seconds']:.2f} / {row['reapply_seconds']:.2f})"


def gib(n: float) -> str:
    return f"{n / 2**30:.3f}"


def run_size(args: argparse.Namespace, size: str) -> dict[str, float]:
    """Every stage of one model; prints the table and returns the summary figures."""
    if size != "smollm2":
        script = _BUILD.format(root=str(ROOT), size=size, work=str(args.work))
        build = [sys.executable, "-c", script]
        subprocess.run(build, check=True)
    shutil.rmtree(args.work / f"cache-{size}", ignore_errors=True)  # a first run's costs
    rows = [child(args, size, stage) for stage in stages(size)]
    weights, params = rows[0]["weight_bytes"], rows[0]["params"]
    fixed = max(r["fixed_rss"] for r in rows)
    print(f"\n## {size}: {params / 1e9:.3f} B parameters, {gib(weights)} GiB of {args.dtype} "
          f"weights, runtime fixed cost {gib(fixed)} GiB RSS")  # fmt: skip
    print("| stage | wall s | of which stage s | peak RSS GiB | (peak - fixed) / weights "
          "| cache bytes | CUDA peak GiB | in place (restore / re-apply s) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        own = r.get("compress_seconds", r.get("answer_seconds", r["seconds"] - r["load_seconds"]))
        over = (r["peak_rss"] - r["fixed_rss"]) / weights
        cuda = gib(r["cuda_peak_bytes"]) if "cuda_peak_bytes" in r else "-"
        print(f"| {r['stage']} | {r['seconds']:.1f} | {own:.1f} | {gib(r['peak_rss'])} | "
              f"{over:.2f} | {r['cache_bytes']} | {cuda} | {in_place(r)} |")  # fmt: skip
    print(json.dumps({"size": size, "rows": rows}))
    return {
        "peak_rss_over_weights": max((r["peak_rss"] - r["fixed_rss"]) / weights for r in rows),
        "cache_over_weights": sum(r["cache_bytes"] for r in rows) / weights,
        "seconds_per_billion_params": sum(r["seconds"] for r in rows) / (params / 1e9),
    }


_BUILD = (
    "import sys; sys.path.insert(0, {root!r}); sys.path.insert(0, {root!r} + '/benchmarks');"
    "from pathlib import Path; import bench_scale as b;"
    "b.build_random({size!r}, Path({work!r}) / 'random-{size}')"
)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=["smollm2", "0.5b", "1b"],
                        choices=["smollm2", *SHAPES])  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="smollm2 + 60m, small budgets")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bias-gate-bench-scale"))
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--ppl-windows", type=int, default=16, help="windows of 512 tokens")
    parser.add_argument("--calibration-samples", type=int, default=32, help="x 256 tokens")
    parser.add_argument("--agreement", action="store_true",
                        help="only SmolLM2's answers in --dtype against float32")  # fmt: skip
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--size", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.work, args.data_dir = args.work.resolve(), args.data_dir.resolve()
    if args.quick:
        args.sizes, args.items, args.ppl_windows, args.calibration_samples = (
            ["smollm2", "60m"], 20, 2, 4,
        )  # fmt: skip
    return args


def main() -> int:
    args = parse()
    if args.stage:
        print(json.dumps(run_stage(args)))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    if args.agreement:
        dtype_agreement(args)
        return 0
    print(f"torch threads {os.environ.get('OMP_NUM_THREADS', 'default')}, dtype {args.dtype}, "
          f"device {args.device}, {args.items} items, {args.ppl_windows} x 512 perplexity tokens, "
          f"{args.calibration_samples} x 256 calibration tokens")  # fmt: skip
    summary: dict[str, float] = {}
    for size in args.sizes:
        summary = run_size(args, size)
    print(" ".join(f"{k}={v:.3f}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
