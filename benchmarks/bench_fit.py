"""Fit quality and fit time: the default `Surrogate().fit` against its peers.

On smooth physics data (the `heat` problem: 5 parameters -> a 65-point
temperature profile), every contender fits a network of the same hidden
sizes (default 64, 64, 64, tanh) to the same training cases, on standardised
inputs and outputs, and is judged on the same held-out cases by the mean
relative L2 error of the profile, in physical units:

* `Surrogate().fit`, with its defaults (Adam + cosine decay + early stopping,
  then L-BFGS), and the same with 2.5 times the epochs and L-BFGS iterations;
* scikit-learn `MLPRegressor`, solver="adam" (with its early stopping) and
  solver="lbfgs";
* a PyTorch loop: Adam, cosine decay, the same batch size as the
  Surrogate's Adam phase and the epochs of its whole (Adam + L-BFGS) budget,
  with the same early stopping, keeping the best validation epoch.

All run on one thread (BLAS, torch and Numba), so the comparison holds on a
shared machine and measures the work, not the thread pool. Peers are
optional: a missing library is skipped with a note.

    python benchmarks/bench_fit.py            # the full comparison (a few minutes)
    python benchmarks/bench_fit.py --quick    # smoke run, small sizes
"""
import argparse
import contextlib
import pathlib
import sys
import time
import warnings

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
if (ROOT / "surrogate" / "__init__.py").exists():
    sys.path.insert(0, str(ROOT))  # benchmark the checkout, not an older install

import problems  # noqa: E402
from surrogate import Surrogate  # noqa: E402
from surrogate.metrics import rel_l2  # noqa: E402


def one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


class Standardiser:
    """Per-column mean/std scaling, fitted on the training set (what the peers get)."""

    def __init__(self, A):
        self.mean, sd = A.mean(axis=0), A.std(axis=0)
        self.sd = np.where(sd > 0, sd, 1.0)

    def __call__(self, A):
        return (A - self.mean) / self.sd

    def inverse(self, Z):
        return Z * self.sd + self.mean


def fit_surrogate(Xt, Yt, hidden, epochs, lbfgs_iter, seed):
    model = Surrogate(hidden=hidden, epochs=epochs, lbfgs_iter=lbfgs_iter, seed=seed)
    model.fit(Xt, Yt, progress=False)
    return lambda X: model.predict(X, domain="ignore")


def fit_surrogate_longer(Xt, Yt, hidden, epochs, lbfgs_iter, seed):
    """The same fit on 2.5 times the default budget: the accuracy/time trade-off."""
    return fit_surrogate(Xt, Yt, hidden, 5 * epochs // 2, 5 * lbfgs_iter // 2, seed)


def fit_sklearn(solver):
    def fit(Xt, Yt, hidden, epochs, lbfgs_iter, seed):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPRegressor
        sx, sy = Standardiser(Xt), Standardiser(Yt)
        kw = dict(hidden_layer_sizes=hidden, activation="tanh", solver=solver, random_state=seed,
                  alpha=0.0, tol=1e-10)
        if solver == "adam":  # our batch, lr and patience; epochs: our whole budget
            kw.update(max_iter=epochs + lbfgs_iter, batch_size=32, learning_rate_init=3e-3, early_stopping=True,
                      validation_fraction=0.15, n_iter_no_change=100)
        else:
            kw.update(max_iter=lbfgs_iter, max_fun=10 * lbfgs_iter)
        net = MLPRegressor(**kw)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            net.fit(sx(Xt), sy(Yt))
        return lambda X: sy.inverse(net.predict(sx(X)))
    return fit


def fit_torch(Xt, Yt, hidden, epochs, lbfgs_iter, seed):
    import torch
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(Xt))
    n_val = int(round(0.15 * len(Xt)))
    sx, sy = Standardiser(Xt[order[n_val:]]), Standardiser(Yt[order[n_val:]])

    def tensor(A):
        return torch.from_numpy(np.ascontiguousarray(A, dtype=np.float64))

    Xtr, Ytr = tensor(sx(Xt[order[n_val:]])), tensor(sy(Yt[order[n_val:]]))
    Xv, Yv = tensor(sx(Xt[order[:n_val]])), tensor(sy(Yt[order[:n_val]]))
    layers, width = [], Xt.shape[1]
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.Tanh()]
        width = h
    net = torch.nn.Sequential(*layers, torch.nn.Linear(width, Yt.shape[1])).double()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    epochs += lbfgs_iter  # an Adam loop gets the epochs of our whole budget
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs, eta_min=3e-5)
    best, best_state, wait = np.inf, None, 0
    for _ in range(epochs):
        perm = torch.from_numpy(rng.permutation(len(Xtr)))
        for start in range(0, len(Xtr), 32):
            idx = perm[start:start + 32]
            opt.zero_grad()
            loss = 0.5 * ((net(Xtr[idx]) - Ytr[idx]) ** 2).sum(dim=1).mean()
            loss.backward()
            opt.step()
        sched.step()
        with torch.no_grad():
            val = float(((net(Xv) - Yv) ** 2).mean())
        if val < best:
            best, best_state, wait = val, {k: v.clone() for k, v in net.state_dict().items()}, 0
        else:
            wait += 1
            if wait >= 100:  # the Surrogate's patience
                break
    net.load_state_dict(best_state)

    def predict(X):
        with torch.no_grad():
            return sy.inverse(net(tensor(sx(X))).numpy())
    return predict


