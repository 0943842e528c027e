"""Held-out error measures for a surrogate that predicts profiles.

Every measure takes keyword-only ``y_true=`` and ``y_pred=`` (scikit-learn's
names; keywords, so a swapped order cannot silently invert a normalisation),
of shape ``(n, m)``: ``n`` profiles (one per
parameter point), each sampled at ``m`` grid points. Every measure is computed
in float64 whatever the input dtype, so a float32 model is judged fairly.

`evaluate` runs a model on held-out cases and returns a `Report` with all the
measures and the timing (surrogate against solver, per profile), which prints
as a table and serialises to JSON.
"""
from __future__ import annotations

import dataclasses
import inspect
import json
import math
import pathlib
import time
import warnings

import numpy as np

__all__ = [
    "Report",
    "coverage",
    "error_per_point",
    "evaluate",
    "max_abs_error",
    "nrmse",
    "r2",
    "rel_l2",
    "rmse",
    "spread_error_spearman",
]


def _check_pair(pred, true) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 (n, m) arrays of the same shape, or a ValueError saying which is wrong."""
    pred = np.asarray(pred, dtype=np.float64)
    true = np.asarray(true, dtype=np.float64)
    for name, a in (("y_pred", pred), ("y_true", true)):
        if a.ndim != 2:
            raise ValueError(f"`{name}` must be a 2-D array of shape (n profiles, m grid points), "
                             f"got shape {a.shape}; for a single profile use `{name}[None, :]`")
        if a.size == 0:
            raise ValueError(f"`{name}` is empty (shape {a.shape}); need at least one profile "
                             "and one grid point")
    if pred.shape != true.shape:
        raise ValueError(f"`y_pred` and `y_true` must have the same shape, got y_pred.shape={pred.shape} "
                         f"and y_true.shape={true.shape}")
    return pred, true


def _guarded_ratio(num: np.ndarray, den: np.ndarray, what: str) -> np.ndarray:
    """num/den, where den == 0 gives 0 if num == 0 and inf otherwise, with one warning.

    A profile that is identically zero has no scale to be relative to: an exact
    prediction of it is no error (0), any other prediction is infinitely wrong
    relative to it (inf). We do not add an epsilon, which would turn the
    undefined value into an arbitrary large finite one that looks plausible.
    """
    zero = den == 0
    if not zero.any():
        return num / den
    out = np.empty_like(num)
    out[~zero] = num[~zero] / den[~zero]
    out[zero] = np.where(num[zero] == 0, 0.0, np.inf)
    warnings.warn(f"{what}: {int(zero.sum())} profile(s) of `true` are identically zero, so the "
                  "relative error is undefined there; reported as 0 where the prediction is "
                  "exact and inf otherwise", RuntimeWarning, stacklevel=3)
    return out


def rel_l2(*, y_true, y_pred) -> np.ndarray:
    """Relative L2 error per profile, ``||pred_i - true_i||_2 / ||true_i||_2``, shape (n,).

    Scale-free, so profiles of very different magnitude count alike. Where
    ``||true_i|| = 0`` the value is 0 for an exact prediction and inf otherwise
    (with a RuntimeWarning): see `_guarded_ratio`.
    """
    pred, true = _check_pair(y_pred, y_true)
    return _guarded_ratio(np.linalg.norm(pred - true, axis=1), np.linalg.norm(true, axis=1),
                          "rel_l2")


def rmse(*, y_true, y_pred) -> float:
    """Root-mean-square error over all profiles and grid points, in the units of the field."""
    pred, true = _check_pair(y_pred, y_true)
    return float(np.sqrt(np.mean((pred - true) ** 2)))


def nrmse(*, y_true, y_pred) -> float:
    """Normalised RMSE as PDEBench defines it: the mean over profiles of RMSE_i / RMS(true_i).

    PDEBench (``pdebench/models/metrics.py``, ``metric_func``, the quantity
    ``err_nMSE``) computes, per sample and channel,
    ``sqrt(mean_x (pred - target)^2) / sqrt(mean_x target^2)`` over the spatial
    points, then averages over the batch (and over channels and time steps).
    For one channel and no time axis this is exactly the mean of `rel_l2`: the
    1/m inside both square roots cancels. The same zero-profile guard applies.
    """
    pred, true = _check_pair(y_pred, y_true)
    err = np.sqrt(np.mean((pred - true) ** 2, axis=1))
    nrm = np.sqrt(np.mean(true ** 2, axis=1))
    return float(np.mean(_guarded_ratio(err, nrm, "nrmse")))


def max_abs_error(*, y_true, y_pred) -> float:
    """Largest absolute pointwise error, ``max_ij |pred_ij - true_ij|``: the worst case."""
    pred, true = _check_pair(y_pred, y_true)
    return float(np.max(np.abs(pred - true)))


def r2(*, y_true, y_pred, skip_constant: bool = False) -> float:
    """Coefficient of determination, averaged uniformly over the m outputs (grid points).

    Per output j: ``R2_j = 1 - sum_i (true_ij - pred_ij)^2 / sum_i (true_ij - mean_i true_ij)^2``.
    As scikit-learn's ``r2_score(true, pred, multioutput="uniform_average")``
    (with its default ``force_finite=True``): an output whose true values are
    constant scores 1 if predicted exactly and 0 otherwise.

    ``skip_constant=True`` leaves such outputs out of the average instead. In
    physics they are usually boundary points fixed by a boundary condition,
    where R^2 means nothing, and scoring them 0 would make a near-perfect
    surrogate look mediocre (2 boundary points of 64 cap R^2 at 0.97). If every
    output is constant the sklearn convention is used. With fewer than two
    profiles R^2 is undefined: returns nan with a warning, as sklearn does.
    """
    pred, true = _check_pair(y_pred, y_true)
    if true.shape[0] < 2:
        warnings.warn("r2: R^2 is undefined with fewer than two profiles; returning nan",
                      RuntimeWarning, stacklevel=2)
        return float("nan")
    ss_res = np.sum((true - pred) ** 2, axis=0)
    ss_tot = np.sum((true - true.mean(axis=0)) ** 2, axis=0)
    constant = ss_tot == 0
    score = np.ones_like(ss_tot)
    score[~constant] = 1.0 - ss_res[~constant] / ss_tot[~constant]
    score[constant & (ss_res != 0)] = 0.0
    if skip_constant and not constant.all():
        score = score[~constant]
    return float(np.mean(score))


def _check_std(y_std, shape) -> np.ndarray:
    std = np.asarray(y_std, dtype=np.float64)
    if std.shape != shape:
        raise ValueError(f"`y_std` must have the shape of `y_true` {shape}, got {std.shape}")
    if not (std >= 0).all():
        raise ValueError(f"`y_std` must be >= 0 everywhere, got a minimum of {float(np.nanmin(std))!r}"
                         if not np.isnan(std).any() else "`y_std` contains NaN")
    return std


def coverage(*, y_true, y_pred, y_std, k: float = 2.0) -> float:
    """Share of the (profile, grid point) values with ``|true - pred| <= k std``.

    For a calibrated Gaussian spread, about 95.4% at k = 2.
    """
    pred, true = _check_pair(y_pred, y_true)
    std = _check_std(y_std, true.shape)
    return float(np.mean(np.abs(true - pred) <= k * std))


def spread_error_spearman(*, y_true, y_pred, y_std) -> float:
    """Spearman rank correlation, over profiles, between RMS spread and RMS error.

    Per profile i: ``sqrt(mean_x std_i^2)`` against ``sqrt(mean_x (pred_i - true_i)^2)``.
    1 when the spread ranks the profiles exactly as their errors do, so the
    spread points at the bad cases; about 0 when it says nothing of them.
    NaN when either list is constant or there are fewer than two profiles.
    """
    pred, true = _check_pair(y_pred, y_true)
    std = _check_std(y_std, true.shape)
    if true.shape[0] < 2:
        return math.nan
    from scipy.stats import spearmanr  # here: scipy costs ~0.4 s of import
    spread = np.sqrt(np.mean(std ** 2, axis=1))
    error = np.sqrt(np.mean((pred - true) ** 2, axis=1))
    with warnings.catch_warnings():  # a constant input: NaN, and scipy warns
        warnings.simplefilter("ignore")
        return float(spearmanr(spread, error).statistic)


def error_per_point(*, y_true, y_pred) -> np.ndarray:
    """RMSE over profiles at each grid point, shape (m,): where along the grid the error lives."""
    pred, true = _check_pair(y_pred, y_true)
    return np.sqrt(np.mean((pred - true) ** 2, axis=0))


# ----------------------------------------------------------------------------
# the report

_ARRAY_FIELDS = ("error_per_point", "rel_l2")


@dataclasses.dataclass(eq=False)
class Report:
    """Held-out errors and timing of a surrogate; see `evaluate`.

    ``r2`` here leaves grid points whose true value never varies (boundary
    conditions) out of the average: ``r2(pred, true, skip_constant=True)``.
    Timing fields are seconds per profile; speed-ups are solver time over
    surrogate time and are None unless the solver time was given.
    """

    n_profiles: int
    n_points: int
    rel_l2_mean: float
    rel_l2_median: float
    rel_l2_max: float
    rmse: float
    nrmse: float
    max_abs_error: float
    r2: float
    error_per_point: np.ndarray
    rel_l2: np.ndarray
    surrogate_seconds_per_profile_batched: float | None = None
    surrogate_seconds_per_profile_single: float | None = None
    solver_seconds_per_profile: float | None = None
    speedup_per_profile: float | None = None
    speedup_single: float | None = None
    coverage_2std: float | None = None
    spread_error_spearman: float | None = None

    def to_dict(self) -> dict:
        """Plain Python values only (ints, floats, lists, None), ready for `json.dumps`."""
        out = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name in _ARRAY_FIELDS:
                out[field.name] = [float(v) for v in np.asarray(value, dtype=np.float64)]
            elif value is None or field.name in ("n_profiles", "n_points"):
                out[field.name] = value if value is None else int(value)
            else:
                out[field.name] = float(value)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> "Report":
        """Inverse of `to_dict` (unknown keys are an error, so typos do not pass silently)."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown Report field(s) {sorted(unknown)}; known: {sorted(names)}")
        kwargs = dict(d)
        for name in _ARRAY_FIELDS:
            if name in kwargs:
                kwargs[name] = np.asarray(kwargs[name], dtype=np.float64)
        return cls(**kwargs)

    def to_json(self, path=None, *, indent: int = 2) -> str:
        """The report as JSON text; also written to `path` (parent dirs created) if given.

        Non-finite values appear as ``NaN``/``Infinity``, which Python's json reads back.
        """
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            path = pathlib.Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text + "\n", encoding="utf-8")
        return text

    def rows(self) -> list[tuple[str, str]]:
        """(label, formatted value) pairs: the table that `str(report)` prints."""
        def sci(x):
            return "n/a" if x is None else f"{x:.3e}"

        def speed(x):
            if x is None:
                return "n/a"
            return f"{x:,.0f}x" if math.isfinite(x) and x >= 100 else f"{x:.3g}x"

        return [
            ("relative L2 error, mean", sci(self.rel_l2_mean)),
            ("relative L2 error, median", sci(self.rel_l2_median)),
            ("relative L2 error, max", sci(self.rel_l2_max)),
            ("RMSE", sci(self.rmse)),
            ("nRMSE (PDEBench)", sci(self.nrmse)),
            ("max absolute error", sci(self.max_abs_error)),
            ("R^2 (non-constant points)", f"{self.r2:.6f}"),
            ("surrogate s/profile, batched", sci(self.surrogate_seconds_per_profile_batched)),
            ("surrogate s/profile, one at a time", sci(self.surrogate_seconds_per_profile_single)),
            ("solver s/profile", sci(self.solver_seconds_per_profile)),
            ("speed-up per profile, batched", speed(self.speedup_per_profile)),
            ("speed-up per profile, one at a time", speed(self.speedup_single)),
        ] + ([] if self.coverage_2std is None else [
            ("share inside mean +- 2 std", f"{self.coverage_2std:.3f}"),
            ("Spearman, RMS std vs RMS error", f"{self.spread_error_spearman:.3f}"),
        ])

    def __str__(self) -> str:
        rows = self.rows()
        width = max(len(label) for label, _ in rows)
        vwidth = max(len(value) for _, value in rows)
        lines = [f"Held-out evaluation: {self.n_profiles} profiles x {self.n_points} grid points"]
        lines += [f"  {label:<{width}}  {value:>{vwidth}}" for label, value in rows]
        return "\n".join(lines)


