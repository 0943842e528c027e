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
    "axis_label",
    "case_indices",
    "parameter_values",
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


def axis_label(name: str, unit: str | None = None) -> str:
    """"name [unit]", or just the name when the unit is unknown (None or "")."""
    return f"{name} [{unit}]" if unit else str(name)


def _dimensionless(unit) -> bool:
    return not unit or unit in ("-", "1", "log10(1)")


def _value(value: float, unit: str | None) -> str:
    """'0.31 MA': a parameter value with its unit (none for a pure number)."""
    return f"{value:.3g}" if _dimensionless(unit) else f"{value:.3g} {unit}"


def parameter_values(x, param_names, param_units=None, per_line: int = 3, width: int = 46) -> str:
    """'k = 0.31 1/lambda_D, n_b = 0.05 n0': one case's parameters, at most `per_line`
    to a line and a line no longer than `width` characters (unless one value is)."""
    x = _as_1d("x", x)
    names, units = _names_units(x.size, param_names, param_units)
    parts = [f"{n} = {_value(v, u)}" for n, v, u in zip(names, x, units)]
    lines = [[]]
    for part in parts:
        line = lines[-1]
        if line and (len(line) == per_line or len(", ".join(line + [part])) > width):
            lines.append(line := [])
        line.append(part)
    return ",\n".join(", ".join(line) for line in lines)


