"""Thread policy and serving cost: fits that do not oversubscribe, cheap predictions.

1. Fit time. `Surrogate().fit` under the default thread policy
   (`threads="auto"`: Numba measures one thread against all while it trains,
   BLAS left as it is) against the same fit with every thread pool pinned to
   one thread (`threads=1` and BLAS limited to one thread by
   `threadpoolctl.threadpool_limits(1)`), for two networks on the heat data
   (600 cases, seed 0: 5 inputs, 65-point profiles):

   * the default network, hidden (64, 64, 64), on a tenth of the default
     budget (40 epochs, 80 L-BFGS iterations);
   * the network `surrogate run heat` uses, hidden (16, 16), on a tenth of its
     budget (60 epochs, 150 L-BFGS iterations).

   Both settings get the same budget and seed; each is fitted once untimed
   (compilation), then `--repeats` times, the two taking turns (the order
   swapped every round), and the ratio of the medians, auto / pinned, is
   printed. Target: <= 1.25x, quiet and with two busy processes. The two
   fits must also give bitwise equal parameters (the chunks of a mini-batch
   are set by its size and the network's, never by the threads); the script
   says whether they do.

2. Serving. A model with hidden (64, 64, 64) on synthetic smooth data (5
   inputs, 64-point profiles, seed 0; 5 epochs, no L-BFGS: the weights need
   not be good, the scaling and PCA decode are real) against a plain NumPy
   forward pass of the same shapes written out here (input scaling, three
   tanh layers, the output layer, the PCA decode and output unscaling),
   reading the model's own arrays; the two agree to 1e-12 (asserted).
   `predict` keeps its default domain check. Median per-call time over
   rounds of many calls (timeit), the two taking turns:

   * one row: ours / NumPy, target <= 2x;
   * 10 000 rows in one call: ours / NumPy, target <= 1.0x (no slower).

Busy processes are Python busy loops at normal priority (`--busy N`; `--both`
runs everything quiet, then with two, and prints both). Every figure is a
ratio of medians measured in the same run under the same load. See
benchmarks/README.md.

    python benchmarks/bench_threads.py --both      # quiet, then two busy processes
    python benchmarks/bench_threads.py --busy 2    # with two busy processes only
    python benchmarks/bench_threads.py --quick     # smoke run
"""
import argparse
import contextlib
import os
import pathlib
import signal
import statistics
import subprocess
import sys
import time
import timeit

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
if (ROOT / "surrogate" / "__init__.py").exists():
    sys.path.insert(0, str(ROOT))  # benchmark the checkout, not an older install

import numba  # noqa: E402
import threadpoolctl  # noqa: E402

import problems  # noqa: E402
from surrogate import Surrogate  # noqa: E402

# name -> (Surrogate options, the budget a full run uses, a --quick run's)
NETWORKS = {
    "default (64, 64, 64)": ({}, dict(epochs=40, lbfgs_iter=80), dict(epochs=8, lbfgs_iter=16)),
    "run heat (16, 16)": (dict(hidden=(16, 16)), dict(epochs=60, lbfgs_iter=150),
                          dict(epochs=12, lbfgs_iter=30)),
}
HEAT_CASES, SEED = 600, 0
SERVE_HIDDEN, SERVE_INPUTS, SERVE_POINTS, SERVE_CASES, BATCH_ROWS = (64, 64, 64), 5, 64, 2000, 10_000
TARGET_FIT, TARGET_ONE, TARGET_BATCH = 1.25, 2.0, 1.0
SETTLE_SECONDS = 0.2      # idle OpenMP/BLAS threads stop spinning before the next timing
SPIN_UP_SECONDS = 1.0


@contextlib.contextmanager
def spinning_processes(n):
    """`n` Python busy loops at normal priority, killed on leaving (errors, Ctrl-C and
    SIGTERM too: SIGTERM is turned into SystemExit so `finally` runs)."""
    if n and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    procs = []
    try:
        for _ in range(n):
            procs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
        if n:
            time.sleep(SPIN_UP_SECONDS)
        yield procs
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("a busy process ended early; the busy figures are void")
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


# -- 1. fit time: auto against every pool pinned to one thread -------------------

def fit_auto(X, Y, options):
    return Surrogate(**options).fit(X, Y, progress=False)      # threads="auto", BLAS as it is


