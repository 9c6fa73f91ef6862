"""Exact worst-case P(PASS | h = limit) of the fixed design, by enumerating every table.

    python scripts/exact_pass_size.py 1 2 3 5 10 20 30 40 50 60 80

For each n: the largest exact P(PASS) over 21 dense SRS from 0.001 to 0.99 and 11
agreements across each one's feasible range, decided by the gate's own statistics
(bias_gate.judge.exact). Prints one line per n: n, the rate, where it is reached, seconds.
The tests hold n = 1-30 (tests/simulation/test_small_categories.py); this covers more.
"""

from __future__ import annotations

import argparse
import time

from bias_gate.judge.exact import worst_pass_probability

GRID = (0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
GRID += (0.88, 0.92, 0.95, 0.97, 0.98, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, nargs="+")
    parser.add_argument("--limit", type=float, default=0.2)
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args()
    for n in args.n:
        start = time.perf_counter()
        rate, srs, agreement = worst_pass_probability(n, GRID, 11, args.limit, args.alpha)
        seconds = time.perf_counter() - start
        print(
            f"n={n} worst_p_pass={rate:.4f} dense_srs={srs:g} "
            f"agreement={agreement:.4f} ({seconds:.1f} s)"
        )


if __name__ == "__main__":
    main()
