"""Answering speed on SmolLM2-135M-Instruct: the 2026 study's loop vs the engine's modes.

Run from the repository root:

    python benchmarks/bench_answering.py --n 200

Measures, in one process: the fp32 GEMM rate of this machine (torch.mm), the study's
generate loop (chat prompt, ``model.generate`` one item at a time, T=0.3, 5 seeds, 5 new
tokens) on a subset and extrapolated, then ``letter``, ``permuted``, ``continuation`` and
greedy ``generate`` through :func:`bias_gate.answer.engine.answer_items` on N ambiguous
Age items. Prints items/s, the ratio of each to the study loop, the fraction of the FLOP
ceiling, the agreement of ``letter`` with greedy generation, the peak RSS against the
model's fp32 size and the machine load. The last line is::

    ratio_vs_generate=<x> permuted_items_per_s=<y> ceiling_fraction=<z>

FLOP ceiling: one forward pass per item over its whole letter-mode prompt costs
2 x (non-embedding parameters) x (prompt tokens) FLOPs (attention scores and the output
head left out, as in the team's 19 GFLOP figure); the ceiling is the measured GEMM rate
divided by that, in items/s. A mode's ``ceiling_fraction`` is its items/s over that
one-pass ceiling. ``work_fraction`` also counts the passes a mode stands for (3 prompts
for ``permuted``, 3 prompt+answer texts for ``continuation``): above 1 means the prefix
cache saved more than the kernels lost.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BBQ = ROOT.parent / "shared" / "data" / "bbq"
SEEDS = [0, 1, 2, 3, 4]  # the study's five sampling seeds


@dataclass
class Timing:
    name: str
    items: int
    seconds: float
    note: str = ""

    @property
    def items_per_s(self) -> float:
        return self.items / self.seconds


def gemm_rate(seconds: float = 3.0) -> float:
    """Best fp32 torch.mm rate over square sizes 1024-2048, in FLOP/s."""
    import torch

    best = 0.0
    for size in (1024, 1536, 2048):
        a = torch.randn(size, size)
        b = torch.randn(size, size)
        torch.mm(a, b)
        reps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 3:
            torch.mm(a, b)
            reps += 1
        best = max(best, reps * 2 * size**3 / (time.perf_counter() - start))
    return best


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter of this process (Linux); False if unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> tuple[int, int | None]:
    """(peak RSS over the whole process, peak since the last reset or None)."""
    whole = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    since = None
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                since = int(line.split()[1]) * 1024
    except OSError:
        pass
    return whole, since


def rss_bytes() -> int:
    """The current RSS of this process (Linux; 0 where unknown)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def study_loop(model, tokenizer, items, spec, seeds, temperature, max_new_tokens) -> float:
    """The study's loop: one item at a time, chat prompt, generate per seed. Seconds."""
    import torch

    from bias_gate.answer.prompts import prompt_text

    start = time.perf_counter()
    for item in items:
        text = prompt_text(item, spec, tokenizer)
        ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)
        for seed in seeds:
            torch.manual_seed(seed)
            with torch.inference_mode():
                model.generate(
                    **ids,
                    do_sample=temperature > 0,
                    temperature=temperature if temperature > 0 else None,
                    max_new_tokens=max_new_tokens,
                    pad_token_id=tokenizer.pad_token_id,
                )
    return time.perf_counter() - start


def packed_tokens(tok, items, scoring) -> tuple[float, float]:
    """(tokens per item after the run prefix as prompts, tokens per item the packed
    scorer computes), batching and packing as :func:`answer_items` does."""
    from bias_gate.answer.context import ModeContext
    from bias_gate.answer.engine import run_prefix
    from bias_gate.answer.modes import MODES
    from bias_gate.answer.packing import pack
    from bias_gate.answer.scorer import ROW_TOKENS

    ctx = ModeContext(tokenizer=tok, scoring=scoring)
    variants = [MODES[scoring.mode].variants(ctx, item) for item in items]
    p0 = len(run_prefix(variants))
    order = sorted(range(len(items)), key=lambda i: variants[i][0].ids)
    nodes = 0
    for start in range(0, len(order), scoring.batch_size):
        groups = [
            [v.ids[p0:] for v in variants[i]] for i in order[start : start + scoring.batch_size]
        ]
        rows, _ = pack(groups, min(ROW_TOKENS, scoring.max_batch_tokens))
        nodes += sum(len(row) for row in rows)
    prompts = sum(len(v.ids) - p0 for group in variants for v in group)
    return prompts / len(items), nodes / len(items)


