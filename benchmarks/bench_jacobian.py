"""Input Jacobians: `Surrogate.jacobian` against the central differences it replaces.

A central-difference Jacobian of a d-input surrogate costs 2d `predict`
calls. For each model below, in the same run:

* one row:   `jacobian(x)` against 2d single-row `predict` calls (target: >= 5x faster);
* 1000 rows: `jacobian(X)` against 2d batched `predict(X)` calls (target: no slower).

Times are medians of several repeats, each of many calls; the ratios, not the
absolute times, are what carries over to another (or a busier) machine.
The models are fitted briefly to a synthetic smooth field: their accuracy
does not matter here, only their sizes (inputs, hidden widths, PCA modes,
output points), which span both kernel modes (forward when d <= k).

    python benchmarks/bench_jacobian.py
"""
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
if (ROOT / "surrogate" / "__init__.py").exists():
    sys.path.insert(0, str(ROOT))  # benchmark the checkout, not an older install

from surrogate import Surrogate  # noqa: E402

#: (label, inputs d, hidden, output points m, pca_tol)
CASES = [
    ("burgers-like, forward", 4, (64, 64), 128, 1e-6),
    ("heat-like, forward", 5, (16, 16), 65, 1e-6),
    ("few modes, reverse", 8, (64, 64, 64), 100, 0.1),
]


def field(X, m):
    grid = np.linspace(0.0, 1.0, m)
    out = np.zeros((X.shape[0], m))
    for q in range(X.shape[1]):
        out += np.sin((q + 1) * np.pi * grid * (1 + 0.3 * X[:, q:q + 1])) / (q + 1)
    return out


def median_seconds(call, number, repeats=7):
    call()  # warm: compiled, buffers allocated
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            call()
        times.append((time.perf_counter() - t0) / number)
    return float(np.median(times))


def main():
    rng = np.random.default_rng(0)
    print("medians of 7 repeats; ratio > 1: the Jacobian is faster than the 2d predicts")
    print(f"{'model':24s} {'d':>2s} {'k':>3s} {'m':>4s} | {'1 row: jac':>11s} {'2d predicts':>11s} {'ratio':>6s} "
          f"| {'1000 rows: jac':>14s} {'2d predicts':>11s} {'ratio':>6s}")
    for label, d, hidden, m, tol in CASES:
        X = rng.random((400, d))
        model = Surrogate(hidden=hidden, epochs=3, lbfgs_iter=0, pca_tol=tol, seed=0)
        model.fit(X, field(X, m), progress=False)
        x = X[0]
        Xb = rng.random((1000, d)) * 0.9 + 0.05
        steps = [x + 1e-6 * e for e in np.eye(d)] + [x - 1e-6 * e for e in np.eye(d)]

        def fd_single():
            for s in steps:
                model.predict(s)

        def fd_batched():
            for q in range(2 * d):
                model.predict(Xb)

        j1 = median_seconds(lambda: model.jacobian(x), 200)
        p1 = median_seconds(fd_single, 200)
        jb = median_seconds(lambda: model.jacobian(Xb), 5)
        pb = median_seconds(fd_batched, 5)
        print(f"{label:24s} {d:2d} {model.scaling_.n_modes:3d} {m:4d} | {j1 * 1e6:9.1f}us {p1 * 1e6:9.1f}us "
              f"{p1 / j1:5.1f}x | {jb * 1e3:12.2f}ms {pb * 1e3:9.2f}ms {pb / jb:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
