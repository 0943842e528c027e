"""Where a mini-batch's time goes: each per-tile kernel, on one thread,
against the machine's matrix-multiply rate per core.

A mini-batch of 32 samples is one tile (`surrogate/_layout.py`), carried on
one thread through the kernels of `surrogate/_tiles.py`: for each layer the
affine map z = w a + b (Eq. 7), the activation, the weight gradient (Eqs.
15-16) and the back-propagated delta (Eq. 24), then the optimiser step
(`surrogate/_steps.py`). For bench_train.py's workloads this script times
each kernel alone, at the layer's shape, in a compiled loop; the whole
gradient of a batch (`_chunks._chunk_grad`, which also gathers the tile and
forms the output error) and the step; and NumPy's one-thread float64 matmul
of 1024 x 1024 matrices (OpenBLAS's kernel, as loaded), as the reference
rate per core. Every part is timed once a round, all parts taking turns, and
medians over the rounds are printed, so drift in the machine's speed falls on
all alike.

The multiply-add rate of a part is its multiply-adds (32 J K for a J x K
layer) over its time; "of matmul" is that rate over the reference's. Layers
with 8 or more inputs and outputs take BLAS's products (`surrogate/_blas.py`)
in calls OpenBLAS runs on one thread; the affine map of a layer with 16 or
more outputs and more than a quarter as many outputs as inputs multiplies
transposed tiles (`_tiles._affine_transposed`). Layers with fewer than 16
inputs vectorise over their outputs. See benchmarks/README.md.

    python benchmarks/bench_kernels.py                  # S, M and W, 15 rounds
    python benchmarks/bench_kernels.py --only M --repeats 31
    python benchmarks/bench_kernels.py --quick          # smoke run: 3 rounds
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if (ROOT / "surrogate" / "__init__.py").exists():
    sys.path.insert(0, str(ROOT))       # benchmark the checkout, not an older install

import surrogate  # noqa: E402
from surrogate import _chunks, _steps, _tiles  # noqa: E402
from surrogate._layout import TILE  # noqa: E402
from surrogate.activations import TANH  # noqa: E402

from bench_train import WORKLOADS  # noqa: E402
MATMUL_N = 1024
ROUND_SECONDS = 0.02                    # each part's share of a round
WHOLE, STEP = "whole gradient of the batch", "optimiser step (SGD)"


def _looped(kernel, *args):
    """A compiled loop calling kernel(*args) `reps` times; returns run(reps)."""
    @numba.njit
    def loop(args, reps):
        for _ in range(reps):
            kernel(*args)
    loop(args, 1)                       # compile outside the timing
    return lambda reps: loop(args, reps)


def parts(sizes, seed=0):
    """[(name, multiply-adds, run(reps))] for one batch of TILE samples of `sizes`."""
    rng = np.random.default_rng(seed)
    net = surrogate.MLP(sizes, activation="tanh", output_activation="identity", seed=seed)
    lay, L, nt = net._layout, len(sizes) - 1, TILE
    WS, G = net.tile_workspace(1), net.gradient_buffers(1)
    scratch = WS[0][lay.n_off:]         # where the narrow kernels transpose, as in a training step
    out = []
    for l in range(L):
        K, J = sizes[l], sizes[l + 1]
        w = net.params[lay.w_off[l]:lay.w_off[l] + J * K].reshape(J, K)
        b = net.params[lay.b_off[l]:lay.b_off[l] + J]
        a = np.tanh(rng.standard_normal((TILE, K)))
        z, delta = np.zeros((TILE, J)), 0.01 * rng.standard_normal((TILE, J))
        gw, gb = np.zeros((J, K)), np.zeros(J)
        shape = f"{K:>3} -> {J:<3}"
        out.append((f"layer {l + 1} affine  {shape}", nt * J * K,
                    _looped(_tiles._affine, w, b, a, z, nt, scratch)))
        if l < L - 1:
            # tanh in place: repeated, it shrinks the values but takes the same branch-free path
            z_flat, s_flat = np.tanh(rng.standard_normal(nt * J)), np.zeros(nt * J)
            out.append((f"layer {l + 1} tanh    {shape}", 0,
                        _looped(_tiles._activate, TANH, z_flat, s_flat)))
        out.append((f"layer {l + 1} grad w  {shape}", nt * J * K,
                    _looped(_tiles._add_weight_gradient, gw, gb, delta, a, nt, scratch, True)))
        if l > 0:
            s, below = rng.uniform(0, 1, nt * K), np.zeros(nt * K)
            out.append((f"layer {l + 1} delta   {shape}", nt * J * K,
                        _looped(_tiles._backpropagate, w, delta, s, below, nt)))
    n = 64 * TILE
    X = rng.uniform(-1, 1, (n, sizes[0]))
    Y = rng.uniform(-1, 1, (n, sizes[-1]))
    rows = rng.permutation(n).astype(np.int64)
    out.append((WHOLE, None,
                _looped(_chunks._chunk_grad, net.params, X, Y, rows, 0, nt, lay, WS[0], G[0])))
    params, backup = net.params.copy(), np.empty_like(net.params)
    state, hyper = np.zeros((2, params.size)), _steps.make_hyper(0.0)  # lr 0: the values stay put
    out.append((STEP, None,
                _looped(_steps.apply_step, _steps.SGD, params, G, 1, 1.0 / nt, state, hyper, 1, backup)))
    return out


def matmul_part():
    """NumPy's float64 matmul, MATMUL_N square, on one BLAS thread."""
    import threadpoolctl
    A = np.random.default_rng(0).random((MATMUL_N, MATMUL_N))

    def run(reps):
        with threadpoolctl.threadpool_limits(1, user_api="blas"):
            for _ in range(reps):
                np.matmul(A, A)
    run(1)
    return (f"matmul {MATMUL_N}^2, 1 thread", MATMUL_N ** 3, run)


