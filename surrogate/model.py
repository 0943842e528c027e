"""`Surrogate`: scaling + `MLP` + domain guard, with fit / predict / save / load.

What a physicist uses: ``Surrogate().fit(X, Y)`` on parameter points X
(n, d) and solver profiles Y (n, m), then ``predict`` at new points.

* Inputs are standardised and outputs reduced to a few PCA coefficients
  (`scaling.py`): the network learns few smooth coefficients, is cheaper
  to run, and its quadratic cost (Eq. 8 of `docs/maths.md`) stays
  proportional to the L2 error of the profile.
* ``fit`` runs Adam with cosine decay and early stopping on a validation
  split, then polishes with full-batch L-BFGS, keeping the parameters with
  the lowest validation cost.
* ``predict`` guards the domain (`domain.py`): points outside the input box
  seen in training warn (or raise) naming the inputs and how far out they are.
* ``save``/``load`` use `surrogate.io`: one pickle-free file; a loaded model
  predicts bit-identically.
* ``Surrogate(ensemble=K)`` fits K networks (members) on the same data and
  scaling, from different initial weights and batch orders. ``predict`` gives
  their mean; ``predict(X, return_std=True)`` also their spread, calibrated
  on the validation split (`calibration_factor`).

`Surrogate` is a scikit-learn regressor, without importing scikit-learn
(an optional extra, ``pip install ".[sklearn]"``): the constructor only
stores its options; `check_options` validates them (``fit`` calls it first);
what ``fit`` learns ends in an underscore (``net_``, ``scaling_``,
``guard_``, ``history_``, ``n_features_in_``, ...); ``get_params``,
``set_params``, ``score`` (R^2) and ``__sklearn_tags__`` are what
`Pipeline`, `GridSearchCV`, `clone` and `cross_val_score` call. A pandas
DataFrame's column names become the input names (``feature_names_in_``).
A 1-D y is one output, and ``predict`` then returns 1-D. Before ``fit``,
methods raise `NotFittedError`. A fitted model pickles in memory (for
joblib); model files stay pickle-free.
"""
import contextlib
import math
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from . import io
from . import jacobian as _jacobian
from ._checks import (check_array, check_in_range, check_int, check_pair, check_positive, check_real, check_threads,
                      check_validation)
from ._threads import blas_one_thread, shared_trials
from .activations import ACTIVATIONS
from .domain import (DomainGuard, OutOfDomainError, OutOfDomainWarning, check_domain_mode, check_spread,
                     rms_spread)
from .network import MLP
from .optimizers import LBFGS, Adam, CosineDecay
from .scaling import Scaling
from .training import History, _train, _train_members

__all__ = ["Surrogate", "NotFittedError", "OutOfDomainError", "OutOfDomainWarning"]

MODEL_KIND = "surrogate.Surrogate"
MODEL_VERSION = 2  # 2: params (K, P), one row per ensemble member; 1: params (P,)


def _package_version():
    try:
        from importlib.metadata import version
        return version("surrogate-toolkit")
    except Exception:  # not installed (e.g. run from a source tree)
        return "unknown"