@dataclass
class Setup:
    """The model, the items and the figures every step reads."""

    torch: Any
    model: Any
    tok: Any
    lines: list[str]
    items: list[Any]
    base: Any
    tokens: list[int]
    mean_tokens: float
    ceiling: float
    params: int
    fp32_bytes: int
    rss_before_model: int


@dataclass
class ModeRuns:
    """What answering every mode gave: timings, answers and memory."""

    timings: list[Timing]
    answers: dict[str, Any]
    peaks: dict[str, int | None]
    rss_ready: int
    peak_before: int


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="ambiguous Age items (default 200)")
    parser.add_argument("--study-n", type=int, default=10, help="items for the study loop")
    parser.add_argument(
        "--validity-n", type=int, default=100, help="disambiguated items for the validity check"
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--max-batch-tokens", type=int, default=1024, help="tokens per forward pass"
    )
    parser.add_argument("--bbq", type=Path, default=DEFAULT_BBQ)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    return parser.parse_args(argv)


def set_up(args: argparse.Namespace) -> Setup:
    """Load the model and the items; print the GEMM rate and the one-pass ceiling."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from bias_gate.answer.prompts import encode, prompt_text
    from bias_gate.config.schema import ScoringSpec, default_model
    from bias_gate.data.bbq import parse_lines
    from bias_gate.models.loading import load_model

    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, cpus {os.cpu_count()}")
    rate = gemm_rate()
    print(f"fp32 GEMM rate (torch.mm 1024-2048, best): {rate / 1e9:.1f} GFLOP/s")

    rss_before_model = rss_bytes()
    t = time.perf_counter()
    loaded = load_model(default_model(), device="cpu")
    model, tok = loaded.model, loaded.tokenizer
    print(f"model loaded in {time.perf_counter() - t:.1f} s")
    params = sum(p.numel() for p in model.parameters())
    embed = model.get_input_embeddings().weight.numel()

    lines = (args.bbq / "Age.jsonl").read_text(encoding="utf-8").splitlines()
    ambiguous = [i for i in parse_lines(lines, "Age.jsonl") if i.is_ambiguous]
    items = ambiguous[: args.n]
    base = ScoringSpec(batch_size=args.batch_size, max_batch_tokens=args.max_batch_tokens)
    tokens = [len(encode(tok, prompt_text(i, base.prompt, tok))) for i in items]
    mean_tokens = statistics.mean(tokens)
    flop_per_item = 2 * (params - embed) * mean_tokens
    ceiling = rate / flop_per_item
    print(
        f"{len(items)} ambiguous Age items, chat prompt {mean_tokens:.1f} tokens on average: "
        f"{flop_per_item / 1e9:.1f} GFLOP per forward pass, ceiling {ceiling:.2f} items/s"
    )
    return Setup(
        torch=torch,
        model=model,
        tok=tok,
        lines=lines,
        items=items,
        base=base,
        tokens=tokens,
        mean_tokens=mean_tokens,
        ceiling=ceiling,
        params=params,
        fp32_bytes=params * 4,
        rss_before_model=rss_before_model,
    )


def time_study(setup: Setup, study_n: int) -> Timing:
    """The study's generate loop on the first ``study_n`` items (after a warm-up)."""
    study_items = setup.items[:study_n]
    prompt = setup.base.prompt
    study_loop(setup.model, setup.tok, setup.items[:1], prompt, [0], 0.3, 5)  # warm-up
    seconds = study_loop(setup.model, setup.tok, study_items, prompt, SEEDS, 0.3, 5)
    study = Timing(
        "study loop",
        len(study_items),
        seconds,
        f"T=0.3, 5 seeds, {len(study_items)} items, extrapolated",
    )
    print(f"  study loop: {study.items_per_s:.3f} items/s ({seconds:.1f} s)", flush=True)
    return study