def fit_pinned(X, Y, options):
    with threadpoolctl.threadpool_limits(1):
        return Surrogate(**options, threads=1).fit(X, Y, progress=False)


def fit_times(X, Y, options, repeats):
    """{setting: median seconds}, and whether the two settings' parameters are bitwise equal."""
    fits = {"auto": fit_auto, "pinned": fit_pinned}
    params = {name: fit(X, Y, options).net_.params.copy() for name, fit in fits.items()}  # warm-up
    seconds = {name: [] for name in fits}
    for r in range(repeats):
        for name in (list(fits) if r % 2 == 0 else list(fits)[::-1]):
            time.sleep(SETTLE_SECONDS)
            t0 = time.perf_counter()
            model = fits[name](X, Y, options)
            seconds[name].append(time.perf_counter() - t0)
            if not np.array_equal(model.net_.params, params[name]):
                raise AssertionError(f"two {name} fits with the same seed differ")
    equal = params["auto"].tobytes() == params["pinned"].tobytes()
    return {name: statistics.median(s) for name, s in seconds.items()}, equal


# -- 2. serving: predict against a NumPy forward pass --------------------------

def serving_model(quick):
    """A Surrogate with hidden (64, 64, 64) on synthetic smooth 64-point profiles, and test rows."""
    rng = np.random.default_rng(SEED)
    X = rng.uniform(-1.0, 1.0, (SERVE_CASES, SERVE_INPUTS))
    grid = np.linspace(0.0, 1.0, SERVE_POINTS)
    freq = rng.uniform(0.5, 3.0, (SERVE_INPUTS, 1))
    Y = np.tanh(X @ rng.normal(size=(SERVE_INPUTS, 1))) + np.sin(np.pi * (X[:, :1] + 1) * grid) \
        + (X[:, 1:3] ** 2).sum(axis=1, keepdims=True) * np.cos(freq[0] * np.pi * grid)
    model = Surrogate(hidden=SERVE_HIDDEN, epochs=5, lbfgs_iter=0, seed=SEED).fit(X, Y, progress=False)
    rows = rng.uniform(-0.9, 0.9, (BATCH_ROWS, SERVE_INPUTS))       # inside the training box
    return model, rows


def numpy_forward(model):
    """predict's arithmetic in plain NumPy, on the model's own arrays (see surrogate/scaling.py)."""
    s, net = model.scaling_, model.net_
    x_mean, x_scale, decoder, y_mean = s.x_mean, s.x_scale, s.decoder, s.y_mean
    layers = [(np.ascontiguousarray(w.T), b.copy()) for w, b in zip(net.weights, net.biases)]
    assert net.activations == ["tanh"] * (len(layers) - 1) + ["identity"], net.activations
    assert net.dtype == np.float64

    def forward(X):
        a = (X - x_mean) / x_scale                  # input scaling
        for wt, b in layers[:-1]:
            a = np.tanh(a @ wt + b)                 # hidden layers
        wt, b = layers[-1]
        c = a @ wt + b                              # output layer: PCA coefficients
        Y = c @ decoder                             # decode: y_scale * basis, one matmul
        Y += y_mean                                 # output unscaling
        return Y
    return forward


def per_call(calls, number, rounds):
    """{name: median seconds per call} over `rounds` rounds of `number` calls, in turns."""
    times = {name: [] for name in calls}
    for fn in calls.values():
        fn()                                        # warm-up
    for r in range(rounds):
        for name in (list(calls) if r % 2 == 0 else list(calls)[::-1]):
            times[name].append(timeit.timeit(calls[name], number=number) / number)
    return {name: statistics.median(t) for name, t in times.items()}


def serving(model, rows, quick):
    forward = numpy_forward(model)
    one = rows[:1]
    for X in (one, rows):
        ours, ref = model.predict(X), forward(X)
        err = np.max(np.abs(ours - ref)) / np.max(np.abs(ref))
        assert err <= 1e-12, f"NumPy forward differs from predict by {err:.1e} (relative)"
    single = per_call({"ours": lambda: model.predict(one), "numpy": lambda: forward(one)},
                      number=200 if quick else 2000, rounds=3 if quick else 15)
    batch = per_call({"ours": lambda: model.predict(rows), "numpy": lambda: forward(rows)},
                     number=1 if quick else 5, rounds=3 if quick else 15)
    return single, batch