@contextlib.contextmanager
def _numba_threads(n):
    """Run the compiled kernels on `n` threads (None: Numba's default), then restore."""
    before = numba.get_num_threads()
    numba.set_num_threads(before if n is None else min(n, numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(before)


# -- the options: declared once, for the constructor, get_params, save and load --

def _hidden(name, value):
    try:
        return tuple(check_int(name, h, 1) for h in value)
    except TypeError:
        raise ValueError(f"`{name}` must be a sequence of layer widths, got {value!r}") from None


def _activation(name, value):
    if not isinstance(value, str):
        raise ValueError(f"`{name}` must be the name of an activation, one of {sorted(ACTIVATIONS)}, "
                         f"got {value!r}")
    if value == "step":
        raise ValueError(f"`{name}` = 'step' cannot be trained: its derivative is zero almost "
                         "everywhere, so no gradient flows; use 'sigmoid' or 'tanh' for a smooth step")
    if value not in ACTIVATIONS:
        raise ValueError(f"`{name}` must be one of {sorted(ACTIVATIONS)}, got {value!r}")
    return value


def _dtype(name, value):
    try:
        dtype = np.dtype(value)
    except TypeError:
        dtype = None
    if dtype not in (np.float64, np.float32):
        raise ValueError(f"`{name}` must be float64 or float32, got {value!r}")
    return dtype


def _optional(check):
    return lambda name, value: None if value is None else check(name, value)


#: name -> (default, check). The constructor's signature repeats these
#: defaults for introspection (scikit-learn reads it); a test holds the two equal.
OPTIONS = {
    "hidden": ((64, 64, 64), _hidden),
    "activation": ("tanh", _activation),
    "seed": (0, lambda n, v: check_int(n, v, 0)),
    "epochs": (400, lambda n, v: check_int(n, v, 1)),
    "batch_size": (32, lambda n, v: check_int(n, v, 1)),
    "lr": (3e-3, check_positive),
    "patience": (100, lambda n, v: check_int(n, v, 1)),
    "lbfgs_iter": (800, lambda n, v: check_int(n, v, 0)),
    "validation_fraction": (0.15, lambda n, v: check_in_range(n, v, 0.0, 0.9)),
    "pca_tol": (1e-5, _optional(lambda n, v: check_in_range(n, v, 0.0, 1.0))),
    "domain": ("warn", lambda n, v: check_domain_mode(v, n)),
    "dtype": (np.float64, _dtype),
    "threads": ("auto", _optional(check_threads)),
    "ensemble": (1, lambda n, v: check_int(n, v, 1)),
}


def member_seeds(seed, k):
    """(weights, batch order) seed sequences of ensemble member k of a model seeded `seed`.

    Member 0 draws from the streams a single network draws from
    (``SeedSequence(seed).spawn(3)[1:]``), so ``ensemble=1`` is the plain
    model and member 0 of any ensemble equals it. Member k > 0 draws from
    the k-th child of each of those streams (spawn keys (1, k) and (2, k)).
    """
    if k == 0:
        return tuple(np.random.SeedSequence(seed, spawn_key=(i,)) for i in (1, 2))
    return tuple(np.random.SeedSequence(seed, spawn_key=(i, k)) for i in (1, 2))


def calibration_factor(Y, mean, std):
    """The scalar c that makes mean +- 2 c std cover 95.45% of the values of Y.

    With Gaussian errors of standard deviation c std, 95.45% of values lie
    within two of them. So c is half the 95.45% quantile of |Y - mean| / std
    over every (case, grid point) value. We match the coverage rather than
    set the mean of ((Y - mean) / (c std))^2 to 1: grid points that a
    problem pins (a boundary value) have std and error near 0, and their
    ratios, large or undefined, would dominate a mean of squares but shift
    a quantile by at most a few values. A zero std counts as 0 where the
    error is 0 too, and as infinitely far out otherwise. Returns 1.0 when
    every error is 0, and inf when std is 0 where the error is not.
    """
    err = np.abs(np.asarray(Y, np.float64) - mean).ravel()
    std = np.asarray(std, np.float64).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(err == 0.0, 0.0, err / std)
    c = 0.5 * float(np.quantile(z, 0.9545))
    return c if c > 0.0 else 1.0


# -- not fitted yet -------------------------------------------------------------

class NotFittedError(ValueError, AttributeError, RuntimeError):
    """A method that needs a fitted model was called before `fit`.

    A ValueError and an AttributeError, as scikit-learn's NotFittedError is;
    also a RuntimeError, what version 0.2 raised. When scikit-learn is
    installed, what is raised is also an instance of
    ``sklearn.exceptions.NotFittedError``.
    """


_SKLEARN_NOT_FITTED = []  # [class] once looked up: scikit-learn is imported only on this error path


def _not_fitted_error(message):
    """`NotFittedError(message)`, also scikit-learn's NotFittedError when scikit-learn is installed."""
    if not _SKLEARN_NOT_FITTED:
        try:
            from sklearn.exceptions import NotFittedError as sklearn_error
        except ImportError:
            cls = NotFittedError
        else:
            cls = type("NotFittedError", (NotFittedError, sklearn_error), {
                "__module__": __name__, "__qualname__": "_SklearnNotFittedError",
                "__doc__": NotFittedError.__doc__})
            globals()["_SklearnNotFittedError"] = cls  # a module-level name: the error pickles
        _SKLEARN_NOT_FITTED.append(cls)
    return _SKLEARN_NOT_FITTED[0](message)


# -- input arrays, as scikit-learn's conventions expect them ----------------------

def _column_names(a, name):
    """The column names of a DataFrame `a` when they are all strings, else None."""
    columns = getattr(a, "columns", None)
    if columns is None or isinstance(a, np.ndarray):
        return None
    names = list(columns)
    strings = [isinstance(c, str) for c in names]
    if all(strings) and names:
        return names
    if any(strings):
        kinds = sorted({type(c).__name__ for c in names})
        raise TypeError(f"`{name}`'s column names must all be strings to name the inputs, got types "
                        f"{kinds}; convert them, e.g. `{name}.columns = {name}.columns.astype(str)`")
    return None


def _numeric(a, name):
    """`a` as a real numeric ndarray of any shape, or a clear error naming `name`.

    Sparse matrices and complex data are refused; object arrays of numbers
    (and pandas frames of mixed dtypes) are converted to float64.
    """
    sparse = sys.modules.get("scipy.sparse")  # a sparse matrix means scipy.sparse is imported
    if sparse is not None and sparse.issparse(a):
        raise TypeError(f"`{name}` is a sparse matrix ({type(a).__name__}); Surrogate needs dense "
                        f"data: pass `{name}.toarray()`")
    try:
        arr = np.asarray(a)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"`{name}` must be a numeric array: {exc}") from None
    if arr.dtype.kind == "O":
        try:
            arr = arr.astype(np.float64)
        except TypeError as exc:  # e.g. "float() argument must be a string or a real number, not 'dict'"
            raise TypeError(f"`{name}` must be numeric: {exc}") from None
        except ValueError as exc:
            raise ValueError(f"`{name}` must be numeric: {exc}") from None
    check_real(arr, name)
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = ", ".join(f"{axis} {i}" for axis, i in zip(("row", "column"), bad)) if arr.ndim <= 2 else str(bad)
        raise ValueError(f"`{name}` must be finite (no NaN or inf); {where} is {arr[tuple(bad)]}")
    return arr


def _as_2d(a, name):
    """`a` as a real numeric array, or ValueError naming `name` unless it is 2-D with columns."""
    a = _numeric(a, name)
    if a.ndim == 1 and name == "X":
        raise ValueError(f"`X` must be a 2-D array (rows are samples), got shape {a.shape}: "
                         "reshape it with X.reshape(-1, 1) if it holds one input (feature), or "
                         "X.reshape(1, -1) if it holds one sample")
    if a.ndim != 2:
        raise ValueError(f"`{name}` must be a 2-D array (rows are samples), got shape {a.shape}")
    if a.shape[1] == 0:  # scikit-learn's words
        raise ValueError(f"`{name}` has 0 {'feature' if name == 'X' else 'output'}(s) (shape={a.shape}) "
                         "while a minimum of 1 is required.")
    return a


def _r2(y, pred, sample_weight=None):
    """R^2 of `pred` against `y` (n, m), uniform average over the m outputs.

    As scikit-learn's ``r2_score``: an output whose y is constant scores 1
    if predicted exactly, else 0; fewer than two samples give NaN.
    """
    w = np.ones(y.shape[0]) if sample_weight is None else sample_weight
    if y.shape[0] < 2:
        warnings.warn("R^2 is not well-defined with fewer than two samples; returning nan",
                      UserWarning, stacklevel=3)
        return float("nan")
    mean = (w @ y) / w.sum()
    residual = w @ (y - pred) ** 2
    total = w @ (y - mean) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(total > 0, 1.0 - residual / total, np.where(residual == 0, 1.0, 0.0))
    return float(np.mean(r2))


class Surrogate:
    """A neural surrogate for a map from parameters (d) to profiles (m).

    Parameters
    ----------
    hidden : sequence of int
        Hidden-layer widths.
    activation : str
        Hidden activation (see `surrogate.ACTIVATIONS`); smooth ones suit
        smooth fields and L-BFGS.
    seed : int
        Seeds the validation split, the initial weights and the batch order.
    epochs, batch_size, lr : Adam phase: at most `epochs` epochs of
        mini-batches of `batch_size`, lr cosine-decayed from `lr` to lr/100.
    patience : int
        Early stopping: epochs (Adam) or iterations (L-BFGS) without a better
        validation cost.
    lbfgs_iter : int
        At most this many L-BFGS iterations after Adam (0: no polish).
        The default budget (400 epochs, 800 iterations) fits a smooth field
        of a few parameters to ~5e-4 relative L2 in seconds; 2.5 times the
        budget roughly halves the error (benchmarks/bench_fit.py).
    validation_fraction : float
        Share of the training data held out for early stopping when `fit`
        gets no `validation`; 0 trains on everything without early stopping.
    pca_tol : float or None
        Keep the fewest principal components of the centred outputs whose
        residual is at most `pca_tol` times the norm of Y; None: no PCA.
    domain : "warn", "raise" or "ignore"
        What `predict` does for points outside the training box.
    dtype : numpy.float64 or numpy.float32
        Precision of the network (scaling is always float64).
    threads : "auto", int or None
        Numba threads for fit and predict; None uses all. "auto" (the
        default) lets a single network's fit measure one thread against all
        while it trains and keep the faster: a second thread pays for wide
        networks on a quiet machine, but on a busy one a descheduled thread
        stalls every mini-batch for a scheduler time slice (measured: 5-100x
        slower fits with 2 threads on a loaded 2-core machine). `predict`
        under "auto" uses one thread. For an ensemble, "auto" uses all
        threads: members train one per thread and meet only once per epoch.
        Results never depend on the thread count: a mini-batch's chunks
        are set by its size and the network's, not by the threads.
    ensemble : int
        Number of members K. Member k's initial weights and batch orders come
        from `member_seeds` (seed, k); all share the data, the validation
        split and the scaling. Each stops early and keeps its best
        parameters on its own validation cost, then is polished by L-BFGS.

    Fitted attributes
    -----------------
    members_ (the K `MLP`s), net_ (member 0: for ensemble=1 the network;
    for an ensemble a typical member, not the mean), scaling_ (`Scaling`),
    guard_ (`DomainGuard`), history_ (phase -> `History`, member 0's),
    histories_ (one such dict per member), calibration_ (the factor on the
    members' std, see `calibration_factor`; 1.0 without a validation split),
    spread_limit_ (an ensemble's largest calibrated RMS spread over the
    validation cases: `predict` warns, `UncertainPredictionWarning`, where
    the spread exceeds it, unless `domain` is "ignore"; None without one),
    fit_seconds_, n_train_, n_val_, metadata_, n_features_in_ (d),
    feature_names_in_ (only when X was a DataFrame with string column
    names: those names, which are also the input names), y_ndim_ (1 when
    y was 1-D: `predict` then returns 1-D too, else 2).

    scikit-learn
    ------------
    A regressor by scikit-learn's rules (checked by its `check_estimator`),
    without importing it: use it in a `Pipeline`, `GridSearchCV` (e.g. over
    ``hidden``) or `cross_val_score`; `score` is R^2. On cross-validation
    folds the held-out points may lie outside the training box: pass
    ``domain="ignore"`` to silence the domain guard there.
    """

    def __init__(self, hidden=(64, 64, 64), activation="tanh", seed=0, *, epochs=400,
                 batch_size=32, lr=3e-3, patience=100, lbfgs_iter=800, validation_fraction=0.15,
                 pca_tol=1e-5, domain="warn", dtype=np.float64, threads="auto", ensemble=1):
        self.hidden, self.activation, self.seed = hidden, activation, seed
        self.epochs, self.batch_size, self.lr, self.patience = epochs, batch_size, lr, patience
        self.lbfgs_iter, self.validation_fraction, self.pca_tol = lbfgs_iter, validation_fraction, pca_tol
        self.domain, self.dtype, self.threads, self.ensemble = domain, dtype, threads, ensemble

    # -- options and state ---------------------------------------------------

    def get_params(self, deep=True):
        """The constructor options, as given."""
        return {name: getattr(self, name) for name in OPTIONS}

    def set_params(self, **params):
        """Set constructor options by name; returns self."""
        for name, value in params.items():
            if name not in OPTIONS:
                raise ValueError(f"unknown option {name!r}; valid options: {', '.join(OPTIONS)}")
            setattr(self, name, value)
        return self

    def check_options(self):
        """All options checked, as a dict of their normal forms; ValueError names a bad one.

        `fit` calls this first; a pipeline that solves before fitting calls it
        before the first solve, so a typo costs nothing.
        """
        return {name: check(name, getattr(self, name)) for name, (_, check) in OPTIONS.items()}

    def json_options(self):
        """`check_options` in JSON's types: what `save` and a run's metrics.json record."""
        options = self.check_options()
        options["hidden"], options["dtype"] = list(options["hidden"]), options["dtype"].name
        return options

    @property
    def is_fitted(self):
        return getattr(self, "net_", None) is not None

    def _require_fitted(self, what):
        if not self.is_fitted:
            raise _not_fitted_error(f"cannot {what} an unfitted Surrogate; call `fit(X, Y)` first")

    def __sklearn_is_fitted__(self):
        return self.is_fitted

    def __sklearn_tags__(self):
        """scikit-learn's tags (scikit-learn >= 1.6 reads them; only it calls this)."""
        from sklearn.utils import InputTags, RegressorTags, Tags, TargetTags
        return Tags(estimator_type="regressor",
                    target_tags=TargetTags(required=True, multi_output=True, single_output=True),
                    regressor_tags=RegressorTags(),
                    input_tags=InputTags(two_d_array=True, sparse=False, allow_nan=False),
                    non_deterministic=False, requires_fit=True)

    @property
    def has_std(self):
        """Whether `predict` can return a spread (`return_std`): an ensemble of two or more."""
        return self.is_fitted and len(self.members_) >= 2

    @property
    def n_inputs(self):
        self._require_fitted("query")
        return self.scaling_.x_mean.size

    @property
    def n_outputs(self):
        self._require_fitted("query")
        return self.scaling_.y_mean.size

    @property
    def input_names(self):
        self._require_fitted("query")
        return list(self.guard_.names)

    def __repr__(self):
        state = (f"fitted: {self.n_inputs} -> {self.n_outputs}, {self.scaling_.n_modes} PCA modes"
                 if self.is_fitted else "unfitted")
        return f"Surrogate(hidden={self.hidden}, activation={self.activation!r}, seed={self.seed}; {state})"

    # -- fit -----------------------------------------------------------------

    def fit(self, X, Y, validation=None, progress="auto", metadata=None, box=None):
        """Fit to parameter points X (n, d) and profiles Y (n, m); returns self.

        X may be a pandas DataFrame: its column names, all strings, become
        the input names (``feature_names_in_``, ``metadata_["param_names"]``).
        A 1-D Y (n,) is one output, and `predict` then returns (n,).
        The options are checked here (`check_options`), never changed.

        validation : (X_val, Y_val), optional
            Held-out pairs for early stopping and for choosing the best
            parameters; by default a seeded `validation_fraction` of (X, Y).
        progress : bool or "auto" (bars when stderr is a terminal)
        metadata : dict, optional
            JSON-serialisable facts kept with the model and saved, e.g.
            ``param_names`` (used by the domain guard), ``grid``, ``problem``.
        box : (lower, upper), optional
            The input box the training data were drawn from, which the domain
            guard trusts; default the bounding box of the training and
            validation points (which lies a little inside the sampled box).
        """
        t0 = time.perf_counter()
        opts = self.check_options()
        if Y is None:
            raise ValueError("Surrogate requires y to be passed, but the target y is None")
        columns = _column_names(X, "X")
        X, Y = _as_2d(X, "X"), _numeric(Y, "Y")
        y_ndim = 1 if Y.ndim == 1 else 2  # a 1-D y is one output, and predict will return 1-D
        Y = _as_2d(Y.reshape(-1, 1) if Y.ndim == 1 else Y, "Y")  # widths from the data, then the full check
        X, Y = check_pair(X, Y, X.shape[1], Y.shape[1], np.float64)
        if metadata is not None and not isinstance(metadata, dict):
            raise ValueError(f"`metadata` must be a dict, got {type(metadata).__name__}")
        metadata = dict(metadata or {})
        if columns is not None:  # a DataFrame's column names are the input names
            given = metadata.get("param_names")
            if given is not None and list(given) != columns:
                raise ValueError(f"`metadata['param_names']` {list(given)!r} disagrees with the column "
                                 f"names of `X` {columns!r}; drop one or make them equal")
            metadata["param_names"] = columns
        d = X.shape[1]
        seeds = np.random.SeedSequence(opts["seed"]).spawn(3)

        if validation is not None:
            if y_ndim == 1 and isinstance(validation, (tuple, list)) and len(validation) == 2:
                Yv = _numeric(validation[1], "validation Y")  # 1-D like y: one output
                validation = (validation[0], Yv.reshape(-1, 1) if Yv.ndim == 1 else Yv)
            Xv, Yv = check_validation(validation, d, Y.shape[1], np.float64)
            Xt, Yt = X, Y
        else:
            n_val = int(round(opts["validation_fraction"] * X.shape[0]))
            if n_val >= 1 and X.shape[0] - n_val >= 2:
                order = np.random.default_rng(seeds[0]).permutation(X.shape[0])
                Xv, Yv = X[order[:n_val]], Y[order[:n_val]]
                Xt, Yt = X[order[n_val:]], Y[order[n_val:]]
            else:
                Xv = Yv = None
                Xt, Yt = X, Y
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
            scaling = Scaling.fit(Xt, Yt, opts["pca_tol"])
        for name, parts in (("X", (scaling.x_mean, scaling.x_scale)),
                            ("Y", (scaling.y_mean, scaling.basis, scaling.y_scale))):
            if not all(np.isfinite(p).all() for p in parts):  # finite data, overflowing moments
                raise ValueError(f"`{name}` is too large to scale: its mean or spread overflows float64 "
                                 f"(largest magnitude {np.abs(Xt if name == 'X' else Yt).max():.3g}); "
                                 "divide it by a typical magnitude before fitting")
        if box is None:  # every point the network saw, training and validation
            box_X = X if Xv is None else np.vstack([X, Xv])
            lower, upper = box_X.min(axis=0), box_X.max(axis=0)
        else:
            lower, upper = self._check_box(box, d)
        names = metadata.get("param_names")
        if names is None or len(names) != d:
            names = [f"x{i}" for i in range(d)]

        dtype = opts["dtype"]
        with blas_one_thread():  # small products: a second BLAS thread would only spin beside the kernels
            Zx, Zy = scaling.encode_x(Xt, dtype), scaling.encode_y(Yt, dtype)
            val = None if Xv is None else (scaling.encode_x(Xv, dtype), scaling.encode_y(Yv, dtype))
        for name, Z in (("X", Zx), ("Y", Zy)) + (() if val is None else (("validation X", val[0]), ("validation Y", val[1]))):
            if not np.isfinite(Z).all():
                raise ValueError(f"`{name}` overflows once scaled to {dtype.name} (its values or their spread "
                                 f"are too large); divide it by a typical magnitude before fitting")

        K = opts["ensemble"]
        member = [member_seeds(opts["seed"], k) for k in range(K)]
        nets = [MLP([d, *opts["hidden"], scaling.n_modes], activation=opts["activation"],
                    seed=np.random.default_rng(member[k][0]), dtype=dtype) for k in range(K)]
        with _numba_threads(self._fit_threads(opts)), shared_trials():  # one fit, one machine load
            if K == 1:
                histories = [self._train(nets[0], Zx, Zy, val, member[0][1], progress, opts)]
            else:
                histories = self._train_ensemble(nets, Zx, Zy, val, [s[1] for s in member], progress, opts)
        if not all(np.isfinite(net.params).all() for net in nets):
            raise FloatingPointError("training produced non-finite network parameters; "
                                     "try a smaller `lr` or check X and Y for extreme values")
        self.members_, self.net_, self.scaling_ = nets, nets[0], scaling
        self.histories_, self.history_ = histories, histories[0]
        self.guard_ = DomainGuard(lower, upper, names)
        self.calibration_, self.spread_limit_ = 1.0, None
        if K > 1 and Xv is not None:
            mean, std = self._mean_std(np.stack(self._member_profiles(Xv, "ignore")))  # Xv: checked
            self.calibration_ = calibration_factor(Yv, mean, std)
            # the largest calibrated spread of a validation case: beyond it, members disagree
            # more than anywhere the fit was checked
            self.spread_limit_ = float(rms_spread(std).max() * self.calibration_)  # std: uncalibrated
        self.metadata_ = metadata
        self.n_features_in_ = d
        self.__dict__.pop("feature_names_in_", None)  # a refit on an array forgets the old names
        if columns is not None:
            self.feature_names_in_ = np.array(columns, dtype=object)
        self.y_ndim_ = y_ndim
        self.fit_seconds_ = time.perf_counter() - t0
        self.n_train_ = int(Xt.shape[0])
        self.n_val_ = 0 if Xv is None else int(Xv.shape[0])
        return self

    @staticmethod
    def _train(net, Zx, Zy, val, seed, progress, opts):
        """Adam with cosine decay and early stopping, then the L-BFGS polish."""
        patience = None if val is None else opts["patience"]
        lr, epochs = opts["lr"], opts["epochs"]
        adam = Adam(lr=lr, schedule=CosineDecay(epochs, lr_min=lr / 100))
        threads = "auto" if opts["threads"] == "auto" else numba.get_num_threads()  # as `_fit_threads` set
        history = {"adam": _train(net, Zx, Zy, adam, batch_size=min(opts["batch_size"], Zx.shape[0]),
                                  epochs=epochs, seed=np.random.default_rng(seed), validation=val,
                                  early_stopping=patience, progress=progress, threads=threads)}
        if opts["lbfgs_iter"]:
            history["lbfgs"] = _train(net, Zx, Zy, LBFGS(), epochs=opts["lbfgs_iter"], validation=val,
                                      early_stopping=patience, progress=progress, threads=threads)
        return history

    @staticmethod
    def _fit_threads(opts):
        """The Numba threads a fit may use: all for "auto" (a network's fit then
        picks between one and all as it goes; an ensemble runs a member per thread)."""
        return None if opts["threads"] == "auto" else opts["threads"]

    @staticmethod
    def _train_ensemble(nets, Zx, Zy, val, order_seeds, progress, opts):
        """`_train` for K members: Adam side by side in the kernels, then each member's
        L-BFGS polish on one thread, members spread over a thread pool."""
        patience = None if val is None else opts["patience"]
        lr, epochs = opts["lr"], opts["epochs"]
        adam = Adam(lr=lr, schedule=CosineDecay(epochs, lr_min=lr / 100))
        adam_histories = _train_members(nets, Zx, Zy, adam, min(opts["batch_size"], Zx.shape[0]), epochs,
                                        order_seeds, validation=val, early_stopping=patience,
                                        progress=progress)
        histories = [{"adam": h} for h in adam_histories]
        if opts["lbfgs_iter"]:
            def polish(k):
                with _numba_threads(1):  # one thread per member: results independent of the pool size
                    return _train(nets[k], Zx, Zy, LBFGS(), epochs=opts["lbfgs_iter"], validation=val,
                                  early_stopping=patience, progress=progress if k == 0 else False, threads=1)
            # one BLAS limit, held here, for every polish (`blas_one_thread`)
            with blas_one_thread(), ThreadPoolExecutor(min(len(nets), numba.get_num_threads())) as pool:
                for h, lbfgs in zip(histories, pool.map(polish, range(len(nets)))):
                    h["lbfgs"] = lbfgs
        return histories

    @staticmethod
    def _check_box(box, d):
        try:
            lower, upper = (np.asarray(b, dtype=np.float64).reshape(-1) for b in box)
        except (TypeError, ValueError):
            raise ValueError(f"`box` must be a pair (lower, upper) of length-{d} arrays, got {box!r}") from None
        if lower.shape != (d,) or upper.shape != (d,) or not np.all(lower <= upper):
            raise ValueError(f"`box` must be (lower, upper) with {d} values each and lower <= upper, "
                             f"got lower={lower.tolist()}, upper={upper.tolist()}")
        return lower, upper

    # -- predict -------------------------------------------------------------

    def outside(self, X):
        """Boolean mask of the rows of X (n, d) outside the training box."""
        self._require_fitted("check the domain of")
        return self.guard_.outside(np.asarray(X, dtype=np.float64))

    def check_domain(self, X, domain=None):
        """Warn or raise (per `domain`, default the model's) if rows of X leave the training box.

        Returns the boolean mask of rows outside the box (all False when
        `domain` is "ignore", which skips the check).
        """
        self._require_fitted("check the domain of")
        mode = check_domain_mode(self.domain if domain is None else domain)
        return self.guard_.check(np.asarray(X, dtype=np.float64), mode)

    def predict(self, X, domain=None, return_std=False):
        """Profiles (n, m) at parameter points X (n, d); a single point (d,) gives (m,).

        For a model fitted on a 1-D y, (n,) and a scalar. A DataFrame X must
        have the columns the model was fitted with, in that order.
        For an ensemble, the mean of the members' profiles. With
        `return_std`, also the predictive spread of the same shape: the
        members' standard deviation (ddof=1) times `calibration_` (for a
        single network, which has no spread, an error).

        domain : "warn", "raise", "ignore" or None (the model's `domain` option)
        """
        self._require_fitted("predict with")
        if return_std and len(self.members_) < 2:
            raise ValueError("`return_std=True` needs an ensemble; this model has one network "
                             "(fit with Surrogate(ensemble=K), K >= 2)")
        X, single = self._input(X)
        profiles = self._member_profiles(X, domain)
        if len(profiles) == 1:
            mean, std = profiles[0], None
        else:
            mean, std = self._mean_std(np.stack(profiles))
            mode = check_domain_mode(self.domain if domain is None else domain)
            if mode != "ignore" and getattr(self, "spread_limit_", None) is not None:
                check_spread(rms_spread(std), self.spread_limit_)
        mean = self._shaped(mean, single)
        return (mean, self._shaped(std, single)) if return_std else mean

    def _shaped(self, Y, single):
        """Predictions (n, m) in the shape y had in `fit`: (n,) for a 1-D y; one row for one point."""
        if getattr(self, "y_ndim_", 2) == 1:
            Y = Y[:, 0]
        return Y[0] if single else Y

    def _input(self, X, single_point=True):
        """X as a 2-D numeric array of the model's width, and whether it was one point (d,).

        A DataFrame's column names are checked against the names the model
        was fitted with; a wrong width is refused in scikit-learn's words.
        """
        names = _column_names(X, "X")
        self._check_names(names)
        X = _numeric(X, "X")
        d = self.n_inputs
        single = X.ndim == 1 and single_point
        if single:
            if X.shape[0] != d:
                raise ValueError(f"`X` of shape {X.shape} is not one point of the model's {d} input(s); "
                                 f"pass a 2-D array (n, {d}): reshape it with X.reshape(-1, {d}) if it "
                                 "holds samples one after another")
            X = X[None, :]
        if X.ndim != 2:
            raise ValueError(f"`X` must be a 2-D array (n, {d}) (rows are samples), got shape {X.shape}: "
                             f"reshape it, e.g. X.reshape(-1, {d})")
        if X.shape[1] != d:
            raise ValueError(f"X has {X.shape[1]} features, but Surrogate is expecting {d} features "
                             f"as input (`X` must have shape (n, {d}))")
        if X.shape[0] == 0:
            raise ValueError(f"`X` must have at least one row, got shape {X.shape}")
        # finite (checked by _numeric), and no real dtype overflows float64
        return np.ascontiguousarray(X, dtype=np.float64), single

    def _check_names(self, names):
        """Column names of the X given to a method against those the model knows (see `_input`)."""
        fitted = getattr(self, "feature_names_in_", None)
        known = list(fitted) if fitted is not None else self.metadata_.get("param_names")
        if names is None:
            if fitted is not None:
                warnings.warn("X does not have valid feature names, but Surrogate was fitted with "
                              "feature names", UserWarning, stacklevel=4)
        elif not isinstance(known, list) or len(known) != self.n_inputs:
            warnings.warn("X has feature names, but Surrogate was fitted without feature names",
                          UserWarning, stacklevel=4)
        elif names != known:
            raise ValueError(f"The feature names should match those that were passed during fit: "
                             f"`X` has columns {names!r}, the model's inputs are {known!r}")

    def predict_members(self, X, domain=None):
        """Every member's profiles at the points X (n, d): shape (K, n, m)."""
        self._require_fitted("predict with")
        return np.stack(self._member_profiles(self._input(X, single_point=False)[0], domain))

    def score(self, X, y, sample_weight=None):
        """R^2 of `predict(X)` against y, averaged uniformly over the outputs (scikit-learn's
        regressor score). y is (n, m), or (n,) for a model fitted on a 1-D y;
        `sample_weight`, optional, weighs the n samples."""
        self._require_fitted("score")
        X, _ = self._input(X, single_point=False)
        pred = self._member_profiles(X, None)
        pred = pred[0] if len(pred) == 1 else self._mean_std(np.stack(pred))[0]
        y = _numeric(y, "y")
        y = check_array(y.reshape(-1, 1) if y.ndim == 1 else y, "y", pred.shape[1], np.float64)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"`X` and `y` need the same number of rows, got {X.shape[0]} and {y.shape[0]}")
        if sample_weight is not None:
            w = _numeric(sample_weight, "sample_weight").astype(np.float64)
            if w.shape != (y.shape[0],) or not np.isfinite(w).all() or (w < 0).any() or not w.sum() > 0:
                raise ValueError(f"`sample_weight` must hold {y.shape[0]} finite weights >= 0, not all 0, "
                                 f"got shape {w.shape}")
            sample_weight = w
        return _r2(y, pred, sample_weight)

    def _member_profiles(self, X, domain):
        """Each member's profiles at X, checked by `_input`."""
        mode = check_domain_mode(self.domain if domain is None else domain)
        self.guard_.check(X, mode, stacklevel=4)  # 4: the caller of predict, predict_members, score
        Z = self.scaling_.encode_x(X, self.net_.dtype)
        threads = 1 if self.threads == "auto" else self.threads
        return [self.scaling_.decode(net._forward(Z, threads=threads)) for net in self.members_]

    def _mean_std(self, Ym):
        """The members' mean and calibrated spread, from `predict_members`' (K, n, m)."""
        return Ym.mean(axis=0), Ym.std(axis=0, ddof=1) * self.calibration_

    def jacobian(self, X, domain=None):
        """dy/dx at parameter points X (n, d): shape (n, m, d); a single point (d,) gives (m, d).

        Entry [i, p, q] is the derivative of output point p with respect to
        input q at row i, through the scaling, the network and the output
        basis, by a compiled kernel (`surrogate/jacobian.py`). `domain` as in
        `predict`.
        """
        self._require_fitted("differentiate")
        mode = check_domain_mode(self.domain if domain is None else domain)
        X2, single = self._input(X)
        self.guard_.check(X2, mode)
        # the ensemble's mean is linear in its members: its Jacobian is their mean
        J = _jacobian.jacobian(self.members_[0], self.scaling_, X2)
        for net in self.members_[1:]:
            J += _jacobian.jacobian(net, self.scaling_, X2)
        if len(self.members_) > 1:
            J /= len(self.members_)
        return J[0] if single else J

    def export(self, path, prefix=None):
        """Write the model for use outside Python, by the extension of `path`; returns the path.

        ``.c`` (C99), ``.f90`` (Fortran 2008) or ``.onnx``; `prefix` renames
        the C/Fortran symbols so several surrogates link into one program.
        An ensemble exports its mean, as one network (`export.one_network`).
        See `surrogate/export.py`.
        """
        self._require_fitted("export")
        from . import export
        return export.export(path, export.one_network(self.members_), self.scaling_, self.guard_,
                             export.provenance(self.metadata_, self.guard_, _package_version()), prefix)

    # -- save / load ---------------------------------------------------------

    def save(self, path):
        """Write the fitted model to one pickle-free file at `path` (atomically); returns the path."""
        self._require_fitted("save")
        net, scaling = self.net_, self.scaling_
        params = np.stack([m.params for m in self.members_])
        bad = int(np.size(params) - np.count_nonzero(np.isfinite(params)))
        if bad:
            raise ValueError(f"refusing to save a surrogate with {bad} non-finite network "
                             "parameter(s): the fit diverged; refit with a smaller `lr`")
        if not all(np.isfinite(a).all() for a in (scaling.x_mean, scaling.x_scale, scaling.y_mean,
                                                   scaling.basis, scaling.y_scale)):
            raise ValueError("refusing to save a surrogate whose scaling is not finite "
                             f"(y_scale {scaling.y_scale}); refit on data divided by a typical magnitude")
        header = {
            "kind": MODEL_KIND,
            "model_version": MODEL_VERSION,
            "package_version": _package_version(),
            "options": self.json_options(),
            "architecture": {"sizes": net.sizes, "activations": net.activations, "dtype": net.dtype.name},
            "scaling": {"y_scale": scaling.y_scale, "input": "standardised",
                        "output": "centred, PCA basis, one scalar"},
            "history": {phase: h.to_dict() for phase, h in self.history_.items()},
            "member_histories": [{phase: h.to_dict() for phase, h in hs.items()} for hs in self.histories_[1:]],
            "calibration": self.calibration_,
            "spread_limit": getattr(self, "spread_limit_", None),
            "fit_seconds": self.fit_seconds_,
            "n_train": self.n_train_,
            "n_val": self.n_val_,
            "input_box": {"lower": self.guard_.lower.tolist(), "upper": self.guard_.upper.tolist()},
            "metadata": self.metadata_,
            # optional fields (absent from files before 0.3, which load as False and 2): whether
            # the input names (metadata.param_names) came from a DataFrame, and y's ndim in fit
            "feature_names_in": getattr(self, "feature_names_in_", None) is not None,
            "y_ndim": getattr(self, "y_ndim_", 2),
        }
        arrays = {"params": params, "x_mean": scaling.x_mean, "x_scale": scaling.x_scale,
                  "x_lower": self.guard_.lower, "x_upper": self.guard_.upper,
                  "y_mean": scaling.y_mean, "basis": scaling.basis}
        return io.write_model_file(path, header, arrays)

    @classmethod
    def load(cls, path):
        """Read a model written by `save`. Never unpickles; bad files raise `io.ModelFileError`.

        The header is checked before any array is read, and each array's
        dtype and shape against the architecture before its data: a file
        cannot make `load` allocate more than the architecture it declares
        needs, nor load with a NaN, a wrong shape or a non-float parameter.
        """
        checked = {}

        def expect(header):  # runs on the header alone, before any array is read
            checked.update(_check_header(path, header))
            d, k, dtype = checked["sizes"][0], checked["sizes"][-1], checked["dtype"]
            n_params = _n_params(checked["sizes"])
            params = (n_params,) if checked["version"] < 2 else (checked["ensemble"], n_params)
            vector = ((d,), np.float64)
            return {"params": (params, dtype), "x_mean": vector,
                    "x_scale": vector, "x_lower": vector, "x_upper": vector,
                    "y_mean": (("m",), np.float64), "basis": ((k, "m"), np.float64)}

        header, a = io.read_model_file(path, expect)
        if not (a["x_scale"] > 0).all() or not (a["x_lower"] <= a["x_upper"]).all():
            raise io.ModelFileError(f"{path}: `x_scale` must be > 0 and `x_lower` <= `x_upper`")
        if checked["y_ndim"] == 1 and a["y_mean"].size != 1:
            raise io.ModelFileError(f"{path}: header field 'y_ndim' is 1, but the model has "
                                    f"{a['y_mean'].size} outputs")
        model = cls(**checked["options"])
        nets = []
        for row in a["params"].reshape(-1, a["params"].shape[-1]):  # version 1: one row
            net = MLP(checked["sizes"], activation=checked["activations"][:-1],
                      output_activation=checked["activations"][-1], dtype=checked["dtype"])
            net.params[:] = row
            nets.append(net)
        scaling = Scaling(a["x_mean"], a["x_scale"], a["y_mean"], a["basis"], checked["y_scale"])
        model.members_, model.net_, model.scaling_ = nets, nets[0], scaling
        model.histories_, model.history_ = checked["histories"], checked["histories"][0]
        model.calibration_ = checked["calibration"]
        model.spread_limit_ = checked["spread_limit"]
        model.guard_ = DomainGuard(a["x_lower"], a["x_upper"], checked["names"])
        model.metadata_ = checked["metadata"]
        model.n_features_in_ = scaling.x_mean.size
        if checked["feature_names_in"]:
            model.feature_names_in_ = np.array(checked["names"], dtype=object)
        model.y_ndim_ = checked["y_ndim"]
        model.fit_seconds_ = header.get("fit_seconds")
        model.n_train_, model.n_val_ = header.get("n_train"), header.get("n_val")
        return model