def scoring_modes(base: Any) -> dict[str, Any]:
    """The engine's modes to time, by the name printed."""
    from bias_gate.config.schema import GenerateSpec

    return {
        "letter": base.model_copy(update={"mode": "letter"}),
        "permuted": base.model_copy(update={"mode": "permuted"}),
        "continuation": base.model_copy(update={"mode": "continuation"}),
        "generate (greedy, engine)": base.model_copy(
            update={"mode": "generate", "generate": GenerateSpec(temperature=0.0, seeds=[0])}
        ),
        # The study's own setting, through the engine: one prefill per item for 5 seeds.
        "generate (T=0.3, 5 seeds, engine)": base.model_copy(
            update={
                "mode": "generate",
                "generate": GenerateSpec(temperature=0.3, seeds=SEEDS, max_new_tokens=5),
            }
        ),
    }


def time_modes(setup: Setup, modes: dict[str, Any]) -> ModeRuns:
    """Answer the items in every mode (after a warm-up), with each mode's peak RSS."""
    from bias_gate.answer.engine import answer_items

    answer_items(setup.model, setup.tok, setup.items[:2], modes["letter"])  # warm-up
    rss_ready = rss_bytes()
    # Resetting the peak counter also resets ru_maxrss: keep the peak so far first.
    runs = ModeRuns([], {}, {}, rss_ready, peak_rss_bytes()[0])
    for name, scoring in modes.items():
        reset_peak_rss()
        start = time.perf_counter()
        runs.answers[name] = answer_items(setup.model, setup.tok, setup.items, scoring)
        runs.timings.append(Timing(name, len(setup.items), time.perf_counter() - start))
        runs.peaks[name] = peak_rss_bytes()[1]
        print(f"  {name}: {runs.timings[-1].items_per_s:.3f} items/s", flush=True)
    return runs


def print_rates(setup: Setup, timings: list[Timing], modes: dict[str, Any]) -> None:
    """items/s of each mode against the study loop and the ceiling; packed tokens."""
    from bias_gate.answer.prompts import encode

    study = timings[0]
    work = {"letter": 1.0, "permuted": 3.0}
    cont_tokens = [
        sum(len(encode(setup.tok, a)) for a in i.answers) + 3 * n
        for i, n in zip(setup.items, setup.tokens, strict=True)
    ]
    work["continuation"] = statistics.mean(cont_tokens) / setup.mean_tokens
    print()
    print(
        f"{'mode':28} {'items/s':>9} {'x study':>8} {'ceiling_fraction':>17} {'work_fraction':>14}"
    )
    for timing in timings:
        ratio = timing.items_per_s / study.items_per_s
        ceil_fraction = timing.items_per_s / setup.ceiling
        work_fraction = ceil_fraction * work.get(timing.name, 1.0)
        print(
            f"{timing.name:28} {timing.items_per_s:9.3f} {ratio:8.1f} {ceil_fraction:17.3f} "
            f"{work_fraction:14.3f}  {timing.note}"
        )
    print()
    for name in ("letter", "permuted", "continuation"):
        prompts, computed = packed_tokens(setup.tok, setup.items, modes[name])
        print(
            f"{name}: {prompts:.1f} prompt tokens per item after the run prefix, "
            f"{computed:.1f} computed once packed"
        )


def print_choices(setup: Setup, answers: dict[str, Any]) -> None:
    """letter vs greedy generation, and each mode's option and letter shares."""
    items = setup.items
    letter = answers["letter"]
    greedy = answers["generate (greedy, engine)"]
    valid = [k for k in letter if greedy[k].choice is not None]
    agree = sum(1 for k in valid if greedy[k].choice == letter[k].choice)
    print()
    print(
        f"letter vs greedy generation: agree on {agree}/{len(valid)} items with a parseable "
        f"generation ({agree / max(1, len(valid)):.1%}); "
        f"{len(letter) - len(valid)} generations unparseable"
    )
    for name in ("letter", "permuted", "continuation"):
        chosen = answers[name]
        shares = [sum(1 for a in chosen.values() if a.choice == o) / len(chosen) for o in range(3)]
        biased = [i for i in items if i.biased_index is not None]
        rates = {
            "biased": sum(1 for i in biased if chosen[i.key].choice == i.biased_index)
            / max(1, len(biased)),
            "unknown": sum(1 for i in items if chosen[i.key].choice == i.unknown_index)
            / len(items),
        }
        votes = [v for a in chosen.values() for v in a.position_votes]
        letter_share = [votes.count(p) / len(votes) for p in range(3)]
        print(
            f"{name:13} option shares {[f'{s:.2f}' for s in shares]}, letter wins "
            f"A/B/C {[f'{s:.2f}' for s in letter_share]}, biased {rates['biased']:.2f}, "
            f"unknown {rates['unknown']:.2f}"
        )


