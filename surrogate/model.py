"""`Surrogate`: scaling + `MLP` + domain guard, with fit / predict / save / load.

What a physicist uses: ``Surrogate().fit(X, Y)`` on parameter points X
(n, d) and solver profiles Y (n, m), then ``predict`` at new points.

* Inputs are standardised and outputs reduced to a few PCA coefficients
  (`scaling.py`): the network learns few smooth coefficients, is cheaper
  to run, and its quadratic cost (Eq. 8) stays proportional to the L2 error
  of the profile.
* ``fit`` runs Adam with cosine decay and early stopping on a validation
  split, then polishes with full-batch L-BFGS, keeping the parameters with
  the lowest validation cost.
* ``predict`` guards the domain (`domain.py`): points outside the input box
  seen in training warn (or raise) naming the inputs and how far out they are.
* ``save``/``load`` use `surrogate.io`: one pickle-free file; a loaded model
  predicts bit-identically.

As in scikit-learn, the constructor only stores its options; `check_options`
validates them (``fit`` calls it first), and what ``fit`` learns ends in an
underscore (``net_``, ``scaling_``, ``guard_``, ``history_``, ...).
"""
import contextlib
import math
import time

import numba
import numpy as np

from . import io
from ._checks import check_array, check_in_range, check_int, check_pair, check_positive, check_validation
from .activations import ACTIVATIONS
from .domain import DomainGuard, OutOfDomainError, OutOfDomainWarning, check_domain_mode
from .network import MLP
from .optimizers import LBFGS, Adam, CosineDecay
from .scaling import Scaling
from .training import History, _train

__all__ = ["Surrogate", "OutOfDomainError", "OutOfDomainWarning"]

MODEL_KIND = "surrogate.Surrogate"
MODEL_VERSION = 1


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
    "threads": (1, _optional(lambda n, v: check_int(n, v, 1))),
}


