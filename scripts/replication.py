"""Reproduce docs/results/replication-smollm2.md: the 2026 study's questions on the
embedded SmolLM2-135M-Instruct, answered by the gate itself.

    python scripts/replication.py --data-dir ../shared/data

Steps (each writes into ``--work``; caches make a rerun resume):

1. validity of every scoring mode: the dense model answers the disambiguated items of
   each category in ``letter``, ``permuted``, ``continuation`` and greedy ``generate``
   mode; accuracy against chance per category (bias_gate.judge.validity);
2. the gate on examples/replication.yaml (``pytest --bias-gate``, timed);
3. the study's reading on examples/replication-study.yaml (its generation setting,
   the ``paper`` profile), timed;
4. the write-up: tables, the two plots and the findings, into ``--out``.

``--limit N`` and ``--only NAME...`` make a smoke run (tests/integration/test_replication.py).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bias_gate.gate.command import gate_command
from bias_gate.results import ConfigResult, GateResults

ROOT = Path(__file__).resolve().parent.parent
MAIN = ROOT / "examples" / "replication.yaml"
STUDY = ROOT / "examples" / "replication-study.yaml"
MODES = ("letter", "permuted", "continuation", "generate")
METHODS = ("random", "magnitude", "wanda")


# ----------------------------------------------------------------------------- step 1


def mode_validity(
    config: Path, data_dir: Path, cache: Path, per_category: int
) -> dict[str, dict[str, dict[str, Any]]]:
    """mode -> category -> disambiguated accuracy, n, one-sided p, informative."""
    from bias_gate.answer.engine import answer_items
    from bias_gate.config.validated import load_gate_config
    from bias_gate.data.loader import select_items
    from bias_gate.data.sources import DirectorySource
    from bias_gate.judge.looks import plan_categories
    from bias_gate.judge.thresholds import ValidityThresholds
    from bias_gate.judge.validity import validity, validity_by_category
    from bias_gate.models.loading import load_model

    spec = load_gate_config(config).spec
    items = select_items(
        DirectorySource(data_dir / "bbq"),
        spec.data.categories,
        ["ambig", "disambig"],
        spec.data.items_per_category,
        spec.data.seed,
    ).items
    plans = plan_categories(items, spec.data.categories, 1, spec.data.seed)
    chosen = [item for plan in plans.values() for item in plan.disambiguated[:per_category]]
    loaded = load_model(spec.model, device="cpu", cache_dir=cache)
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for mode in MODES:
        scoring = spec.scoring.model_copy(update={"mode": mode})
        answers = answer_items(loaded.model, loaded.tokenizer, chosen, scoring)
        by_category = validity_by_category(
            chosen, answers, spec.data.categories, ValidityThresholds()
        )
        overall = validity(chosen, answers)
        by_category["all"] = {
            "informative": overall.assess(ValidityThresholds())[0],
            "disambig_accuracy": overall.disambig_accuracy,
            "disambig_n": overall.disambig_n,
            "disambig_pvalue": overall.disambig_pvalue,
            "max_letter_share": overall.max_letter_share,
        }
        out[mode] = by_category
    return out


# ------------------------------------------------------------------------- steps 2, 3


def run_gate(config: Path, cache: Path, data_dir: Path, out: Path, extra: Sequence[str]) -> float:
    """Run the gate on ``config``; returns its wall time in seconds."""
    command = gate_command(
        config, data_dir=data_dir, cache_dir=cache, json_out=out, extra=["-q", *extra]
    )
    log = out.with_suffix(".log")
    started = time.perf_counter()
    with log.open("w") as stream:  # the gate's own output, to follow a long run
        done = subprocess.run(
            command, cwd=ROOT, stdout=stream, stderr=subprocess.STDOUT, check=False
        )
    if done.returncode not in (0, 1) or not out.is_file():
        sys.stderr.write(log.read_text()[-10000:])
        raise SystemExit(f"gate run on {config.name} failed ({done.returncode}); log: {log}")
    return time.perf_counter() - started


def _selection(only: Sequence[str] | None) -> list[str]:
    return ["-k", " or ".join(only)] if only else []


# ----------------------------------------------------------------------------- step 4


def _f(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" if value < 1000 else f"{value:.1e}"


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None and not math.isnan(v)]
    return sum(kept) / len(kept) if kept else None


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.1f}%"


def _is_study_variant(config: ConfigResult) -> bool:
    return config.options.get("variant") == "study"


def _unstructured(config: ConfigResult) -> bool:
    return config.options.get("pattern", "unstructured") == "unstructured"


def _h_points(
    results: GateResults, category: str, method: str
) -> list[tuple[float, float, float, float]]:
    """(target sparsity, h, lower bound, upper bound) of ``method``'s unstructured
    configs in ``category``, by sparsity."""
    points = []
    for config in results.configs:
        if config.method != method or _is_study_variant(config) or not _unstructured(config):
            continue
        item = next((i for i in config.items if i.category == category), None)
        if item is None or item.cohens_h is None or item.h_ci is None:
            continue
        if config.target_sparsity is None:
            continue
        points.append((config.target_sparsity, item.cohens_h, *item.h_ci))
    return sorted(points)


def _category_limit(results: GateResults, category: str) -> float:
    return next((i.limit for i in results.items() if i.category == category), 0.2)


def _draw_h_panel(ax: Any, results: GateResults, category: str) -> None:
    """One category's panel: h against sparsity, one line per pruning method."""
    colours = {"random": "tab:grey", "magnitude": "tab:orange", "wanda": "tab:blue"}
    for method in METHODS:
        points = _h_points(results, category, method)
        if not points:
            continue
        low = [max(0.0, h - lower) for _, h, lower, _ in points]
        high = [max(0.0, upper - h) for _, h, _, upper in points]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        ax.errorbar(
            xs, ys, yerr=[low, high], marker="o", capsize=3, label=method, color=colours[method]
        )
    ax.axhline(_category_limit(results, category), color="red", linestyle="--", linewidth=1)
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set_title(category)
    ax.set_xlabel("target sparsity")
    ax.set_ylabel("Cohen's h (compressed - dense)")
    ax.grid(alpha=0.3)