def _n_params(sizes):
    """Weights and biases of a network of these widths: sum of J (K + 1)."""
    return sum(J * (K + 1) for K, J in zip(sizes[:-1], sizes[1:]))


def _field(path, header, dotted, kind):
    """header["a"]["b"] for dotted "a.b", of Python type `kind`, or ModelFileError naming it."""
    value = header
    for name in dotted.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    if isinstance(value, bool) or not isinstance(value, kind):  # no field of ours is a bool
        raise io.ModelFileError(f"{path}: header field {dotted!r} must be "
                                f"{getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _check_header(path, header):
    """Everything `load` needs from the header, each field's type and value checked."""
    def bad(field, value, why):
        return io.ModelFileError(f"{path}: header field {field!r} {why}, got {value!r}")

    kind = header.get("kind")
    if kind != MODEL_KIND:
        raise io.ModelFileError(f"{path}: a surrogate model file, but of kind {kind!r}, not {MODEL_KIND!r}")
    version = _field(path, header, "model_version", int)
    if version > MODEL_VERSION:
        raise io.ModelFileError(f"{path}: written by a newer Surrogate (model_version "
                                f"{version} > {MODEL_VERSION}); upgrade the package")
    if version < 1:
        raise bad("model_version", version, "must be a positive integer")
    sizes = _field(path, header, "architecture.sizes", list)
    if len(sizes) < 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise bad("architecture.sizes", sizes, "must list at least two positive integer widths")
    acts = _field(path, header, "architecture.activations", list)
    if len(acts) != len(sizes) - 1 or not all(isinstance(s, str) and s in ACTIVATIONS for s in acts):
        raise bad("architecture.activations", acts, f"must name {len(sizes) - 1} of {sorted(ACTIVATIONS)}")
    dtype = _field(path, header, "architecture.dtype", str)
    if dtype not in ("float64", "float32"):
        raise bad("architecture.dtype", dtype, "must be 'float64' or 'float32'")
    y_scale = _field(path, header, "scaling.y_scale", (int, float))
    if not (math.isfinite(y_scale) and y_scale > 0):
        raise bad("scaling.y_scale", y_scale, "must be a finite number > 0")
    options = dict(_field(path, header, "options", dict))
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise bad("options", unknown, "holds unknown option(s)")
    if isinstance(options.get("hidden"), list):
        options["hidden"] = tuple(options["hidden"])
    try:
        checked = Surrogate(**options).check_options()
    except ValueError as exc:
        raise io.ModelFileError(f"{path}: header field 'options': {exc}") from None
    options["dtype"] = checked["dtype"]
    if list(checked["hidden"]) != sizes[1:-1] or checked["dtype"].name != dtype:
        raise io.ModelFileError(f"{path}: header field 'options' (hidden {list(checked['hidden'])}, "
                                f"dtype {checked['dtype'].name}) disagrees with 'architecture' "
                                f"(sizes {sizes}, dtype {dtype})")
    metadata = header.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise bad("metadata", metadata, "must be an object")
    names = metadata.get("param_names")
    if not (isinstance(names, list) and len(names) == sizes[0] and all(isinstance(n, str) for n in names)):
        names = [f"x{i}" for i in range(sizes[0])]
    ensemble = checked["ensemble"]
    if version < 2 and ensemble != 1:
        raise bad("options", options, "holds ensemble > 1 in a version-1 (single network) file")
    member_histories = header.get("member_histories", [])
    if not isinstance(member_histories, list) or len(member_histories) != ensemble - 1:
        raise bad("member_histories", "...", f"must list the histories of members 1..{ensemble - 1}")
    try:
        histories = [{phase: History.from_dict(h) for phase, h in hs.items()}
                     for hs in [header.get("history", {})] + member_histories]
    except (AttributeError, TypeError, ValueError) as exc:
        raise bad("history", "...", f"must map phases to training records ({exc})") from None
    y_ndim = header.get("y_ndim", 2)
    if y_ndim not in (1, 2) or isinstance(y_ndim, bool):
        raise bad("y_ndim", y_ndim, "must be 1 or 2")
    if y_ndim == 1 and sizes[-1] != 1:
        raise bad("y_ndim", y_ndim, "cannot be 1 for a model of several outputs")
    feature_names_in = header.get("feature_names_in", False)
    if not isinstance(feature_names_in, bool):
        raise bad("feature_names_in", feature_names_in, "must be true or false")
    if feature_names_in and metadata.get("param_names") != names:
        raise bad("feature_names_in", feature_names_in,
                  f"needs 'metadata.param_names' to list {sizes[0]} input names")
    calibration = header.get("calibration", 1.0)
    if isinstance(calibration, bool) or not isinstance(calibration, (int, float)) \
            or not (math.isfinite(calibration) and calibration > 0):
        raise bad("calibration", calibration, "must be a finite number > 0")
    spread_limit = header.get("spread_limit")  # absent before 0.3, and for a single network
    if spread_limit is not None and (isinstance(spread_limit, bool) or not isinstance(spread_limit, (int, float))
                                     or not (math.isfinite(spread_limit) and spread_limit >= 0)):
        raise bad("spread_limit", spread_limit, "must be null or a finite number >= 0")
    return {"version": version, "sizes": sizes, "activations": acts, "dtype": np.dtype(dtype),
            "y_scale": float(y_scale), "options": options, "metadata": metadata, "names": names,
            "ensemble": ensemble, "histories": histories, "calibration": float(calibration),
            "y_ndim": y_ndim, "feature_names_in": feature_names_in,
            "spread_limit": None if spread_limit is None else float(spread_limit)}