def _names_units(d: int, param_names, param_units):
    names = [f"x{j}" for j in range(d)] if param_names is None else [str(n) for n in param_names]
    if len(names) != d:
        raise ValueError(f"`param_names` must name the {d} columns of `X`, got {len(names)}: {names}")
    units = [None] * d if param_units is None else [None if u is None else str(u) for u in param_units]
    if len(units) != d:
        raise ValueError(f"`param_units` must give a unit for each of the {d} columns of `X`, "
                         f"got {len(units)}: {units}")
    return names, units


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
                  Y_std=None, path=None, grid_unit: str | None = None, value_unit: str | None = None,
                  X=None, param_names=None, param_units=None) -> Figure:
    """Surrogate (dashed) against solver (solid) for the best, median and worst held-out cases.

    One column per case; the lower panel shows the pointwise error
    ``surrogate - solver``, which is usually too small to see in the upper one.
    `rel_l2` (per profile) is computed if not given. Given the predictive
    spread `Y_std` (shape of `Y_pred`, e.g. an ensemble's), both panels shade
    the band of +- 2 std around the surrogate (below: around zero error).

    The axes read "grid_label [grid_unit]" and "value_label [value_unit]".
    Given the cases' parameters `X` (n, d), with `param_names` and
    `param_units`, each case is titled by its parameter values
    ("best: Ip = 1.2 MA, B0 = 3.1 T, ..."); without them, by its row index.
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
    if X is not None:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] != Y_true.shape[0]:
            raise ValueError(f"`X` must have one row of parameters per profile, shape ({Y_true.shape[0]}, d), "
                             f"got {X.shape}")
        _names_units(X.shape[1], param_names, param_units)  # checked before drawing
    index = case_indices(rel_l2, cases)
    labels = [c if isinstance(c, str) else "case" for c in cases]

    k = len(index)
    fig = Figure(figsize=(4.6 * k, 5.0 if X is None else 5.6), layout="constrained")
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
        if X is None:
            top.set_title(f"{label}: sample {i}, rel. L2 = {rel_l2[i]:.2e}", fontsize="medium")
        else:
            top.set_title(f"{label} (rel. L2 = {rel_l2[i]:.2e})\n"
                          + parameter_values(X[i], param_names, param_units, per_line=2), fontsize="small")
        bottom.axhline(0.0, color="0.6", linewidth=0.8)
        bottom.plot(grid, Y_pred[i] - Y_true[i], color=SURROGATE_STYLE["color"], linewidth=1.0)
        bottom.set_xlabel(axis_label(grid_label, grid_unit))
        bottom.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
        if j == 0:
            top.set_ylabel(axis_label(value_label, value_unit))
            bottom.set_ylabel(axis_label("error", value_unit))
            top.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return _save(fig, path)


#: colours of the held-out sets, by name; other names take the next default colours
GROUP_COLOURS = {"interpolation": "tab:blue", "extrapolation": "tab:orange", "test": "tab:blue"}


def _groups(groups, n):
    """Per-row set names (None: one unnamed set) -> [(name, row mask, colour)]."""
    if groups is None:
        return [(None, np.ones(n, dtype=bool), "tab:blue")]
    groups = np.asarray(groups, dtype=object).ravel()
    if groups.size != n:
        raise ValueError(f"`groups` must name the set of each of the {n} rows, got {groups.size} names")
    names = list(dict.fromkeys(groups.tolist()))  # in order of first appearance
    spare = iter(c for c in ("tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")
                 if c not in GROUP_COLOURS.values())
    return [(str(g), groups == g, GROUP_COLOURS.get(str(g)) or next(spare, "0.4")) for g in names]


def plot_error_vs_parameters(X, rel_l2, param_names=None, *, ncols: int = 4, path=None,
                             param_units=None, groups=None, title: str | None = None) -> Figure:
    """Relative L2 error against each input parameter: where in the box the surrogate struggles.

    One scatter panel per parameter (log y, shared), wrapped into rows of
    `ncols`; each x axis reads "name [unit]" (`param_units`). `groups` names
    the set of each row (e.g. "interpolation" or "extrapolation"): each set
    gets its own colour and a legend entry.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"`X` must be 2-D (n samples, d parameters), got shape {X.shape}")
    rel_l2 = _as_1d("rel_l2", rel_l2)
    n, d = X.shape
    if rel_l2.size != n:
        raise ValueError(f"`rel_l2` must have one value per row of `X` ({n}), got {rel_l2.size}")
    names, units = _names_units(d, param_names, param_units)
    sets = _groups(groups, n)
    ncols = max(1, min(ncols, d))
    nrows = -(-d // ncols)
    fig = Figure(figsize=(3.2 * ncols, 2.8 * nrows + 0.5), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False).ravel()
    for j, ax in enumerate(axes):
        if j >= d:
            fig.delaxes(ax)  # unused cells of the last row
            continue
        for name, rows, colour in sets:
            ax.scatter(X[rows, j], rel_l2[rows], s=10, alpha=0.7, color=colour, edgecolors="none",
                       label=name)
        ax.set_yscale("log")
        ax.set_xlabel(axis_label(names[j], units[j]))
        ax.set_title(f"error vs {names[j]}", fontsize="medium")
        if j % ncols == 0:
            ax.set_ylabel("relative L2 error")
        ax.grid(True, which="major", alpha=0.3)
    if len(sets) > 1:
        axes[0].legend(fontsize="small", title="held-out cases", title_fontsize="small")
    fig.suptitle(title or "Relative L2 error of each held-out case against each parameter")
    return _save(fig, path)


def plot_error_along_grid(grid, error_per_point, *, grid_label: str = "x", path=None,
                          grid_unit: str | None = None, value_label: str | None = None,
                          value_unit: str | None = None, title: str | None = None) -> Figure:
    """RMSE at each grid point (see `metrics.error_per_point`): boundary layers, shocks, edges.

    `error_per_point` is one array, or a mapping set name -> array (e.g.
    {"interpolation": ..., "extrapolation": ...}) drawn in the sets' colours
    with a legend. The RMSE carries the profile's unit, `value_unit`.
    """
    grid = _as_1d("grid", grid)
    series = dict(error_per_point) if isinstance(error_per_point, Mapping) else {None: error_per_point}
    if not series:
        raise ValueError("`error_per_point` is an empty mapping: nothing to draw")
    spare = iter(("tab:green", "tab:purple", "tab:brown"))
    fig = Figure(figsize=(6.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    positive = True
    for name, err in series.items():
        err = _as_1d("error_per_point", err)
        if err.size != grid.size:
            raise ValueError(f"`error_per_point` must have one value per grid point ({grid.size}), "
                             f"got {err.size}")
        colour = "tab:red" if name is None else GROUP_COLOURS.get(str(name)) or next(spare, "0.4")
        ax.plot(grid, err, color=colour, linewidth=1.4, label=name)
        positive &= bool(np.all(err[np.isfinite(err)] > 0))
    if positive:
        ax.set_yscale("log")
    ax.set_xlabel(axis_label(grid_label, grid_unit))
    what = "RMSE over held-out cases" + (f" of {value_label}" if value_label else "")
    ax.set_ylabel(axis_label(what, value_unit))
    if title:
        ax.set_title(title, fontsize="medium")
    if len(series) > 1 or None not in series:
        ax.legend(fontsize="small", title="held-out cases", title_fontsize="small")
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


#: what one step of a training phase is called on the x axis
PHASE_STEPS = {"adam": "Adam epoch", "sgd": "SGD epoch", "lbfgs": "L-BFGS iteration"}


def _steps_label(phases) -> str:
    names = [name for name, _ in phases]
    if names == [None]:
        return "epoch"
    return ", then ".join(PHASE_STEPS.get(str(n).lower(), f"{n} step") for n in names)


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
    ax.set_xlabel(_steps_label(phases))
    ax.set_ylabel("loss: quadratic cost C\n(scaled outputs, dimensionless)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize="small")
    return _save(fig, path)