# ----------------------------------------------------------------------------
# evaluation

def _median_seconds(call, repeats: int, budget: float) -> float:
    """Median wall time of `call()` over up to `repeats` runs, stopping once `budget` s are spent."""
    times = []
    start = time.perf_counter()
    for _ in range(repeats):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget:
            break
    return float(np.median(times))


def _predict(model, X, n: int, m: int) -> np.ndarray:
    pred = np.asarray(model.predict(X))
    if pred.shape != (n, m):
        raise ValueError(f"model.predict(X) returned shape {pred.shape}, expected {(n, m)} "
                         "(one row of m grid values per row of X)")
    return pred


def has_std(model) -> bool:
    """Whether ``model.predict(X, return_std=True)`` gives a spread: the model's
    `has_std` if it says, else whether `predict` takes `return_std`."""
    says = getattr(model, "has_std", None)
    if says is not None:
        return bool(says)
    try:
        return "return_std" in inspect.signature(model.predict).parameters
    except (TypeError, ValueError):
        return False


def _timings(model, X, n, timing_batch, repeats, max_single):
    """(seconds per profile batched, median seconds of a one-row call)."""
    batch = X if n >= timing_batch else np.resize(X, (timing_batch, X.shape[1]))
    model.predict(batch)  # untimed: warms up the path for this batch size
    batched = _median_seconds(lambda: model.predict(batch), repeats, budget=2.0) / batch.shape[0]
    rows = np.unique(np.linspace(0, n - 1, min(n, max_single)).round().astype(int))
    model.predict(X[rows[:1]])  # warm up the single-row path
    times = []
    for i in rows:
        row = X[i:i + 1]
        t0 = time.perf_counter()
        model.predict(row)
        times.append(time.perf_counter() - t0)
    return batched, float(np.median(times))


