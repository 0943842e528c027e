"""`Surrogate`: scaling + `MLP` + metadata, with fit / predict / save / load.

What a physicist uses: ``Surrogate().fit(X, Y)`` on parameter points X
(n, d) and solver profiles Y (n, m), then ``predict`` at new points.

* Inputs are standardised per column. Outputs are centred on the mean
  profile and projected on their leading principal components (PCA kept to
  a relative residual of `pca_tol`), divided by one scalar: the network
  learns few smooth coefficients, is cheaper to run, and its quadratic cost
  (Eq. 8) stays proportional to the L2 error of the profile, since the
  basis is orthonormal and every coefficient shares the same scale.
* ``fit`` runs Adam with cosine decay and early stopping on a validation
  split, then polishes with full-batch L-BFGS, keeping the parameters with
  the lowest validation cost.
* ``predict`` guards the domain: points outside the input box seen in
  training warn (or raise) naming the inputs and how far out they are.
* ``save``/``load`` use `surrogate.io`: one pickle-free file; a loaded model
  predicts bit-identically.
"""
import contextlib
import time
import warnings

import numba
import numpy as np

from . import io
from ._checks import check_in_range, check_int, check_positive
from .network import MLP, check_array, check_pair, check_validation
from .optimizers import LBFGS, Adam, CosineDecay
from .training import History, train

__all__ = ["Surrogate", "OutOfDomainError", "OutOfDomainWarning"]

MODEL_KIND = "surrogate.Surrogate"
MODEL_VERSION = 1
DOMAIN_MODES = ("warn", "raise", "ignore")


class OutOfDomainError(ValueError):
    """`predict` was asked for a point outside the training box (domain="raise")."""


class OutOfDomainWarning(UserWarning):
    """`predict` was asked for a point outside the training box (domain="warn")."""


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