def plot_h_vs_sparsity(results: GateResults, path: Path) -> None:
    """Cohen's h (with its one-sided bounds) against target sparsity, one panel per
    category, one line per pruning method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    categories = results.run["categories"]
    columns = 3
    rows = math.ceil(len(categories) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.3 * rows), squeeze=False)
    for index, category in enumerate(categories):
        _draw_h_panel(axes[index // columns][index % columns], results, category)
    for index in range(len(categories), rows * columns):
        axes[index // columns][index % columns].axis("off")
    axes[0][0].legend(fontsize="small")
    figure.suptitle(
        "Change in bias (h on SRS) against sparsity; bars: one-sided 95% bounds; red: the limit",
        fontsize="medium",
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_paradox(results: GateResults, path: Path) -> None:
    """Perplexity ratio against h for every comparison, the paradox quadrant shaded:
    the gate's own plot (:func:`bias_gate.report.plots.plot_paradox`)."""
    from bias_gate.report.plots import plot_paradox as gate_paradox
    from bias_gate.report.plots import render_png

    path.write_bytes(render_png(gate_paradox(results)))


def _paradox_cells(results: GateResults) -> list[tuple[str, str]]:
    """(config, category) of every comparison the gate marked as the paradox."""
    return [(c.name, i.category) for c in results.configs for i in c.items if i.paradox]


def _counts(results: GateResults) -> dict[str, int]:
    out = {"pass": 0, "fail": 0, "inconclusive": 0}
    for item in results.items():
        out[item.decision] = out.get(item.decision, 0) + 1
    return out


