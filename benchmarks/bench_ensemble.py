"""Ensembles: training throughput of members side by side, and the calibration of their spread.

1. Throughput. The network `surrogate run heat` uses (5 inputs, hidden
   (16, 16), tanh, a few output modes), Adam at batch 32, as `Surrogate.fit`
   drives it: an ensemble of K members trained side by side
   (`training._train_members`, one member per thread, all Numba threads)
   against one member trained alone under the default thread policy
   (`threads="auto"`: one thread). Throughput is member-samples per second,
   K x n per epoch; the two are timed alternately in the same run, medians
   of `--repeats`, and the ratio is printed. The target is >= 1.6x
   for K = 4 on a quiet 2-core machine.
2. Calibration. On the heat problem (600 cases, seed 0), split 70/15/15
   into training, validation and test, an ensemble of 5 with `surrogate run
   heat`'s budget: on the test cases, the share of values inside mean +- 2
   std, the Spearman correlation between each profile's RMS std and RMS
   error, and the mean relative L2 error of the ensemble mean against each
   member's.

    python benchmarks/bench_ensemble.py            # both parts, a few minutes
    python benchmarks/bench_ensemble.py --quick    # smoke run
"""
import argparse
import contextlib
import pathlib
import sys
import time

import numba
import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
if (ROOT / "surrogate" / "__init__.py").exists():
    sys.path.insert(0, str(ROOT))  # benchmark the checkout, not an older install

import problems  # noqa: E402
from surrogate import Surrogate  # noqa: E402
from surrogate.metrics import coverage, rel_l2, spread_error_spearman  # noqa: E402
from surrogate.model import member_seeds  # noqa: E402
from surrogate.network import MLP  # noqa: E402
from surrogate.optimizers import Adam  # noqa: E402
from surrogate.training import _train, _train_members  # noqa: E402


@contextlib.contextmanager
def threads(n):
    before = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def throughput(K, n, modes, epochs, repeats):
    """(single, ensemble) member-samples per second, medians over `repeats` alternating runs."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.0, 1.0, (n, 5))
    Y = np.sin(X @ rng.normal(size=(5, modes)))
    sizes = [5, 16, 16, modes]

    def nets(k):
        return [MLP(sizes, seed=np.random.default_rng(member_seeds(0, i)[0])) for i in range(k)]

    def single():
        with threads(1):  # the default policy for one network
            _train(nets(1)[0], X, Y, Adam(3e-3), batch_size=32, epochs=epochs, seed=0, progress=False)

    def ensemble():
        with threads(numba.config.NUMBA_NUM_THREADS):  # the default for an ensemble: all threads
            _train_members(nets(K), X, Y, Adam(3e-3), 32, epochs, list(range(K)), progress=False)

    single(), ensemble()  # compile and warm up
    t_single, t_ens = [], []
    for _ in range(repeats):
        for run, times in ((single, t_single), (ensemble, t_ens)):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
    return n * epochs / np.median(t_single), K * n * epochs / np.median(t_ens)


def calibration(n_cases, K, quick):
    heat = problems.get("heat")
    data = problems.generate(heat, n_cases, seed=0, workers=2)
    train, val, test = data.split((0.7, 0.15, 0.15), seed=0)
    budget = dict(hidden=(16, 16), epochs=600, lbfgs_iter=1500) if not quick else dict(hidden=(16, 16), epochs=40, lbfgs_iter=40)
    t0 = time.perf_counter()
    model = Surrogate(ensemble=K, seed=0, **budget).fit(train.X, train.Y, validation=(val.X, val.Y), progress=False)
    fit_seconds = time.perf_counter() - t0
    mean, std = model.predict(test.X, return_std=True, domain="ignore")
    members = model.predict_members(test.X, domain="ignore")
    member_err = [float(rel_l2(y_true=test.Y, y_pred=p).mean()) for p in members]
    return {
        "cases (train/val/test)": f"{train.X.shape[0]}/{val.X.shape[0]}/{test.X.shape[0]}",
        "fit seconds": fit_seconds,
        "calibration factor": model.calibration_,
        "coverage, mean +- 2 std": coverage(y_true=test.Y, y_pred=mean, y_std=std),
        "coverage, uncalibrated": coverage(y_true=test.Y, y_pred=mean, y_std=std / model.calibration_),
        "Spearman, RMS std vs RMS error": spread_error_spearman(y_true=test.Y, y_pred=mean, y_std=std),
        "rel. L2 of the mean": float(rel_l2(y_true=test.Y, y_pred=mean).mean()),
        "rel. L2 of the members (median)": float(np.median(member_err)),
        "rel. L2 of the members (best, worst)": (min(member_err), max(member_err)),
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: small sizes")
    p.add_argument("--members", type=int, default=4, help="ensemble size for the throughput (default 4)")
    p.add_argument("--modes", type=int, default=6, help="network outputs (PCA modes; default 6)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--skip-calibration", action="store_true")
    args = p.parse_args(argv)
    n, epochs = (1000, 2) if args.quick else (1400, 20)
    print(f"machine: {numba.config.NUMBA_NUM_THREADS} Numba threads; timings are medians of {args.repeats}")
    single, ens = throughput(args.members, n, args.modes, epochs, 1 if args.quick else args.repeats)
    print(f"throughput, [5, 16, 16, {args.modes}], Adam, batch 32, {n} samples x {epochs} epochs:")
    print(f"  one member alone (1 thread):          {single:12,.0f} member-samples/s")
    print(f"  {args.members} members side by side (all threads): {ens:12,.0f} member-samples/s")
    print(f"  ratio: {ens / single:.2f}x   (target >= 1.6x on a quiet machine)")
    if not args.skip_calibration:
        print("calibration, heat, ensemble of 5:")
        for key, value in calibration(200 if args.quick else 600, 5, args.quick).items():
            text = value if isinstance(value, str) else (
                ", ".join(f"{v:.3e}" for v in value) if isinstance(value, tuple) else f"{value:.4g}")
            print(f"  {key:<38} {text}")


if __name__ == "__main__":
    main()
