"""``runtime: openai`` on llama-cpp-python's real server: throughput and agreement.

Starts ``python -m llama_cpp.server`` on the packaged SmolLM2 GGUF (the ``server``
extra), then

1. answers the same items in ``letter`` mode with 1, 4 and 16 requests in flight (no
   cache: every request reaches the server), and prints requests/s and items/s;
2. answers ``--items`` items per mode in ``letter`` and ``continuation`` mode through the
   server and in process (:class:`bias_gate.llama.runtime.LlamaModel` on the same file),
   and prints the share of items with the same choice and the largest and median
   |log p| difference of the answer probabilities.

    python benchmarks/bench_openai_server.py --data-dir ../shared/data

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bias_gate.answer.engine import answer_items  # noqa: E402
from bias_gate.config.endpoint import EndpointSpec  # noqa: E402
from bias_gate.config.schema import DataSpec, ScoringSpec, default_model  # noqa: E402
from bias_gate.data.loader import load_items  # noqa: E402
from bias_gate.llama.agreement import _largest_logprob_diff  # noqa: E402
from bias_gate.llama.runtime import LlamaModel  # noqa: E402
from bias_gate.models.loading import gguf_file, load_model  # noqa: E402
from bias_gate.models.openai_runtime import OpenAIModel  # noqa: E402
from tests.support.llama_server import SERVED_NAME, LlamaServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="local data mirror")
    parser.add_argument("--items", type=int, default=40, help="items per mode (agreement)")
    parser.add_argument("--load-items", type=int, default=8, help="items per load level")
    args = parser.parse_args()
    path = gguf_file(default_model())
    assert path is not None
    tokenizer = load_model(default_model(), device="cpu").tokenizer
    items = load_items(
        DataSpec(categories=["Age", "Religion"], items_per_category=args.items // 2),
        data_dir=args.data_dir,
    ).items
    log = Path(tempfile.mkdtemp(prefix="bench-openai-")) / "server.log"
    server = LlamaServer(path, log=log).start()
    try:
        letter = ScoringSpec(mode="letter")
        for concurrency in (1, 4, 16):
            spec = EndpointSpec(url=server.url, model=SERVED_NAME, concurrency=concurrency)
            model = OpenAIModel(spec, tokenizer)
            started = time.perf_counter()
            answer_items(model, tokenizer, items[: args.load_items], letter)
            seconds = time.perf_counter() - started
            sent = model.client.requests_sent
            print(
                f"concurrency={concurrency}: {sent} requests in {seconds:.1f} s, "
                f"{sent / seconds:.2f} requests/s, {args.load_items / seconds:.2f} items/s"
            )
        local = LlamaModel(path, threads=1)
        for mode in ("letter", "continuation"):
            scoring = ScoringSpec(mode=mode)
            spec = EndpointSpec(url=server.url, model=SERVED_NAME, concurrency=4)
            remote = answer_items(OpenAIModel(spec, tokenizer), tokenizer, items, scoring)
            mine = answer_items(local, tokenizer, items, scoring)
            same = sum(mine[k].choice == remote[k].choice for k in mine)
            diffs = [_largest_logprob_diff(mine[k], remote[k]) or 0.0 for k in mine]
            print(
                f"agreement {mode}: same choice on {same}/{len(mine)} items "
                f"({same / len(mine):.1%}), |log p| difference max {max(diffs):.3g} "
                f"median {statistics.median(diffs):.3g}"
            )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