# -- the run -------------------------------------------------------------------

def measure(heat, model, rows, args, label):
    """One pass: every fit and serving figure, and its checks [(label, measured, target, ok)]."""
    print(f"\n== {label} ==")
    checks = []
    for name, (options, budget, quick_budget) in NETWORKS.items():
        opts = {**options, **(quick_budget if args.quick else budget), "seed": SEED}
        t, equal = fit_times(heat.X, heat.Y, opts, args.repeats)
        ratio = t["auto"] / t["pinned"]
        print(f"fit, {name}, {opts['epochs']} epochs + {opts['lbfgs_iter']} L-BFGS: auto "
              f"{t['auto']:.2f} s, pinned to one thread {t['pinned']:.2f} s, auto/pinned "
              f"{ratio:.2f}x; parameters bitwise {'equal' if equal else 'DIFFERENT'}", flush=True)
        checks += [(f"fit {name}: auto / pinned", f"{ratio:.2f}x", f"<= {TARGET_FIT}x", ratio <= TARGET_FIT),
                   (f"fit {name}: parameters auto vs pinned", "equal" if equal else "differ",
                    "bitwise", equal)]
    single, batch = serving(model, rows, args.quick)
    for what, t, target in (("predict, one row", single, TARGET_ONE),
                            (f"predict, {len(rows):,} rows", batch, TARGET_BATCH)):
        ratio = t["ours"] / t["numpy"]
        print(f"{what}: ours {t['ours'] * 1e6:,.1f} us, NumPy forward {t['numpy'] * 1e6:,.1f} us "
              f"per call, ours/NumPy {ratio:.2f}x", flush=True)
        checks.append((f"{what}: ours / NumPy", f"{ratio:.2f}x", f"<= {target}x", ratio <= target))
    return checks


def print_table(passes):
    labels = list(passes)
    rows = [c[0] for c in passes[labels[0]]]
    width = max(len(r) for r in rows) + 2
    print("\n" + f"{'check':{width}s}" + "".join(f"{lab[:16]:>18s}{'':6s}" for lab in labels)
          + f"{'target':>10s}")
    for i, row in enumerate(rows):
        cells = "".join(f"{passes[lab][i][1]:>18s}{'PASS' if passes[lab][i][3] else 'MISS':>6s}"
                        for lab in labels)
        print(f"{row:{width}s}{cells}{passes[labels[0]][i][2]:>10s}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: small budgets, few repeats")
    p.add_argument("--repeats", type=int, help="timed fits per setting (default 5; 1 with --quick)")
    p.add_argument("--busy", type=int, default=0, metavar="N",
                   help="run with N spinning Python processes (default 0)")
    p.add_argument("--both", action="store_true",
                   help="run quiet, then with 2 spinning processes, and print both")
    args = p.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 5)
    if args.busy < 0:
        p.error("--busy takes a number of processes >= 0")

    pools = "; ".join(f"{lib['internal_api']} {lib['num_threads']} threads"
                      + (f" (kernel {lib['architecture']})" if lib.get("architecture") else "")
                      for lib in threadpoolctl.threadpool_info())
    print(f"machine: {os.cpu_count()} cores; numba {numba.get_num_threads()} threads; {pools}")
    print("load average (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())
    print(f"fits: medians of {args.repeats}, auto and pinned taking turns, after one untimed fit each")
    heat = problems.generate(problems.get("heat"), HEAT_CASES, seed=SEED, workers=1, progress=False)
    model, rows = serving_model(args.quick)
    print(f"heat data: {heat.X.shape[0]} cases, {heat.X.shape[1]} inputs, {heat.Y.shape[1]}-point "
          f"profiles; serving model: hidden {SERVE_HIDDEN}, {model.scaling_.n_modes} PCA modes "
          f"of {SERVE_POINTS} points")

    runs = [0, 2] if args.both else [args.busy]
    passes = {}
    for n in runs:
        label = "quiet" if n == 0 else f"{n} busy process{'es' if n > 1 else ''}"
        with spinning_processes(n):
            passes[label] = measure(heat, model, rows, args, label)
    print("load average at the end (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())
    print_table(passes)


if __name__ == "__main__":
    main()
