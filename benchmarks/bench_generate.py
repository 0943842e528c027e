"""Time problems.generate with 1 and 2 local worker processes.

Cases: 1000 samples of `heat` (about a millisecond per solve, so batching
matters) and 40 samples of `burgers` (about 0.1 s per solve at small nu).
Target: 2 workers take at most 0.6x the time of 1.  Each configuration
runs ``--repeat`` times (default 3) after one untimed warm-up, and the
medians are printed; the machine may be shared, so expect noise.

    python benchmarks/bench_generate.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

# Run from a source checkout without installing: put the repository first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import problems  # noqa: E402

CASES = (("heat", 1000), ("burgers", 40))


def time_generate(problem, n, workers, repeat):
    problems.generate(problem, min(n, 8), workers=workers, progress=False)  # warm-up
    times, data = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        data = problems.generate(problem, n, workers=workers, progress=False)
        times.append(time.perf_counter() - start)
    return times, data


def _burn(n):
    s = 0
    for i in range(n):
        s += i * i
    return s


def control_ratio(n=4_000_000):
    """Wall-time ratio of 2 parallel processes vs 1 on pure CPU work.

    About 0.5 on two idle cores; near 1 when other jobs hold the cores, in
    which case no code can reach the 0.6 target and the figures above say
    more about the machine than about generate().
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    start = time.perf_counter()
    _burn(n), _burn(n)
    serial = time.perf_counter() - start
    start = time.perf_counter()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork")) as pool:
        list(pool.map(_burn, [n, n]))
    return (time.perf_counter() - start) / serial


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per configuration")
    args = parser.parse_args(argv)
    # The ratio is only meaningful with two idle cores: show what else runs.
    print("load average (1, 5, 15 min): " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
          + f" on {os.cpu_count()} CPUs")
    print(f"{'problem':>8} {'n':>5} {'1 worker [s]':>13} {'2 workers [s]':>14} {'ratio':>6}  target <= 0.6")
    for name, n in CASES:
        problem = problems.get(name)
        t1, d1 = time_generate(problem, n, 1, args.repeat)
        t2, d2 = time_generate(problem, n, 2, args.repeat)
        if not (np.array_equal(d1.X, d2.X) and np.array_equal(d1.Y, d2.Y)):
            raise SystemExit(f"{name}: 1 and 2 workers gave different datasets")
        m1, m2 = statistics.median(t1), statistics.median(t2)
        print(f"{name:>8} {n:>5} {m1:13.3f} {m2:14.3f} {m2 / m1:6.2f}  "
              f"(runs: {', '.join(f'{t:.2f}' for t in t1)} | {', '.join(f'{t:.2f}' for t in t2)}; "
              f"solver {d1.metadata['solver_seconds_per_sample'] * 1e3:.2f} ms/sample)")
    print(f"control: pure-Python CPU work, 2 processes / 1 = {control_ratio():.2f} "
          f"(0.5 is two free cores)")


if __name__ == "__main__":
    main()
