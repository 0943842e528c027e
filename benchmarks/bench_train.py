"""Training speed of our engine against PyTorch, JAX, scikit-learn and NumPy.

Every contender trains the same network the same way (tanh hidden layers,
identity output, float64, plain SGD lr 0.01, batch 32, shuffled epochs) on the
same synthetic data, in one run, and we print samples per second. Timings are
medians of repeats after one untimed warm-up run (JIT compilation), with the
contenders taking turns, so that ratios stand up on a shared, noisy machine.
See benchmarks/README.md.

    python benchmarks/bench_train.py               # everything (a few minutes)
    python benchmarks/bench_train.py --quick       # smoke run
    python benchmarks/bench_train.py --only S --peers jax,numpy
"""
import os
import sys

# OpenBLAS reads these when it is loaded (at `import numpy`), so --native-blas
# restarts this script without them before anything imports numpy.
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
if "--native-blas" in sys.argv and any(k in os.environ for k in BLAS_ENV):
    env = {k: v for k, v in os.environ.items() if k not in BLAS_ENV}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import argparse
import importlib
import platform
import statistics
import subprocess
import time
from functools import partial
from pathlib import Path

import numpy as np

from _peers import PEERS

ROOT = Path(__file__).resolve().parents[1]
if (ROOT / "surrogate" / "__init__.py").exists():
    sys.path.insert(0, str(ROOT))       # benchmark the checkout, not an older install

WORKLOADS = {"S": [2, 32, 32, 1], "M": [8, 64, 64, 64, 128], "W": [8, 256, 256, 256, 128]}
PEER_MODULES = {"torch": "torch", "jax": "jax", "sklearn": "sklearn", "numpy": "numpy"}
LR, BATCH, EPOCHS = 0.01, 32, 3
BIG_BATCH = 512                         # the GFLOP/s and float32 checks, on W
MATMUL_N = 2048
TARGET_RATIO, TARGET_FRACTION, TARGET_F32, TARGET_COLD = 1.0, 0.5, 1.6, 2.0

COLD_START = """
import numpy as np, surrogate
X = np.random.default_rng(0).uniform(-1, 1, (2000, 2))
Y = np.sin(3 * X[:, :1]) * np.cos(2 * X[:, 1:])
net = surrogate.MLP([2, 32, 32, 1], activation="tanh", output_activation="identity", seed=0)
surrogate.train(net, X, Y, surrogate.SGD(lr=0.01), batch_size=32, epochs=1, seed=0, progress=False)
net.predict(X)
"""


SETTLE_SECONDS = 0.5


def medians(jobs, repeats):
    """Time ``jobs`` ({name: make_run}, ``make_run(warmup) -> run``) in turns.

    Each job's ``make_run(True)()`` runs once, untimed (JIT compilation); then in
    each of `repeats` rounds every job's ``make_run(False)()`` is timed once
    (``make_run`` itself is not), so a burst of load from other jobs on the
    machine falls on all contenders alike. Returns {name: (median wall seconds,
    median cores kept busy = this process's CPU time / wall time)}."""
    for make_run in jobs.values():
        make_run(True)()
    walls, cores = {name: [] for name in jobs}, {name: [] for name in jobs}
    for _ in range(repeats):
        for name, make_run in jobs.items():
            run = make_run(False)
            # Let the previous contender's idle threads stop spinning (OpenMP,
            # Eigen and OpenBLAS pools spin for a while after work), so none
            # is timed on a core another one still holds.
            time.sleep(SETTLE_SECONDS)
            t0, c0 = time.perf_counter(), time.process_time()
            run()
            walls[name].append(time.perf_counter() - t0)
            cores[name].append((time.process_time() - c0) / walls[name][-1])
    return {name: (statistics.median(walls[name]), statistics.median(cores[name]))
            for name in jobs}


def training(peer, sizes, X, Y, batch):
    """A job training `EPOCHS` epochs; its warm-up trains 1 epoch (compiling what the peer compiles)."""
    factory = peer(sizes, X, Y, batch, LR)
    return lambda warmup: factory(1 if warmup else EPOCHS)


def matmul(dtype, n=MATMUL_N):
    """A job multiplying two n x n matrices (NumPy's BLAS)."""
    a = np.random.default_rng(0).random((n, n)).astype(dtype)
    return lambda warmup: partial(np.matmul, a, a)


def ours(sizes, X, Y, batch, lr):
    """Our engine, in the same shape as the peers in _peers.py."""
    import surrogate

    def factory(epochs):
        net = surrogate.MLP(sizes, activation="tanh", output_activation="identity",
                            seed=0, dtype=X.dtype.type)
        opt = surrogate.SGD(lr=lr)
        return partial(surrogate.train, net, X, Y, opt, batch_size=batch, epochs=epochs,
                       shuffle=True, seed=0, progress=False)
    return factory


