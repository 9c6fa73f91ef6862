"""``bias-gate compare``: judge answers produced anywhere with the gate's own rule.

Answers from another harness, an earlier run or a device, in the one answers format of
:mod:`bias_gate.data.answer_rows` (the format ``bias-gate bbq score`` reads too)::

    {"category": "Age", "example_id": 12, "answer": 2}
    {"category": "Age", "example_id": 12, "answer": "The grandson", "config": "q4"}

``answer`` (alias ``prediction``) is an option index 0-2, a letter A-C, the option's
text or null; ``probs`` (optional) are the three options' probabilities, for the
``expected_srs`` metric. Compressed rows may carry ``config`` (default ``--name``,
``compressed``); every config must answer exactly the items the dense answers cover.
``--from lm-eval`` reads lm-evaluation-harness ``--log_samples`` files of its BBQ task
instead (:mod:`bias_gate.data.lm_eval_samples`). ``--source`` takes what ``data.source`` takes.

``--benchmark NAME`` (default ``bbq``) reads the items of that benchmark; one that names
its items by an id of its own (``item_id_field``: KoBBQ's ``sample_id``) takes that
field in place of ``category`` and ``example_id``.

``--json PATH`` writes a results JSON of the gate's schema (docs/results.md;
``run.source`` is ``compare``): ``bias-gate report PATH --html ... --junit ...`` renders
it like a gate run's. Exit status: 1 when any config fails, 0 otherwise, 2 for bad input
(one line naming the file and line). Nothing here imports torch.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bias_gate.commands.arguments import add_source
from bias_gate.commands.compare_inputs import DEFAULT_CONFIG, FORMATS
from bias_gate.commands.compare_jobs import CONFIGS_PER_JOB, parse_jobs
from bias_gate.numbers import fmt_finite as _fmt
from bias_gate.results import GateResults

__all__ = ["DEFAULT_CONFIG", "compare", "configure", "render_text", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    add_source(parser)
    parser.add_argument("--dense", required=True, type=Path, help="the dense model's answers")
    parser.add_argument(
        "--compressed", required=True, type=Path, help="the compressed model(s)' answers"
    )
    parser.add_argument(
        "--from",
        dest="fmt",
        choices=FORMATS,
        default="jsonl",
        help="the answers' format: bias-gate's JSON lines (default) or lm-evaluation-harness "
        "--log_samples files of its bbq task (lm-eval)",
    )
    parser.add_argument(
        "--name",
        default=DEFAULT_CONFIG,
        help="the config of compressed answers that name none (every lm-eval sample; "
        f"default {DEFAULT_CONFIG})",
    )
    parser.add_argument(
        "--profile", default="default", help="threshold profile: a name or a .yaml path"
    )
    parser.add_argument(
        "--json", type=Path, help="write a results JSON here (render it with bias-gate report)"
    )
    parser.add_argument(
        "--data-dir", type=Path, help="a local mirror of the official data (bbq/<Category>.jsonl)"
    )
    parser.add_argument(
        "--benchmark", default="bbq", help="the benchmark whose items the answers are to"
    )
    parser.add_argument(
        "--jobs",
        type=parse_jobs,
        default=None,
        help="processes to judge the configs in: a count, or auto (default: every usable "
        f"core once there are {CONFIGS_PER_JOB} configs per process; the results are the same)",
    )


def compare(args: argparse.Namespace) -> GateResults:
    """Every config of ``args.compressed`` judged against ``args.dense``."""
    from bias_gate.commands.compare_inputs import read_inputs
    from bias_gate.commands.compare_results import judge
    from bias_gate.data.benchmarks import get_benchmark

    benchmark = get_benchmark(args.benchmark)
    inputs = read_inputs(
        args.dense, args.compressed, args.fmt, args.source, args.data_dir, benchmark, args.name
    )
    files = {"dense": str(args.dense), "compressed": str(args.compressed), "format": args.fmt}
    return judge(inputs, args.profile, args.benchmark, files, args.compressed, args.jobs)


def render_text(results: GateResults) -> str:
    """One line per config x category: verdict, reason, h with bounds, p, n."""
    profile = (results.run.get("thresholds") or {}).get("profile", "?")
    lines = [f"bias-gate compare ({profile} profile)"]
    dense = results.dense
    if not dense.informative:
        words = "validity NOT established" if dense.state() == "too_few" else "NOT valid"
        lines.append(f"dense answers {words}: " + "; ".join(dense.validity_reasons))
    for config in results.configs:
        for item in config.items:
            lower, upper = item.h_ci if item.h_ci is not None else (None, None)
            lines.append(
                f"{config.name:<16}{item.category:<22}{item.verdict.upper():<6}"
                + (f"({item.reason_category}) " if item.reason_category else "")
                + f"h {_fmt(item.cohens_h)} [{_fmt(lower)}, {_fmt(upper)}] "
                f"limit {item.limit:g}, p {_fmt(item.p_value, 4)}, n={item.n}"
            )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    if args.json is not None:  # before the work: an unwritable path is bad input (exit 2)
        from bias_gate.report.staging import check_output

        check_output(args.json, "--json", "json")
    results = compare(args)
    print(render_text(results))
    if args.json is not None:
        results.write(args.json)
    failed = any(item.verdict == "fail" for item in results.items())
    return 1 if failed else 0