def evaluate(model, X, Y, *, solver_seconds_per_profile: float | None = None,
             timing: bool = True, repeats: int = 30, max_single: int = 50,
             timing_batch: int = 10_000) -> Report:
    """Judge `model` (anything with ``predict(X) -> (n, m)``) on held-out inputs X and truth Y.

    Timing, when on: batched is the median over up to `repeats` calls of
    ``predict`` on a batch of max(n, `timing_batch`) rows (the rows of X,
    repeated cyclically when there are fewer: a surrogate serving profiles in
    bulk amortises its per-call overhead over large batches, which a small
    test set would not show), divided by the batch size (the first, untimed
    call warms up any JIT; 30 calls by default, because the first few
    milliseconds after a fit can be several times slower while other thread
    pools wind down); one at a time is the median of ``predict(X[i:i+1])`` over up to
    `max_single` evenly spaced rows, each its own call, as inside a scan or a
    transport code. Speed-ups divide `solver_seconds_per_profile` by those.

    For a model with a spread (`has_std`: an ensemble, or anything whose
    ``predict(X, return_std=True)`` returns (mean, std)), the report also
    measures its calibration on these cases: `coverage` (k = 2) and
    `spread_error_spearman`. The errors are then those of the mean.
    """
    X = np.asarray(X)
    Y = np.asarray(Y)
    if Y.dtype.kind not in "biuf":  # complex would lose its imaginary part without a word
        raise ValueError(f"`Y` must be a real numeric array, got dtype {Y.dtype}")
    Y = Y.astype(np.float64, copy=False)
    if not np.isfinite(Y).all():  # a NaN truth would make every error NaN, silently
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(Y))[0])
        raise ValueError(f"`Y` must be finite; Y{list(bad)} is {Y[bad]}")
    if X.ndim != 2:
        raise ValueError(f"`X` must be a 2-D array of shape (n cases, d parameters), got shape {X.shape}")
    if Y.ndim != 2:
        raise ValueError(f"`Y` must be a 2-D array of shape (n cases, m grid points), got shape {Y.shape}")
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"`X` and `Y` must have the same number of rows, got X.shape={X.shape} "
                         f"and Y.shape={Y.shape}")
    if solver_seconds_per_profile is not None and not solver_seconds_per_profile > 0:
        raise ValueError(f"`solver_seconds_per_profile` must be > 0, got {solver_seconds_per_profile}")
    n, m = Y.shape
    std = None
    if has_std(model):
        pred, std = model.predict(X, return_std=True)
        if np.shape(std) != (n, m):
            raise ValueError(f"model.predict(X, return_std=True) returned std of shape {np.shape(std)}, "
                             f"expected {(n, m)}")
        pred = np.asarray(pred)
        if pred.shape != (n, m):
            raise ValueError(f"model.predict(X, return_std=True) returned a mean of shape {pred.shape}, "
                             f"expected {(n, m)}")
    else:
        pred = _predict(model, X, n, m)
    pred, true = _check_pair(pred, Y)

    rl2 = rel_l2(y_true=true, y_pred=pred)
    with warnings.catch_warnings():  # rel_l2 has already warned about zero profiles
        warnings.simplefilter("ignore", RuntimeWarning)
        nrmse_value = nrmse(y_true=true, y_pred=pred)
        r2_value = r2(y_true=true, y_pred=pred, skip_constant=True)

    batched = single = None
    if timing:
        with warnings.catch_warnings():  # the prediction above has said what there is to say
            warnings.simplefilter("ignore", UserWarning)
            batched, single = _timings(model, X, n, timing_batch, repeats, max_single)

    def speedup(surrogate_seconds):
        if solver_seconds_per_profile is None or surrogate_seconds is None:
            return None
        return float(solver_seconds_per_profile / surrogate_seconds) if surrogate_seconds > 0 else math.inf

    return Report(
        n_profiles=n,
        n_points=m,
        rel_l2_mean=float(np.mean(rl2)),
        rel_l2_median=float(np.median(rl2)),
        rel_l2_max=float(np.max(rl2)),
        rmse=rmse(y_true=true, y_pred=pred),
        nrmse=nrmse_value,
        max_abs_error=max_abs_error(y_true=true, y_pred=pred),
        r2=r2_value,
        error_per_point=error_per_point(y_true=true, y_pred=pred),
        rel_l2=rl2,
        surrogate_seconds_per_profile_batched=batched,
        surrogate_seconds_per_profile_single=single,
        solver_seconds_per_profile=(None if solver_seconds_per_profile is None
                                    else float(solver_seconds_per_profile)),
        speedup_per_profile=speedup(batched),
        speedup_single=speedup(single),
        coverage_2std=None if std is None else coverage(y_true=true, y_pred=pred, y_std=std),
        spread_error_spearman=(None if std is None
                               else spread_error_spearman(y_true=true, y_pred=pred, y_std=std)),
    )