CONTENDERS = {
    "Surrogate().fit (Adam + L-BFGS)": fit_surrogate,
    "Surrogate, 2.5x the budget": fit_surrogate_longer,
    "sklearn MLPRegressor adam": fit_sklearn("adam"),
    "sklearn MLPRegressor lbfgs": fit_sklearn("lbfgs"),
    "PyTorch Adam loop": fit_torch,
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data and budgets (a smoke run)")
    parser.add_argument("--n", type=int, default=2000, help="cases solved (default 2000)")
    parser.add_argument("--hidden", default="64,64,64", help="hidden widths for every contender")
    args = parser.parse_args(argv)
    defaults = Surrogate()
    hidden = tuple(int(h) for h in args.hidden.split(","))
    n, epochs, lbfgs_iter = args.n, defaults.epochs, defaults.lbfgs_iter
    if args.quick:
        n, epochs, lbfgs_iter, hidden = 300, 40, 60, (16, 16)

    data = problems.generate("heat", n, seed=0, workers=1, progress=False)
    train, test = data.split((0.7, 0.3), seed=0)
    print(f"heat: {len(train)} training, {len(test)} held-out cases, {data.n_params} parameters "
          f"-> {data.n_grid} grid points; hidden {hidden}, tanh, float64, one thread each")
    print(f"budgets: Adam <= {epochs} epochs (batch 32, early stopping), L-BFGS <= {lbfgs_iter} iterations\n")

    rows = []
    for name, fit in CONTENDERS.items():
        try:
            with one_blas_thread():
                # untimed: compilation (Numba's kernels) and first-use set-up, for everyone
                fit(train.X[:64], train.Y[:64], hidden, 2, 2, 0)
                t0 = time.perf_counter()
                predict = fit(train.X, train.Y, hidden, epochs, lbfgs_iter, 0)
                seconds = time.perf_counter() - t0
                err = float(np.mean(rel_l2(y_true=test.Y, y_pred=predict(test.X))))
        except ImportError as exc:
            print(f"  skipped {name}: {exc.name or exc} is not installed "
                  "(pip install 'surrogate-toolkit[bench]')")
            continue
        rows.append((name, err, seconds))
        print(f"  {name:<34} rel L2 {err:.3e}   fit {seconds:7.1f} s", flush=True)

    ours_err, ours_s = rows[0][1], rows[0][2]
    print("\n| contender | held-out rel L2 (mean) | error / ours | fit time (s) | time / ours |")
    print("|---|---:|---:|---:|---:|")
    for name, err, seconds in rows:
        print(f"| {name} | {err:.3e} | {err / ours_err:.1f}x | {seconds:.1f} | {seconds / ours_s:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