def write_report(
    out: Path,
    main: GateResults,
    study: GateResults | None,
    validity: dict[str, dict[str, dict[str, Any]]] | None,
    timings: dict[str, float],
    command: str,
) -> Path:
    """The markdown write-up (plus its two plots) from the runs' results."""
    out.mkdir(parents=True, exist_ok=True)
    plot_h_vs_sparsity(main, out / "replication-h-vs-sparsity.png")
    plot_paradox(main, out / "replication-paradox.png")
    lines = _report_lines(main, study, validity, timings, command)
    path = out / "replication-smollm2.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _report_lines(
    main: GateResults,
    study: GateResults | None,
    validity: dict[str, dict[str, dict[str, Any]]] | None,
    timings: dict[str, float],
    command: str,
) -> list[str]:
    lines = _finding_lines(main, timings, command)
    lines += _conclusion_lines(main, study)
    if validity:
        lines += _validity_lines(validity, main.run["categories"])
    lines += _gate_lines(main)
    lines += _study_lines(study) if study is not None else _no_study_lines()
    return lines


def _finding_lines(main: GateResults, timings: dict[str, float], command: str) -> list[str]:
    """The title, how to reproduce, and the finding in one paragraph."""
    counts = _counts(main)
    paradox = _paradox_cells(main)
    return [
        "# Does the smart-pruning paradox show on SmolLM2-135M-Instruct?",
        "",
        "Produced by the gate itself (`scripts/replication.py`, which runs "
        "`pytest --bias-gate examples/replication.yaml` and the study's reading "
        "`examples/replication-study.yaml`); every figure below is read from their "
        "results JSON.",
        "",
        "## Reproduce",
        "",
        f"    {command}",
        "",
        "Wall time on 2 cores: "
        + ", ".join(f"{name} {seconds / 60:.1f} min" for name, seconds in timings.items())
        + ".",
        "",
        "## The finding",
        "",
        f"{sum(counts.values())} comparisons (configs x categories): {counts['fail']} FAIL, "
        f"{counts['pass']} PASS, {counts['inconclusive']} INCONCLUSIVE; "
        f"smart-pruning paradox (perplexity within its limit, bias failed): "
        + (", ".join(f"{c}::{k}" for c, k in paradox) if paradox else "**none found**")
        + ".",
        "",
    ]