def make_data(sizes, n, seed=0):
    """X uniform in [-1, 1]^d; Y = sin of random projections of X (smooth, seeded)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, (n, sizes[0]))
    P = rng.normal(0, 2 / np.sqrt(sizes[0]), (sizes[0], sizes[-1]))
    return X, np.sin(X @ P + rng.uniform(0, np.pi, sizes[-1]))


def flops_per_sample(sizes):
    """2M (forward) + 2M (weight gradients) + 2(M - M_1) (deltas, none into the input)."""
    M = sum(n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))
    return 6 * M - 2 * sizes[0] * sizes[1]


def cold_start():
    """A job running a fresh Python process that imports, trains one epoch and predicts.
    The warm-up run fills numba's cache (cache=True), as a user's first run would."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    run = partial(subprocess.run, [sys.executable, "-c", COLD_START], env=env, check=True)
    return lambda warmup: run


def load_engine():
    try:
        import surrogate
        surrogate.MLP, surrogate.SGD, surrogate.train      # the contract we time
        return surrogate
    except (ImportError, AttributeError) as e:
        print(f"note: our engine is not importable ({e}); only the peers run")
        return None


def load_peers(names):
    peers = {}
    for name in names:
        try:
            importlib.import_module(PEER_MODULES[name])
            peers[name] = PEERS[name]
        except ImportError as e:
            print(f"note: skipping peer {name}: {e}")
    return peers


