"""Matplotlib figures for judging a surrogate: profiles, error maps, loss curves.

Every function builds a `matplotlib.figure.Figure` directly, without pyplot:
no global figure registry to leak memory in a loop, no backend to select (so
nothing changes for a notebook's inline backend, which still displays the
returned Figure), and saving works headless on a cluster node. Each returns
the Figure and, given `path`, also saves it as PNG (parent dirs created).
"""
from __future__ import annotations

import pathlib
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ._files import write_atomic

__all__ = [
    "case_indices",
    "plot_error_along_grid",
    "plot_error_vs_parameters",
    "plot_loss",
    "plot_profiles",
]

SOLVER_STYLE = dict(color="black", linestyle="-", linewidth=1.6)
SURROGATE_STYLE = dict(color="tab:red", linestyle="--", linewidth=1.6)
DPI = 120


def _save(fig: Figure, path) -> Figure:
    if path is not None:
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fmt = path.suffix[1:] or "png"
        write_atomic(path, lambda f: fig.savefig(f, dpi=DPI, format=fmt), fsync=False)
    return fig


def _as_1d(name: str, a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D, got shape {a.shape}")
    return a


def case_indices(rel_l2, cases: Sequence = ("best", "median", "worst")) -> list[int]:
    """Sample indices for `cases`, each "best", "median", "worst" or an explicit int index.

    Ranks by relative L2 error with a stable sort: best is the smallest, worst
    the largest (a NaN counts as worst), median the lower median, i.e. the
    sample at rank ``(n - 1) // 2``, so it is always a real sample.
    """
    rel_l2 = _as_1d("rel_l2", rel_l2)
    n = rel_l2.size
    if n == 0:
        raise ValueError("`rel_l2` is empty: no cases to choose from")
    order = np.argsort(rel_l2, kind="stable")
    rank = {"best": 0, "median": (n - 1) // 2, "worst": n - 1}
    out = []
    for case in cases:
        if isinstance(case, str):
            if case not in rank:
                raise ValueError(f"unknown case {case!r}; use one of {sorted(rank)} or an int index")
            out.append(int(order[rank[case]]))
        elif isinstance(case, (int, np.integer)) and not isinstance(case, bool):
            if not -n <= case < n:
                raise ValueError(f"case index {case} is out of range for {n} samples")
            out.append(int(case) % n)
        else:
            raise TypeError(f"a case must be 'best', 'median', 'worst' or an int, got {case!r}")
    return out


def plot_profiles(grid, Y_true, Y_pred, *, rel_l2=None, cases=("best", "median", "worst"),
                  grid_label: str = "x", value_label: str = "u", title: str | None = None,
                  Y_std=None, path=None) -> Figure:
    """Surrogate (dashed) against solver (solid) for the best, median and worst held-out cases.

    One column per case; the lower panel shows the pointwise error
    ``surrogate - solver``, which is usually too small to see in the upper one.
    `rel_l2` (per profile) is computed if not given. Given the predictive
    spread `Y_std` (shape of `Y_pred`, e.g. an ensemble's), both panels shade
    the band of +- 2 std around the surrogate (below: around zero error).
    """
    grid = _as_1d("grid", grid)
    Y_true = np.asarray(Y_true, dtype=np.float64)
    Y_pred = np.asarray(Y_pred, dtype=np.float64)
    if Y_true.ndim != 2 or Y_true.shape[1] != grid.size:
        raise ValueError(f"`Y_true` must have shape (n, {grid.size}) to match `grid`, got {Y_true.shape}")
    if Y_pred.shape != Y_true.shape:
        raise ValueError(f"`Y_pred` must have the shape of `Y_true` {Y_true.shape}, got {Y_pred.shape}")
    if rel_l2 is None:
        from .metrics import rel_l2 as _rel_l2
        rel_l2 = _rel_l2(y_true=Y_true, y_pred=Y_pred)
    if Y_std is not None:
        Y_std = np.asarray(Y_std, dtype=np.float64)
        if Y_std.shape != Y_pred.shape:
            raise ValueError(f"`Y_std` must have the shape of `Y_pred` {Y_pred.shape}, got {Y_std.shape}")
    rel_l2 = _as_1d("rel_l2", rel_l2)
    if rel_l2.size != Y_true.shape[0]:
        raise ValueError(f"`rel_l2` must have one value per profile ({Y_true.shape[0]}), got {rel_l2.size}")
    index = case_indices(rel_l2, cases)
    labels = [c if isinstance(c, str) else "case" for c in cases]

    k = len(index)
    fig = Figure(figsize=(4.0 * k, 4.6), layout="constrained")
    axes = fig.subplots(2, k, sharex="col", squeeze=False, gridspec_kw={"height_ratios": [3, 1]})
    for j, (i, label) in enumerate(zip(index, labels)):
        top, bottom = axes[0, j], axes[1, j]
        top.plot(grid, Y_true[i], label="solver", **SOLVER_STYLE)
        top.plot(grid, Y_pred[i], label="surrogate", **SURROGATE_STYLE)
        if Y_std is not None:
            band = dict(color=SURROGATE_STYLE["color"], alpha=0.2, linewidth=0)
            top.fill_between(grid, Y_pred[i] - 2 * Y_std[i], Y_pred[i] + 2 * Y_std[i],
                             label="+- 2 std", **band)
            bottom.fill_between(grid, -2 * Y_std[i], 2 * Y_std[i], **band)
        top.set_title(f"{label}: sample {i}, rel. L2 = {rel_l2[i]:.2e}", fontsize="medium")
        bottom.axhline(0.0, color="0.6", linewidth=0.8)
        bottom.plot(grid, Y_pred[i] - Y_true[i], color=SURROGATE_STYLE["color"], linewidth=1.0)
        bottom.set_xlabel(grid_label)
        bottom.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
        if j == 0:
            top.set_ylabel(value_label)
            bottom.set_ylabel("error")
            top.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_error_vs_parameters(X, rel_l2, param_names=None, *, ncols: int = 4,
                             path=None) -> Figure:
    """Relative L2 error against each input parameter: where in the box the surrogate struggles.

    One scatter panel per parameter (log y, shared), wrapped into rows of `ncols`.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"`X` must be 2-D (n samples, d parameters), got shape {X.shape}")
    rel_l2 = _as_1d("rel_l2", rel_l2)
    n, d = X.shape
    if rel_l2.size != n:
        raise ValueError(f"`rel_l2` must have one value per row of `X` ({n}), got {rel_l2.size}")
    if param_names is None:
        param_names = [f"x{j}" for j in range(d)]
    param_names = list(param_names)
    if len(param_names) != d:
        raise ValueError(f"`param_names` must name the {d} columns of `X`, got {len(param_names)}: "
                         f"{param_names}")
    ncols = max(1, min(ncols, d))
    nrows = -(-d // ncols)
    fig = Figure(figsize=(3.2 * ncols, 2.8 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False).ravel()
    for j, ax in enumerate(axes):
        if j >= d:
            fig.delaxes(ax)  # unused cells of the last row
            continue
        ax.scatter(X[:, j], rel_l2, s=10, alpha=0.7, color="tab:blue", edgecolors="none")
        ax.set_yscale("log")
        ax.set_xlabel(param_names[j])
        if j % ncols == 0:
            ax.set_ylabel("relative L2 error")
        ax.grid(True, which="major", alpha=0.3)
    return _save(fig, path)


def plot_error_along_grid(grid, error_per_point, *, grid_label: str = "x",
                          path=None) -> Figure:
    """RMSE at each grid point (see `metrics.error_per_point`): boundary layers, shocks, edges."""
    grid = _as_1d("grid", grid)
    err = _as_1d("error_per_point", error_per_point)
    if err.size != grid.size:
        raise ValueError(f"`error_per_point` must have one value per grid point ({grid.size}), "
                         f"got {err.size}")
    fig = Figure(figsize=(6.0, 3.4), layout="constrained")
    ax = fig.add_subplot()
    ax.plot(grid, err, color="tab:red", linewidth=1.4)
    if np.all(err[np.isfinite(err)] > 0):
        ax.set_yscale("log")
    ax.set_xlabel(grid_label)
    ax.set_ylabel("RMSE over held-out cases")
    ax.grid(True, alpha=0.3)
    return _save(fig, path)


def _history_series(history, key: str):
    if isinstance(history, Mapping):
        value = history.get(key)
    else:
        value = getattr(history, key, None)
    if value is None:
        return None
    return np.asarray(value, dtype=np.float64).ravel()


def _phases(history) -> list:
    """[(phase name or None, history)]: one history, or a mapping phase -> history."""
    if _history_series(history, "loss") is not None:
        return [(None, history)]
    if (isinstance(history, Mapping) and history
            and all(_history_series(h, "loss") is not None for h in history.values())):
        return list(history.items())
    raise ValueError("`history` has no 'loss' (a dict key or an attribute); expected per-epoch "
                     "lists 'loss' and optionally 'val_loss', or a dict of such histories per "
                     "training phase, e.g. {'adam': {...}, 'lbfgs': {...}}")


def plot_loss(history, *, path=None) -> Figure:
    """Training (and validation) loss per epoch on a log scale, best validation epoch marked.

    `history` is a dict, or an object with attributes, holding a "loss" list
    and optionally a "val_loss" list, one value per epoch. It may also be a
    dict of such histories per training phase (``Surrogate.history``, e.g.
    ``{"adam": ..., "lbfgs": ...}``): the phases are drawn one after the other,
    separated by a dotted line, since each continues from where the last ended.
    """
    phases = _phases(history)
    fig = Figure(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    offset, values, best = 0, [], None  # best = (value, x, phase, step)
    for p, (name, h) in enumerate(phases):
        loss = _history_series(h, "loss")
        val = _history_series(h, "val_loss")
        if p > 0:
            ax.axvline(offset + 0.5, color="0.5", linestyle=":", linewidth=1.0)
        if name is not None:
            ax.annotate(str(name), (offset + 1, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -12), textcoords="offset points", fontsize="small", color="0.4")
        ax.plot(offset + np.arange(1, loss.size + 1), loss, color="tab:blue",
                label="training" if p == 0 else None)
        values.append(loss)
        if val is not None and val.size:
            x = offset + np.arange(1, val.size + 1)
            ax.plot(x, val, color="tab:orange", label="validation" if best is None else None)
            values.append(val)
            finite = np.isfinite(val)
            if finite.any():
                k = int(np.nanargmin(np.where(finite, val, np.nan)))
                if best is None or val[k] < best[0]:
                    best = (val[k], x[k], name, k + 1)
        offset += loss.size
    if best is not None:
        where = f"epoch {best[3]}" if best[2] is None else f"{best[2]}, step {best[3]}"
        ax.plot(best[1], best[0], "o", color="tab:orange", label=f"best validation ({where})")
    values = np.concatenate(values)
    if np.any(np.isfinite(values) & (values > 0)):
        ax.set_yscale("log")
    ax.set_xlabel("epoch" if len(phases) == 1 else "epoch / iteration, phase after phase")
    ax.set_ylabel("loss")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path)