def _gate_lines(main: GateResults) -> list[str]:
    """The gate's reading: each config's perplexity, each comparison's figures, plots."""
    dense = main.dense
    lines = [
        "## The gate's reading (continuation scoring, default profile, four looks)",
        "",
        f"Dense perplexity {_f(dense.perplexity, 2)}; dense model informative: "
        f"{dense.informative}.",
        "",
        "| config | achieved sparsity | perplexity | ratio | perplexity verdict |",
        "|---|---|---|---|---|",
    ]
    for config in main.configs:
        lines.append(
            f"| {config.name} | {_f(config.achieved_sparsity)} | {_f(config.perplexity, 2)} | "
            f"{_ratio(config.perplexity_ratio)} | {config.perplexity_verdict or '–'} |"
        )
    lines += [
        "",
        "Per category: the decision, Cohen's h on SRS with its one-sided 95% bounds "
        "(PASS needs the upper one at or below 0.2), ambiguous items used of those planned, "
        "and the flip rates (new-bias: dense-unbiased items turned biased; removed: the "
        "reverse).",
        "",
        "| config | category | decision | h | bounds | items | new-bias | removed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for config in main.configs:
        for item in config.items:
            low, high = item.h_ci or (None, None)
            lines.append(
                f"| {config.name} | {item.category} | {item.decision} | "
                f"{_f(item.cohens_h)} | [{_f(low)}, {_f(high)}] | "
                f"{item.n_used}/{item.n_max} | {_f(item.new_bias_rate)} | "
                f"{_f(item.bias_removed_rate)} |"
            )
    return [
        *lines,
        "",
        "![h against sparsity](replication-h-vs-sparsity.png)",
        "",
        "![the paradox scatter](replication-paradox.png)",
        "",
    ]


def _no_study_lines() -> list[str]:
    return [
        "## The study's generation setting",
        "",
        "Not run for this write-up (`--skip-study`). The study's polarity-blind SRS and "
        "its unpaired chi-square above are computed on the gate's own answers; its "
        "generation setting (temperature 0.3, five seeds, the letter prompt; "
        "`examples/replication-study.yaml`) runs when the script is started without "
        "`--skip-study`.",
        "",
    ]


def _pruned(main: GateResults, method: str, target: float) -> ConfigResult | None:
    """The full-Wanda / random / magnitude config at ``target`` unstructured sparsity."""
    for config in main.configs:
        if (
            config.method == method
            and config.target_sparsity == target
            and config.options.get("variant", "full") != "study"
            and _unstructured(config)
        ):
            return config
    return None


def _study_srs_change(config: ConfigResult) -> float | None:
    """Mean relative change of the study's polarity-blind SRS over categories."""
    return _mean(
        [
            (i.srs_study_compressed - i.srs_study_dense) / i.srs_study_dense
            if i.srs_study_dense and i.srs_study_compressed is not None
            else None
            for i in config.items
        ]
    )


def _srs_reading(fails: int, h: float | None, blind: float | None) -> str:
    if fails:
        return "survives: amplification beyond the limit"
    if h is not None and h > 0:
        return "rises, within the limit"
    if blind is not None and blind > 0:
        return "only the polarity-blind SRS rises; the corrected one falls"
    return "does not hold: bias falls"


def _flip_reading(rate: float | None, removed: float | None) -> str:
    if rate is None:
        return "–"
    if rate >= 0.4:
        return "of that size"
    if removed is not None and removed > rate:
        return "smaller, and more items lose their bias than gain it"
    return "smaller, and more items gain bias than lose it"


def _conclusion_lines(main: GateResults, study: GateResults | None) -> list[str]:
    """The study's headline claims, each beside what this run measured (computed, not
    written by hand, so a rerun on another model restates them)."""
    lines = [
        "## Which of the study's conclusions survive on this model",
        "",
        "Each claim of the study, what this run measured on the same question, and the "
        "reading. Means are over the categories; `h` is Cohen's h on the "
        "polarity-corrected SRS of the paired items; the noise floor is the dense-null "
        "config (the dense model compared with itself).",
        "",
        "| the study's claim | measured here | reading |",
        "|---|---|---|",
        *_wanda_rows(main),
        *_pruning_rows(main),
        *_significance_rows(main),
        _paradox_row(main),
    ]
    if study is not None:
        lines.append("| (its generation setting) | see the last section | |")
    return [*lines, ""]


def _wanda_rows(main: GateResults) -> list[str]:
    """Wanda at 50%: its perplexity, and how sparse the study's variant really is."""
    rows = []
    limit_ppl = main.run["thresholds"]["base"].get("max_perplexity_ratio")
    wanda = _pruned(main, "wanda", 0.5)
    if wanda is not None and wanda.perplexity_ratio is not None:
        ratio = wanda.perplexity_ratio
        kept = limit_ppl is not None and ratio <= limit_ppl
        rows.append(
            "| Wanda at 50% keeps perplexity almost unchanged (+3.5% on Mistral-7B) | "
            f"perplexity ratio {_ratio(ratio)} (limit {limit_ppl}) | "
            + ("survives" if ratio <= 1.1 else "within the limit" if kept else "does not hold")
            + " |"
        )
    study_variant = next((c for c in main.configs if _is_study_variant(c)), None)
    if study_variant is not None and wanda is not None:
        rows.append(
            "| The study's Wanda prunes 50% | its code (o_proj and down_proj left dense) "
            f"reaches {_f(study_variant.achieved_sparsity)} of the linear weights; "
            f"full Wanda {_f(wanda.achieved_sparsity)} | the study's 50% is not 50% |"
        )
    return rows


def _pruning_rows(main: GateResults) -> list[str]:
    """Each pruning method at 70%: SRS and h, and the flip rates against the noise floor."""
    rows = []
    null = next((c for c in main.configs if c.method == "dense"), None)
    floor = _mean([i.new_bias_rate for i in null.items]) if null else None
    for method in METHODS:
        config = _pruned(main, method, 0.7)
        if config is None:
            continue
        items = config.items
        blind = _study_srs_change(config)
        h = _mean([i.cohens_h for i in items])
        fails = sum(i.decision == "fail" for i in items)
        rows.append(
            f"| SRS rises with {method} pruning at 70% (up to +83.7%) | polarity-blind SRS "
            f"{_percent(blind)}; polarity-corrected h {_f(h)}; {fails} of {len(items)} "
            f"categories FAIL | {_srs_reading(fails, h, blind)} |"
        )
        rate = _mean([i.new_bias_rate for i in items])
        removed = _mean([i.bias_removed_rate for i in items])
        rows.append(
            f"| 47-59% of unbiased items turn biased ({method}, 70%) | new-bias rate "
            f"{_f(rate)} against the noise floor {_f(floor)}; bias-removed rate "
            f"{_f(removed)} | {_flip_reading(rate, removed)} |"
        )
    return rows


def _significance_rows(main: GateResults) -> list[str]:
    """The study's count of significant comparisons beside the gate's paired rule."""
    compared = [i for c in main.configs if c.method in METHODS for i in c.items]
    if not compared:
        return []
    unpaired = sum((i.p_chi2_unpaired or 1.0) < 0.05 for i in compared)
    fails = sum(i.decision == "fail" for i in compared)
    mean_h = _mean([abs(i.cohens_h) for i in compared if i.cohens_h is not None])
    return [
        f"| 141 of 180 comparisons significant, mean abs h 0.305 | unpaired chi-square "
        f"p < 0.05 in {unpaired} of {len(compared)} pruning comparisons; the gate's "
        f"paired one-sided rule fails {fails}; mean abs h {_f(mean_h)} | see the counts |"
    ]


def _paradox_row(main: GateResults) -> str:
    paradox = _paradox_cells(main)
    return (
        "| The smart-pruning paradox: perplexity kept, bias amplified | "
        + (", ".join(f"{c}::{k}" for c, k in paradox) if paradox else "no comparison")
        + " | "
        + ("found" if paradox else "not found on this model")
        + " |"
    )


def _validity_lines(
    validity: dict[str, dict[str, dict[str, Any]]], categories: Sequence[str]
) -> list[str]:
    header = "| mode | " + " | ".join([*categories, "all"]) + " |"
    lines = [
        "## Which scoring mode is the model valid in?",
        "",
        "Disambiguated accuracy of the dense model (chance 33.3%; * = significantly above "
        "chance, one-sided binomial p <= 0.05). Only a valid mode can be judged for bias.",
        "",
        header,
        "|---|" + "---|" * (len(categories) + 1),
    ]
    for mode, by_category in validity.items():
        cells = []
        for category in [*categories, "all"]:
            row = by_category.get(category, {})
            star = "*" if row.get("informative") else ""
            cells.append(f"{_f(row.get('disambig_accuracy'), 2)}{star} (n={row.get('disambig_n')})")
        lines.append(f"| {mode} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _study_lines(study: GateResults) -> list[str]:
    lines = [
        "## The study's own reading beside the gate's",
        "",
        "Generation at temperature 0.3 with five seeds and the letter prompt, as the study "
        "did; `paper` profile. Per comparison: the study's polarity-blind SRS (dense -> "
        "compressed), its unpaired chi-square pooled over seeds, the dense model's "
        "seed-to-seed new-bias rate (the noise floor), and the gate's reading of the same "
        "answers: polarity-corrected SRS on per-item majority votes, h and the paired "
        "decision.",
        "",
        "| config | category | study SRS | study chi-square p | official SRS | h | new-bias "
        "| noise floor | decision |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for config in study.configs:
        for item in config.items:
            lines.append(
                f"| {config.name} | {item.category} | "
                f"{_f(item.srs_study_dense)} -> {_f(item.srs_study_compressed)} | "
                f"{_f(item.p_chi2_unpaired, 4)} | {_f(item.srs_dense)} -> "
                f"{_f(item.srs_compressed)} | {_f(item.cohens_h)} | "
                f"{_f(item.new_bias_rate)} | {_f(item.dense_noise_new_bias_rate)} | "
                f"{item.decision} |"
            )
    items = study.items()
    significant_unpaired = sum((i.p_chi2_unpaired or 1) < 0.05 for i in items)
    significant_paired = sum(i.decision == "fail" for i in items)
    validity = study.dense.validity
    lines += [
        "",
        f"Of {len(items)} comparisons, the study's unpaired chi-square over pooled seeds calls "
        f"{significant_unpaired} significant at p < 0.05; the paired, one-sided, "
        f"polarity-corrected rule fails {significant_paired}. Dense model in this setting: "
        f"disambiguated accuracy {_f(validity.get('disambig_accuracy'), 3)} "
        f"(informative under the default profile: "
        f"{validity.get('disambig_pvalue', 1) <= 0.05}).",
        "",
    ]
    return lines


# ----------------------------------------------------------------------------- main


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="local data mirror")
    parser.add_argument("--work", type=Path, default=ROOT / ".bias-gate" / "replication")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "results")
    parser.add_argument("--limit", type=int, default=None, help="items per category (smoke)")
    parser.add_argument("--only", nargs="*", help="config names to run (smoke)")
    parser.add_argument("--validity-items", type=int, default=100, help="per category")
    parser.add_argument("--skip-study", action="store_true")
    parser.add_argument(
        "--reuse",
        nargs="*",
        choices=("validity", "gate", "study"),
        default=[],
        help="steps whose output in --work is kept from an earlier run (resume)",
    )
    return parser.parse_args(argv)


def _command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this write-up, as the write-up states it."""
    return " ".join(
        [
            "python scripts/replication.py --data-dir ../shared/data",
            *([f"--limit {args.limit}"] if args.limit else []),
            *([f"--only {' '.join(args.only)}"] if args.only else []),
            f"--validity-items {args.validity_items}",
            *(["--skip-study"] if args.skip_study else []),
        ]
    )


class _Steps:
    """The steps' outputs in ``--work``: each runs unless ``--reuse`` keeps its output,
    and the timings file is rewritten after each."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work: Path = args.work
        self.work.mkdir(parents=True, exist_ok=True)
        self.cache = self.work / "cache"
        self.timings_file = self.work / "timings.json"
        self.timings: dict[str, float] = {}
        if self.timings_file.is_file():
            self.timings.update(json.loads(self.timings_file.read_text()))
        self.extra = [
            *(["--bias-gate-limit", str(args.limit)] if args.limit else []),
            *_selection(args.only),
        ]

    def _kept(self, step: str, path: Path) -> bool:
        return step in self.args.reuse and path.is_file()

    def _timed(self, name: str, seconds: float) -> None:
        self.timings[name] = seconds
        self.timings_file.write_text(json.dumps(self.timings))

    def validity(self) -> dict[str, dict[str, dict[str, Any]]]:
        path = self.work / "validity.json"
        if not self._kept("validity", path):
            started = time.perf_counter()
            found = mode_validity(MAIN, self.args.data_dir, self.cache, self.args.validity_items)
            path.write_text(json.dumps(found, indent=2))
            self._timed("validity of the modes", time.perf_counter() - started)
        result: dict[str, dict[str, dict[str, Any]]] = json.loads(path.read_text())
        return result

    def gate(self, step: str, config: Path, name: str, timing: str) -> GateResults:
        path = self.work / name
        if not self._kept(step, path):
            seconds = run_gate(config, self.cache, self.args.data_dir, path, self.extra)
            self._timed(timing, seconds)
        return GateResults.from_json(json.loads(path.read_text()))


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    steps = _Steps(args)
    validity = steps.validity()
    results = steps.gate("gate", MAIN, "replication.json", "the gate")
    study = None
    if not args.skip_study:
        study = steps.gate("study", STUDY, "replication-study.json", "the study's reading")
    path = write_report(args.out, results, study, validity, steps.timings, _command_line(args))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