def print_setup(engine):
    import threadpoolctl
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    print(f"machine: {cpu}, {os.cpu_count()} cores, this process may use "
          f"{len(os.sched_getaffinity(0))}; Python {platform.python_version()}, "
          f"NumPy {np.__version__}")
    for k in BLAS_ENV:
        print(f"  {k} = {os.environ.get(k, '(unset)')}")
    if any(k in os.environ for k in BLAS_ENV):
        print("  (OpenBLAS's own kernels: --native-blas, i.e. env -u OPENBLAS_CORETYPE "
              "-u OPENBLAS_L2_SIZE python benchmarks/bench_train.py)")
    print("load average (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())
    if os.getloadavg()[0] > 1:
        print("  note: other jobs are running; two-thread contenders (ours on M and W, "
              "torch) lose far more to them than one-thread peers (see README)")
    print("threads:")
    if engine is not None:
        import numba
        print(f"  numba {numba.__version__}: {numba.get_num_threads()} threads "
              f"(NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS})")
    if sys.modules.get("torch"):
        torch = sys.modules["torch"]
        print(f"  torch {torch.__version__}: {torch.get_num_threads()} intra-op, "
              f"{torch.get_num_interop_threads()} inter-op threads")
    if sys.modules.get("jax"):
        jax = sys.modules["jax"]
        print(f"  jax {jax.__version__}: devices {jax.devices()}; XLA's CPU thread pool "
              f"sees {len(os.sched_getaffinity(0))} cores; "
              f"XLA_FLAGS={os.environ.get('XLA_FLAGS', '(unset)')}")
    if sys.modules.get("sklearn"):
        print(f"  scikit-learn {sys.modules['sklearn'].__version__}: "
              "its BLAS (SciPy's / NumPy's OpenBLAS) below")
    for lib in threadpoolctl.threadpool_info():
        kernel = f", kernel {lib['architecture']}" if "architecture" in lib else ""
        print(f"  {lib['internal_api']} {lib.get('version') or ''}: {lib['num_threads']} "
              f"threads{kernel} ({Path(lib['filepath']).name})")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 4 000 samples, 1 repeat (unless --repeats)")
    p.add_argument("--repeats", type=int, help="timed runs per measurement (default 3)")
    p.add_argument("--only", default="S,M,W", help="workloads, from S,M,W (default all)")
    p.add_argument("--peers", default=",".join(PEERS),
                   help=f"peers, from {','.join(PEERS)} (default all installed)")
    p.add_argument("--no-extras", action="store_true",
                   help="skip the GFLOP/s, float32 and cold-start checks")
    p.add_argument("--native-blas", action="store_true",
                   help="rerun without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, i.e. "
                   "`env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python "
                   "benchmarks/bench_train.py`, so OpenBLAS picks its own kernels")
    args = p.parse_args()
    args.only, args.peers = args.only.split(","), args.peers.split(",")
    for name, known in [*((w, WORKLOADS) for w in args.only), *((q, PEERS) for q in args.peers)]:
        if name not in known:
            p.error(f"unknown name {name!r}; choose from {', '.join(known)}")
    args.n = 4_000 if args.quick else 20_000
    args.repeats = args.repeats or (1 if args.quick else 3)
    return args


def main():
    args = parse_args()
    engine = load_engine()
    peers = load_peers(args.peers)
    print_setup(engine)
    print(f"\ntraining: {args.n} samples, {EPOCHS} epochs, batch {BATCH}, float64, SGD lr {LR}; "
          f"samples/s = median of {args.repeats}, contenders taking turns, after a warm-up")
    contenders = {"ours": ours, **peers} if engine else peers
    results, data = {}, {}
    for w in args.only:
        sizes = WORKLOADS[w]
        data[w] = make_data(sizes, args.n)
        timed = medians({name: training(peer, sizes, *data[w], BATCH)
                         for name, peer in contenders.items()}, args.repeats)
        for name, (seconds, cores) in timed.items():
            results[w, name] = EPOCHS * args.n / seconds
            print(f"  {w} {str(sizes):26s} {name:8s} {results[w, name]:>12,.0f} samples/s"
                  f"   ({cores:.1f} cores busy)", flush=True)

    # The machine's matmul rate, timed in turns with ours on W at batch 512.
    W = WORKLOADS["W"]
    X, Y = data.get("W") or make_data(W, args.n)
    dtypes = {"float64": np.float64, "float32": np.float32}
    jobs = {f"matmul {d}": matmul(dt) for d, dt in dtypes.items()}
    extras = engine is not None and not args.no_extras
    if extras:
        jobs.update({f"ours {d}": training(ours, W, X.astype(dt), Y.astype(dt), BIG_BATCH)
                     for d, dt in dtypes.items()})
    timed = {name: seconds for name, (seconds, _) in medians(jobs, max(3, args.repeats)).items()}
    rate = {d: 2 * MATMUL_N**3 / timed[f"matmul {d}"] / 1e9 for d in dtypes}
    print(f"\nmatmul {MATMUL_N}x{MATMUL_N} (NumPy): float64 {rate['float64']:.1f} GFLOP/s, "
          f"float32 {rate['float32']:.1f} GFLOP/s")
    checks = []
    if extras:
        sps = {d: EPOCHS * args.n / timed[f"ours {d}"] for d in dtypes}
        fps = flops_per_sample(W)
        gflops = fps * sps["float64"] / 1e9
        fraction, f32 = gflops / rate["float64"], sps["float32"] / sps["float64"]
        print(f"ours on W {W} at batch {BIG_BATCH}:")
        print(f"  flops/sample = 2M (forward) + 2M (weight gradients) + 2(M - M_1) "
              f"(deltas, none into the input) = {fps:,}  [M = sum of weight-matrix sizes, "
              f"M_1 = first layer's]")
        print(f"  float64 {sps['float64']:,.0f} samples/s = {gflops:.1f} GFLOP/s "
              f"= {fraction:.0%} of the float64 matmul rate")
        print(f"  float32 {sps['float32']:,.0f} samples/s = {f32:.2f}x float64")
        cold = medians({"cold": cold_start()}, args.repeats)["cold"][0]
        print(f"cold start (new process: import, 1 epoch of [2, 32, 32, 1] on 2000 samples, "
              f"predict; kernels cached): {cold:.2f} s, median of {args.repeats}")
        checks = [(f"W b{BIG_BATCH} float64, fraction of matmul rate", f"{fraction:.0%}",
                   f">= {TARGET_FRACTION:.0%}", fraction >= TARGET_FRACTION),
                  (f"W b{BIG_BATCH} float32 / float64 samples/s", f"{f32:.2f}x",
                   f">= {TARGET_F32}x", f32 >= TARGET_F32),
                  ("cold start, second process", f"{cold:.2f} s",
                   f"<= {TARGET_COLD:.0f} s", cold <= TARGET_COLD)]
    if engine:
        import numba
        print(f"numba threading layer: {numba.threading_layer()}")
    print("load average at the end (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())
    print_table(args.only, list(peers), results, checks)


def print_table(workloads, peer_names, results, checks):
    names = ["ours", *peer_names]
    print(f"\n{'workload':10s}" + "".join(f"{n:>12s}" for n in names)
          + f"{'ours/best':>11s}{'target':>9s}{'result':>8s}")
    for w in workloads:
        cells = "".join(f"{results[w, n]:>12,.0f}" if (w, n) in results else f"{'-':>12s}"
                        for n in names)
        best = max((results[w, n] for n in peer_names), default=None)
        if (w, "ours") in results and best:
            ratio = results[w, "ours"] / best
            tail = f"{ratio:>10.2f}x{'>= 1.0x':>9s}{'PASS' if ratio >= TARGET_RATIO else 'MISS':>8s}"
        else:
            tail = f"{'-':>11s}{'>= 1.0x':>9s}{'-':>8s}"
        print(f"{w:10s}{cells}{tail}")
    if checks:
        print(f"\n{'check':45s}{'measured':>10s}{'target':>10s}{'result':>8s}")
        for label, measured, target, ok in checks:
            print(f"{label:45s}{measured:>10s}{target:>10s}{'PASS' if ok else 'MISS':>8s}")


if __name__ == "__main__":
    main()