def _domain_mode(value, name="domain"):
    if value not in DOMAIN_MODES:
        raise ValueError(f"`{name}` must be one of {DOMAIN_MODES}, got {value!r}")
    return value


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
    """

    def __init__(self, hidden=(64, 64, 64), activation="tanh", seed=0, *, epochs=400,
                 batch_size=32, lr=3e-3, patience=100, lbfgs_iter=800, validation_fraction=0.15,
                 pca_tol=1e-5, domain="warn", dtype=np.float64, threads=1):
        try:
            self.hidden = tuple(check_int("hidden", h, 1) for h in hidden)
        except TypeError:
            raise ValueError(f"`hidden` must be a sequence of layer widths, got {hidden!r}") from None
        self.activation = activation
        self.seed = check_int("seed", seed, 0)
        self.epochs = check_int("epochs", epochs, 1)
        self.batch_size = check_int("batch_size", batch_size, 1)
        self.lr = check_positive("lr", lr)
        self.patience = check_int("patience", patience, 1)
        self.lbfgs_iter = check_int("lbfgs_iter", lbfgs_iter, 0)
        self.validation_fraction = check_in_range("validation_fraction", validation_fraction, 0.0, 0.9)
        if pca_tol is not None:
            pca_tol = check_in_range("pca_tol", pca_tol, 0.0, 1.0)
        self.pca_tol = pca_tol
        self.domain = _domain_mode(domain)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float64, np.float32):
            raise ValueError(f"`dtype` must be float64 or float32, got {self.dtype}")
        self.threads = None if threads is None else check_int("threads", threads, 1)
        self.net = None
        self.history = {}
        self.fit_seconds = None
        self.metadata = {}

    # -- options and state ---------------------------------------------------

    def get_params(self):
        """The constructor options (what `save` records and `load` restores)."""
        return {"hidden": list(self.hidden), "activation": self.activation, "seed": self.seed,
                "epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr,
                "patience": self.patience, "lbfgs_iter": self.lbfgs_iter,
                "validation_fraction": self.validation_fraction, "pca_tol": self.pca_tol,
                "domain": self.domain, "dtype": self.dtype.name, "threads": self.threads}

    @property
    def is_fitted(self):
        return self.net is not None

    def _require_fitted(self, what):
        if not self.is_fitted:
            raise RuntimeError(f"cannot {what} an unfitted Surrogate; call `fit(X, Y)` first")

    @property
    def n_inputs(self):
        self._require_fitted("query")
        return self.x_mean.size

    @property
    def n_outputs(self):
        self._require_fitted("query")
        return self.y_mean.size

    @property
    def input_names(self):
        names = self.metadata.get("param_names") if self.metadata else None
        if names is not None and len(names) == self.n_inputs:
            return list(names)
        return [f"x{i}" for i in range(self.n_inputs)]

    def __repr__(self):
        state = (f"fitted: {self.n_inputs} -> {self.n_outputs}, {self.basis.shape[0]} PCA modes"
                 if self.is_fitted else "unfitted")
        return f"Surrogate(hidden={self.hidden}, activation={self.activation!r}, seed={self.seed}; {state})"

    # -- scaling -------------------------------------------------------------

    def _fit_scaling(self, X, Y):
        self.x_mean = X.mean(axis=0)
        sd = X.std(axis=0)
        self.x_scale = np.where(sd > 0, sd, 1.0)  # a constant input carries no information
        self.x_lower, self.x_upper = X.min(axis=0), X.max(axis=0)
        self.y_mean = Y.mean(axis=0)
        Yc = Y - self.y_mean
        m = Y.shape[1]
        if self.pca_tol is None:
            basis = np.eye(m)
        else:
            _, s, Vt = np.linalg.svd(Yc, full_matrices=False)
            # residual of keeping k modes, relative to ||Y||_F: what rel L2 errors are measured against
            tail = np.sqrt(np.maximum(np.cumsum((s ** 2)[::-1])[::-1], 0.0))
            norm_y = max(np.linalg.norm(Y), np.finfo(float).tiny)
            resid = np.append(tail[1:], 0.0) / norm_y
            k = int(np.argmax(resid <= self.pca_tol)) + 1
            basis = Vt[:k]
        self.basis = np.ascontiguousarray(basis)
        coeff = Yc @ self.basis.T
        # one scalar for all coefficients keeps the cost proportional to the profile's L2 error
        scale = float(np.sqrt(np.mean(coeff ** 2))) if coeff.size else 0.0
        self.y_scale = scale if scale > 0 else 1.0
        self._refresh_transform()

    def _refresh_transform(self):
        # the coefficient -> profile map, precomputed once so predict is one matmul
        self._decode = np.ascontiguousarray(self.y_scale * self.basis)

    def _encode_x(self, X):
        return np.ascontiguousarray((X - self.x_mean) / self.x_scale, dtype=self.dtype)

    def _encode_y(self, Y):
        return np.ascontiguousarray(((Y - self.y_mean) @ self.basis.T) / self.y_scale, dtype=self.dtype)

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
        X, Y = _as_2d(X, "X"), _as_2d(Y, "Y")  # widths from the data, then the full check
        X, Y = check_pair(X, Y, X.shape[1], Y.shape[1], np.float64)
        if metadata is not None and not isinstance(metadata, dict):
            raise ValueError(f"`metadata` must be a dict, got {type(metadata).__name__}")
        self.metadata = dict(metadata or {})
        seeds = np.random.SeedSequence(self.seed).spawn(3)

        if validation is not None:
            Xv, Yv = check_validation(validation, X.shape[1], Y.shape[1], np.float64)
            Xt, Yt = X, Y
        else:
            n_val = int(round(self.validation_fraction * X.shape[0]))
            if n_val >= 1 and X.shape[0] - n_val >= 2:
                order = np.random.default_rng(seeds[0]).permutation(X.shape[0])
                Xv, Yv = X[order[:n_val]], Y[order[:n_val]]
                Xt, Yt = X[order[n_val:]], Y[order[n_val:]]
            else:
                Xv = Yv = None
                Xt, Yt = X, Y
        self._fit_scaling(Xt, Yt)
        if box is None:  # every point the network saw, training and validation
            box_X = X if Xv is None else np.vstack([X, Xv])
            self.x_lower, self.x_upper = box_X.min(axis=0), box_X.max(axis=0)
        else:
            self.x_lower, self.x_upper = self._check_box(box, X.shape[1])

        sizes = [X.shape[1], *self.hidden, self.basis.shape[0]]
        self.net = MLP(sizes, activation=self.activation, seed=np.random.default_rng(seeds[1]),
                       dtype=self.dtype)
        Zx, Zy = self._encode_x(Xt), self._encode_y(Yt)
        val = None if Xv is None else (self._encode_x(Xv), self._encode_y(Yv))

        with _numba_threads(self.threads):
            self._train(Zx, Zy, val, seeds[2], progress)
        if not np.isfinite(self.net.params).all():
            raise FloatingPointError("training produced non-finite network parameters; "
                                     "try a smaller `lr` or check X and Y for extreme values")
        self.fit_seconds = time.perf_counter() - t0
        self.n_train = int(Xt.shape[0])
        self.n_val = 0 if Xv is None else int(Xv.shape[0])
        return self

    def _train(self, Zx, Zy, val, seed, progress):
        """Adam with cosine decay and early stopping, then the L-BFGS polish."""
        patience = None if val is None else self.patience
        adam = Adam(lr=self.lr, schedule=CosineDecay(self.epochs, lr_min=self.lr / 100))
        h_adam = train(self.net, Zx, Zy, adam, batch_size=min(self.batch_size, Zx.shape[0]),
                       epochs=self.epochs, seed=np.random.default_rng(seed), validation=val,
                       early_stopping=patience, progress=progress)
        self.history = {"adam": h_adam.to_dict()}
        if self.lbfgs_iter:
            h_lbfgs = train(self.net, Zx, Zy, LBFGS(), epochs=self.lbfgs_iter, validation=val,
                            early_stopping=patience, progress=progress)
            self.history["lbfgs"] = h_lbfgs.to_dict()

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
        X = np.asarray(X, dtype=np.float64)
        return self._excursions(X)[2].any(axis=1)

    def _excursions(self, X):
        width = self.x_upper - self.x_lower
        slack = 1e-9 * np.where(width > 0, width, 1.0)  # round-off at the boundary is inside
        below = (self.x_lower - slack) - X
        above = X - (self.x_upper + slack)
        return below, above, (below > 0) | (above > 0), width, slack

    def check_domain(self, X, domain=None):
        """Warn or raise (per `domain`, default the model's) if rows of X leave the training box.

        Returns the boolean mask of rows outside the box (all False when
        `domain` is "ignore", which skips the check).
        """
        self._require_fitted("check the domain of")
        mode = self.domain if domain is None else _domain_mode(domain)
        X = np.asarray(X, dtype=np.float64)
        if mode == "ignore" or ((X >= self.x_lower) & (X <= self.x_upper)).all():
            return np.zeros(X.shape[0], dtype=bool)  # the common case, cheaply
        below, above, outside, width, slack = self._excursions(X)
        rows = outside.any(axis=1)
        if not rows.any():
            return rows
        parts = []
        for j in np.flatnonzero(outside.any(axis=0)):
            lo_by = float(np.max(below[:, j]) + slack[j]) if (below[:, j] > 0).any() else 0.0
            hi_by = float(np.max(above[:, j]) + slack[j]) if (above[:, j] > 0).any() else 0.0
            by, side = (lo_by, "below") if lo_by >= hi_by else (hi_by, "above")
            rel = f" ({100 * by / width[j]:.3g}% of the range)" if width[j] > 0 else ""
            parts.append(f"{self.input_names[j]} in {int(outside[:, j].sum())} row(s), up to {by:.4g} "
                         f"{side} the training range [{self.x_lower[j]:.6g}, {self.x_upper[j]:.6g}]{rel}")
        msg = (f"{int(rows.sum())} of {X.shape[0]} input point(s) lie outside the box the surrogate "
               f"was trained on, where it extrapolates: " + "; ".join(parts))
        if mode == "raise":
            raise OutOfDomainError(msg)
        warnings.warn(msg, OutOfDomainWarning, stacklevel=3)
        return rows

    def predict(self, X, domain=None):
        """Profiles (n, m) at parameter points X (n, d); a single point (d,) gives (m,).

        domain : "warn", "raise", "ignore" or None (the model's `domain` option)
        """
        self._require_fitted("predict with")
        X = np.asarray(X)
        single = X.ndim == 1
        X2 = check_array(X[None, :] if single else X, "X", self.n_inputs, np.float64)
        self.check_domain(X2, domain)
        coeff = self.net.predict(self._encode_x(X2), threads=self.threads)
        Y = coeff.astype(np.float64, copy=False) @ self._decode
        Y += self.y_mean
        return Y[0] if single else Y

    # -- save / load ---------------------------------------------------------

    _ARRAYS = ("params", "x_mean", "x_scale", "x_lower", "x_upper", "y_mean", "basis")

    def save(self, path):
        """Write the fitted model to one pickle-free file at `path` (atomically); returns the path."""
        self._require_fitted("save")
        bad = int(np.size(self.net.params) - np.count_nonzero(np.isfinite(self.net.params)))
        if bad:
            raise ValueError(f"refusing to save a surrogate with {bad} non-finite network "
                             "parameter(s): the fit diverged; refit with a smaller `lr`")
        header = {
            "kind": MODEL_KIND,
            "model_version": MODEL_VERSION,
            "package_version": _package_version(),
            "options": self.get_params(),
            "architecture": {"sizes": self.net.sizes, "activations": self.net.activations,
                             "dtype": self.net.dtype.name},
            "scaling": {"y_scale": self.y_scale, "input": "standardised",
                        "output": "centred, PCA basis, one scalar"},
            "history": self.history,
            "fit_seconds": self.fit_seconds,
            "n_train": self.n_train,
            "n_val": self.n_val,
            "input_box": {"lower": self.x_lower.tolist(), "upper": self.x_upper.tolist()},
            "metadata": self.metadata,
        }
        arrays = {name: getattr(self, name) for name in self._ARRAYS if name != "params"}
        arrays["params"] = self.net.params
        return io.write_model_file(path, header, arrays)

    @classmethod
    def load(cls, path):
        """Read a model written by `save`. Never unpickles; bad files raise `io.ModelFileError`."""
        header, arrays = io.read_model_file(path)
        if header.get("kind") != MODEL_KIND:
            raise io.ModelFileError(f"{path}: a surrogate model file, but of kind {header.get('kind')!r}, "
                                    f"not {MODEL_KIND!r}")
        if header.get("model_version", 0) > MODEL_VERSION:
            raise io.ModelFileError(f"{path}: written by a newer Surrogate (model_version "
                                    f"{header['model_version']} > {MODEL_VERSION}); upgrade the package")
        missing = [k for k in cls._ARRAYS if k not in arrays]
        if missing:
            raise io.ModelFileError(f"{path}: missing array(s) {missing}; the file is incomplete")
        try:
            opts = dict(header["options"])
            model = cls(hidden=opts.pop("hidden"), activation=opts.pop("activation"),
                        seed=opts.pop("seed"), dtype=np.dtype(opts.pop("dtype")), **opts)
            arch = header["architecture"]
            model.net = MLP(arch["sizes"], activation=arch["activations"][:-1],
                            output_activation=arch["activations"][-1], dtype=np.dtype(arch["dtype"]))
            if arrays["params"].shape != model.net.params.shape:
                raise ValueError(f"`params` has shape {arrays['params'].shape}, the architecture "
                                 f"{arch['sizes']} needs {model.net.params.shape}")
            model.net.params[:] = arrays["params"]
            for name in cls._ARRAYS[1:]:
                setattr(model, name, np.ascontiguousarray(arrays[name], dtype=np.float64))
            model.y_scale = float(header["scaling"]["y_scale"])
            model.history = header.get("history", {})
            model.fit_seconds = header.get("fit_seconds")
            model.n_train, model.n_val = header.get("n_train"), header.get("n_val")
            model.metadata = header.get("metadata", {}) or {}
        except (KeyError, TypeError, ValueError) as exc:
            raise io.ModelFileError(f"{path}: inconsistent surrogate model file ({type(exc).__name__}: "
                                    f"{exc})") from None
        if model.x_mean.size != arch["sizes"][0] or model.basis.shape != (arch["sizes"][-1], model.y_mean.size):
            raise io.ModelFileError(f"{path}: scaling arrays do not match the architecture {arch['sizes']}")
        model._refresh_transform()
        return model

    def training_history(self, phase="adam"):
        """The `History` of one training phase ("adam" or "lbfgs")."""
        if phase not in self.history:
            raise ValueError(f"`phase` must be one of {sorted(self.history)}, got {phase!r}")
        h = History()
        for k, v in self.history[phase].items():
            setattr(h, k, v)
        return h