def _as_2d(a, name):
    """`a` as an array, or ValueError naming `name` unless it is 2-D."""
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"`{name}` must be a 2-D array (rows are samples), got shape {a.shape}")
    return a


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
    threads : int or None
        Numba threads for fit and predict; None uses all. The default, 1,
        suits the small networks that fit 1-D profiles: a mini-batch takes
        microseconds, so a second thread's barrier costs more than it saves,
        and on a busy machine a descheduled thread stalls every batch for a
        scheduler time slice (measured: 5-100x slower fits and predictions
        with 2 threads on a loaded 2-core machine). Raise it for wide
        networks or large batches.

    Fitted attributes
    -----------------
    net_ (the `MLP`), scaling_ (`Scaling`), guard_ (`DomainGuard`),
    history_ (phase -> `History`), fit_seconds_, n_train_, n_val_, metadata_.
    """

    def __init__(self, hidden=(64, 64, 64), activation="tanh", seed=0, *, epochs=400,
                 batch_size=32, lr=3e-3, patience=100, lbfgs_iter=800, validation_fraction=0.15,
                 pca_tol=1e-5, domain="warn", dtype=np.float64, threads=1):
        self.hidden, self.activation, self.seed = hidden, activation, seed
        self.epochs, self.batch_size, self.lr, self.patience = epochs, batch_size, lr, patience
        self.lbfgs_iter, self.validation_fraction, self.pca_tol = lbfgs_iter, validation_fraction, pca_tol
        self.domain, self.dtype, self.threads = domain, dtype, threads

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
            raise RuntimeError(f"cannot {what} an unfitted Surrogate; call `fit(X, Y)` first")

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
        X, Y = _as_2d(X, "X"), _as_2d(Y, "Y")  # widths from the data, then the full check
        X, Y = check_pair(X, Y, X.shape[1], Y.shape[1], np.float64)
        if metadata is not None and not isinstance(metadata, dict):
            raise ValueError(f"`metadata` must be a dict, got {type(metadata).__name__}")
        metadata = dict(metadata or {})
        d = X.shape[1]
        seeds = np.random.SeedSequence(opts["seed"]).spawn(3)

        if validation is not None:
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
        Zx, Zy = scaling.encode_x(Xt, dtype), scaling.encode_y(Yt, dtype)
        val = None if Xv is None else (scaling.encode_x(Xv, dtype), scaling.encode_y(Yv, dtype))
        for name, Z in (("X", Zx), ("Y", Zy)) + (() if val is None else (("validation X", val[0]), ("validation Y", val[1]))):
            if not np.isfinite(Z).all():
                raise ValueError(f"`{name}` overflows once scaled to {dtype.name} (its values or their spread "
                                 f"are too large); divide it by a typical magnitude before fitting")

        net = MLP([d, *opts["hidden"], scaling.n_modes], activation=opts["activation"],
                  seed=np.random.default_rng(seeds[1]), dtype=dtype)
        with _numba_threads(opts["threads"]):
            history = self._train(net, Zx, Zy, val, seeds[2], progress, opts)
        if not np.isfinite(net.params).all():
            raise FloatingPointError("training produced non-finite network parameters; "
                                     "try a smaller `lr` or check X and Y for extreme values")
        self.net_, self.scaling_, self.history_ = net, scaling, history
        self.guard_ = DomainGuard(lower, upper, names)
        self.metadata_ = metadata
        self.n_features_in_ = d
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
        history = {"adam": _train(net, Zx, Zy, adam, batch_size=min(opts["batch_size"], Zx.shape[0]),
                                  epochs=epochs, seed=np.random.default_rng(seed), validation=val,
                                  early_stopping=patience, progress=progress)}
        if opts["lbfgs_iter"]:
            history["lbfgs"] = _train(net, Zx, Zy, LBFGS(), epochs=opts["lbfgs_iter"], validation=val,
                                      early_stopping=patience, progress=progress)
        return history

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

    def predict(self, X, domain=None):
        """Profiles (n, m) at parameter points X (n, d); a single point (d,) gives (m,).

        domain : "warn", "raise", "ignore" or None (the model's `domain` option)
        """
        self._require_fitted("predict with")
        mode = check_domain_mode(self.domain if domain is None else domain)
        X = np.asarray(X)
        single = X.ndim == 1
        X2 = check_array(X[None, :] if single else X, "X", self.n_inputs, np.float64)
        self.guard_.check(X2, mode)
        coeff = self.net_._forward(self.scaling_.encode_x(X2, self.net_.dtype), threads=self.threads)
        Y = self.scaling_.decode(coeff)
        return Y[0] if single else Y

    # -- save / load ---------------------------------------------------------

    def save(self, path):
        """Write the fitted model to one pickle-free file at `path` (atomically); returns the path."""
        self._require_fitted("save")
        net, scaling = self.net_, self.scaling_
        bad = int(np.size(net.params) - np.count_nonzero(np.isfinite(net.params)))
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
            "fit_seconds": self.fit_seconds_,
            "n_train": self.n_train_,
            "n_val": self.n_val_,
            "input_box": {"lower": self.guard_.lower.tolist(), "upper": self.guard_.upper.tolist()},
            "metadata": self.metadata_,
        }
        arrays = {"params": net.params, "x_mean": scaling.x_mean, "x_scale": scaling.x_scale,
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
            vector = ((d,), np.float64)
            return {"params": ((_n_params(checked["sizes"]),), dtype), "x_mean": vector,
                    "x_scale": vector, "x_lower": vector, "x_upper": vector,
                    "y_mean": (("m",), np.float64), "basis": ((k, "m"), np.float64)}

        header, a = io.read_model_file(path, expect)
        if not (a["x_scale"] > 0).all() or not (a["x_lower"] <= a["x_upper"]).all():
            raise io.ModelFileError(f"{path}: `x_scale` must be > 0 and `x_lower` <= `x_upper`")
        model = cls(**checked["options"])
        net = MLP(checked["sizes"], activation=checked["activations"][:-1],
                  output_activation=checked["activations"][-1], dtype=checked["dtype"])
        net.params[:] = a["params"]
        scaling = Scaling(a["x_mean"], a["x_scale"], a["y_mean"], a["basis"], checked["y_scale"])
        model.net_, model.scaling_, model.history_ = net, scaling, checked["history"]
        model.guard_ = DomainGuard(a["x_lower"], a["x_upper"], checked["names"])
        model.metadata_ = checked["metadata"]
        model.n_features_in_ = scaling.x_mean.size
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
    history = header.get("history", {})
    try:
        history = {phase: History.from_dict(h) for phase, h in history.items()}
    except (AttributeError, TypeError, ValueError) as exc:
        raise bad("history", "...", f"must map phases to training records ({exc})") from None
    return {"sizes": sizes, "activations": acts, "dtype": np.dtype(dtype), "y_scale": float(y_scale),
            "options": options, "metadata": metadata, "names": names, "history": history}