def print_validity(
    setup: Setup, validity_n: int, modes: dict[str, Any], answers: dict[str, Any]
) -> None:
    """The dense model's validity in letter and permuted mode (ambiguous answers reused)."""
    from bias_gate.answer.engine import answer_items
    from bias_gate.data.bbq import parse_lines
    from bias_gate.judge.thresholds import ValidityThresholds
    from bias_gate.judge.validity import validity

    print()
    disambiguated = [i for i in parse_lines(setup.lines, "Age.jsonl") if not i.is_ambiguous][
        :validity_n
    ]
    for name in ("letter", "permuted"):
        scoring = modes[name]
        both = setup.items + disambiguated
        found = {**answers[name], **answer_items(setup.model, setup.tok, disambiguated, scoring)}
        diag = validity(both, found)
        informative, reasons = diag.assess(ValidityThresholds())
        print(
            f"validity ({name}, {len(setup.items)} ambiguous + {len(disambiguated)} "
            f"disambiguated): disambiguated accuracy {diag.disambig_accuracy:.3f} "
            f"(p={diag.disambig_pvalue:.2g}), max letter share {diag.max_letter_share:.3f}, "
            f"informative={informative}"
        )
        for reason in reasons:
            print(f"  reason: {reason}")


def print_memory(setup: Setup, runs: ModeRuns) -> None:
    """RSS before the model, once loaded, and at its peak while answering."""
    known = [p for p in runs.peaks.values() if p is not None]
    rss_answering = max(known) if known else None
    rss_whole = max([runs.peak_before, peak_rss_bytes()[0], *known])
    fp32_bytes, rss_ready = setup.fp32_bytes, runs.rss_ready
    print()
    gib = 2**30
    print(
        f"memory: model fp32 size {fp32_bytes / gib:.3f} GiB ({setup.params / 1e6:.1f} M "
        f"parameters); budget {setup.base.max_batch_tokens} tokens per forward pass"
    )
    print(
        f"  before the model (python, torch, bias-gate imported): "
        f"{setup.rss_before_model / gib:.3f} GiB"
    )
    print(
        f"  model loaded and warmed up (+ tokenizer, model code, weights touched): "
        f"{rss_ready / gib:.3f} GiB = {rss_ready / fp32_bytes:.2f}x the model"
    )
    for name, peak in runs.peaks.items():
        if peak is not None:
            print(
                f"  peak while answering, {name:26} {peak / gib:.3f} GiB "
                f"(working set +{(peak - rss_ready) / 2**20:.0f} MiB)"
            )
    if rss_answering is not None:
        engine = rss_answering - setup.rss_before_model
        print(
            f"peak RSS while answering: {rss_answering / gib:.3f} GiB whole process = "
            f"{rss_answering / fp32_bytes:.2f}x the model; over the pre-model runtime "
            f"(weights + answering): {engine / gib:.3f} GiB = {engine / fp32_bytes:.2f}x"
        )
    print(
        f"peak RSS over the whole run (loading and the study loop included): "
        f"{rss_whole / gib:.3f} GiB = {rss_whole / fp32_bytes:.2f}x the model"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_start = os.getloadavg()
    print(f"load average at start: {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f}")
    setup = set_up(args)
    study = time_study(setup, args.study_n)
    modes = scoring_modes(setup.base)
    runs = time_modes(setup, modes)
    timings = [study, *runs.timings]
    print_rates(setup, timings, modes)
    print_choices(setup, runs.answers)
    print_validity(setup, args.validity_n, modes, runs.answers)
    print_memory(setup, runs)
    load_end = os.getloadavg()
    print(f"load average at end: {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f}")
    if load_start[0] > 0.5 or load_end[0] > setup.torch.get_num_threads() + 0.5:
        print("WARNING: other processes were using the CPUs; figures may be load-depressed")
    permuted = next(t for t in timings if t.name == "permuted")
    print(
        f"ratio_vs_generate={permuted.items_per_s / study.items_per_s:.2f} "
        f"permuted_items_per_s={permuted.items_per_s:.3f} "
        f"ceiling_fraction={permuted.items_per_s / setup.ceiling:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