def time_parts(all_parts, repeats):
    """{name: median seconds per call}: every part once a round, `repeats` rounds."""
    reps = {}
    for name, _, run in all_parts:      # calls per round: about ROUND_SECONDS each
        t0 = time.perf_counter()
        run(1)
        reps[name] = max(1, int(ROUND_SECONDS / max(time.perf_counter() - t0, 1e-7)))
    times = {name: [] for name, _, _ in all_parts}
    for _ in range(repeats):
        for name, _, run in all_parts:
            t0 = time.perf_counter()
            run(reps[name])
            times[name].append((time.perf_counter() - t0) / reps[name])
    return {name: statistics.median(v) for name, v in times.items()}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", default="S,M,W", help="workloads, from S,M,W (default all)")
    p.add_argument("--repeats", type=int, default=15, help="rounds (default 15)")
    p.add_argument("--quick", action="store_true", help="smoke run: 3 rounds")
    args = p.parse_args()
    if args.quick:
        args.repeats = 3
    names = args.only.split(",")
    unknown = [w for w in names if w not in WORKLOADS]
    if unknown or args.repeats < 1:
        p.error(f"--only takes S, M and W, got {args.only!r}" if unknown
                else f"--repeats must be >= 1, got {args.repeats}")
    numba.set_num_threads(1)
    reference = matmul_part()
    for w in names:
        sizes = WORKLOADS[w]
        batch = parts(sizes)
        med = time_parts([reference] + batch, args.repeats)
        rate = reference[1] / med[reference[0]]
        whole = med[WHOLE] + med[STEP]
        print(f"\n{w} {sizes}, batch {TILE}, float64, one thread; medians of {args.repeats} rounds; "
              f"matmul {rate / 1e9:.1f} GMAC/s")
        print(f"  {'part':34s} {'us':>8s} {'GMAC/s':>7s} {'of matmul':>9s} {'of batch':>8s}")
        kernels = 0.0
        for name, macs, _ in batch:
            t = med[name]
            if macs is not None:
                kernels += t
            speed = f"{macs / t / 1e9:7.1f} {macs / t / rate:9.0%}" if macs else " " * 17
            print(f"  {name:34s} {t * 1e6:8.2f} {speed} {t / whole:8.0%}")
        print(f"  kernels above, summed: {kernels * 1e6:.1f} us; whole gradient and step: "
              f"{whole * 1e6:.1f} us (the rest: gathering the tile and the output error)")


if __name__ == "__main__":
    main()
