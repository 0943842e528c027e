"""Training: epochs of compiled mini-batch SGD/Adam, or full-batch L-BFGS,
with validation, early stopping, history and progress (docs/maths.md, Secs. 2 and 4)."""
import time
from dataclasses import dataclass, field

import numba
import numpy as np
from tqdm import tqdm  # plain bars: tqdm.auto warns in notebooks without ipywidgets

from . import _chunks
from ._threads import Chooser, blas_one_thread
from ._checks import check_int, check_pair, check_threads, check_validation
from .optimizers import LBFGS, _FirstOrder


class TrainingDiverged(FloatingPointError):
    """The cost or the parameters became non-finite; `net.params` keeps the last finite values."""


@dataclass
class History:
    """Per-epoch record of a training run (for L-BFGS, per iteration)."""

    epoch: list = field(default_factory=list)
    loss: list = field(default_factory=list)       # training cost C, Eq. (8)
    val_loss: list = field(default_factory=list)   # validation cost, if validation was given
    lr: list = field(default_factory=list)
    time: list = field(default_factory=list)       # wall seconds since the start
    best_epoch: int = None
    stopped_early: bool = False

    def to_dict(self):
        """Plain lists and numbers, strict JSON: a non-finite value becomes None."""
        def strict(v):
            return v if not isinstance(v, float) or np.isfinite(v) else None
        return {k: ([strict(x) for x in v] if isinstance(v, list) else v)
                for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d):
        """The inverse of `to_dict` (unknown keys are an error)."""
        return cls(**d)


def _cost(net, X, Y):
    """Eq. (8) on checked (X, Y) from a forward pass."""
    d = net._forward(X) - Y
    return 0.5 * float(np.einsum("ij,ij->", d, d)) / X.shape[0]


def _check_inputs(net, X, Y, validation):
    X, Y = check_pair(X, Y, net.sizes[0], net.sizes[-1], net.dtype)
    validation = check_validation(validation, net.sizes[0], net.sizes[-1], net.dtype)
    if "step" in net.activations:
        raise ValueError(
            "cannot train a network with a `step` activation: its derivative is zero almost "
            "everywhere, so back-propagation (Eqs. 18 and 24) passes no gradient and nothing "
            "would learn. Use `sigmoid` or `tanh` for a smooth step.")
    return X, Y, validation


#: seconds between redraws of a progress bar: a fit's epochs take milliseconds,
#: and redrawing after each would cost more than the epoch in a slow terminal
BAR_INTERVAL = 0.5


def progress_bar(progress, **kwargs):
    """A tqdm bar: progress=True always, False never, "auto" (or None) when
    stderr is a terminal (tqdm's own test, ``disable=None``)."""
    if progress not in (True, False, "auto", None):
        raise ValueError(f"`progress` must be True, False or 'auto', got {progress!r}")
    disable = None if progress in ("auto", None) else not progress
    return tqdm(disable=disable, mininterval=BAR_INTERVAL, **kwargs)


class _Monitor:
    """Tracks the best epoch, early stopping, callbacks and the progress bar."""

    def __init__(self, net, history, epochs, early_stopping, callbacks, progress, desc):
        self.net, self.history = net, history
        self.patience = None if early_stopping is None else check_int("early_stopping", early_stopping)
        self.callbacks = list(callbacks or [])
        self.bar = progress_bar(progress, total=epochs, desc=desc, unit="epoch", leave=False)
        self.best, self.best_params, self.wait = np.inf, None, 0
        self.t0 = time.perf_counter()

    def record(self, epoch, loss, val_loss, lr):
        """Log one epoch; True when training should stop."""
        h = self.history
        h.epoch.append(epoch)
        h.loss.append(loss)
        h.lr.append(lr)
        h.time.append(time.perf_counter() - self.t0)
        if val_loss is not None:
            h.val_loss.append(val_loss)
        monitored = loss if val_loss is None else val_loss
        if monitored < self.best:
            self.best, self.wait, h.best_epoch = monitored, 0, epoch
            self.best_params = self.net.params.copy()
        else:
            self.wait += 1
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{loss:.3e}", **({} if val_loss is None else {"val": f"{val_loss:.3e}"}))
        stop = any(bool(cb(epoch, h, self.net)) for cb in self.callbacks)
        if self.patience is not None and self.wait >= self.patience:
            h.stopped_early = stop = True
        return stop

    def finish(self, restore_best, validation):
        self.bar.close()
        if restore_best and validation is not None and self.best_params is not None:
            self.net.params[:] = self.best_params


def train(net, X, Y, optimizer, batch_size=16, epochs=100, shuffle=True, seed=None,
          validation=None, early_stopping=None, restore_best=True, callbacks=None,
          progress="auto", threads="auto"):
    """Fit `net` to (X, Y) by minimising the quadratic cost, Eq. (8).

    Parameters
    ----------
    optimizer : SGD, Adam or LBFGS
        SGD/Adam run `epochs` epochs of mini-batch updates, each epoch one
        compiled call. LBFGS runs at most `epochs` full-batch iterations.
    batch_size : int
        Mini-batch size m of Eqs. (11)-(13) in docs/maths.md. A last smaller batch is
        averaged over its own size.
    shuffle, seed : bool, int or numpy.random.Generator
        Draw a new order of the samples each epoch from `seed`; with
        shuffle=False batches are rows 0..b-1, b..2b-1, ... in order.
    validation : (X_val, Y_val), optional
        Evaluated after each epoch; monitored for early stopping and for
        `restore_best` (which then puts back the parameters of the best epoch).
    early_stopping : int, optional
        Stop after this many epochs without improvement of the monitored cost
        (validation cost if given, else training cost).
    callbacks : list of callables ``cb(epoch, history, net)``; a True return stops.
    progress : bool or "auto" (a bar when stderr is a terminal)
    threads : "auto" or int
        Numba threads: "auto" measures one thread against all while training
        and keeps the faster (a busy core makes one thread faster); an int
        uses exactly that many (at most Numba's pool). The result is the same
        bit for bit whatever the count (see `_threads`).

    Returns
    -------
    History

    Raises
    ------
    TrainingDiverged
        When the cost or the parameters become non-finite; `net.params` then
        holds the last finite values.
    """
    X, Y, validation = _check_inputs(net, X, Y, validation)
    return _train(net, X, Y, optimizer, batch_size, epochs, shuffle, seed, validation,
                  early_stopping, restore_best, callbacks, progress, check_threads("threads", threads))


def _train(net, X, Y, optimizer, batch_size=16, epochs=100, shuffle=True, seed=None,
           validation=None, early_stopping=None, restore_best=True, callbacks=None,
           progress="auto", threads="auto"):
    """`train` on arrays already checked (C-contiguous, finite, the network's dtype)."""
    epochs = check_int("epochs", epochs)
    history = History()
    monitor = _Monitor(net, history, epochs, early_stopping, callbacks, progress,
                       type(optimizer).__name__)
    try:
        if isinstance(optimizer, LBFGS):
            _run_lbfgs(net, X, Y, optimizer, epochs, validation, monitor, threads)
        elif isinstance(optimizer, _FirstOrder):
            _run_first_order(net, X, Y, optimizer, check_int("batch_size", batch_size),
                             epochs, shuffle, seed, validation, monitor, threads)
        else:
            raise ValueError(f"`optimizer` must be SGD, Adam or LBFGS, got {optimizer!r}")
    finally:
        monitor.finish(restore_best, validation)
    return history


def _run_first_order(net, X, Y, opt, batch_size, epochs, shuffle, seed, validation, monitor, threads):
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    # the most chunks a batch takes
    nc = _chunks.n_chunks_for(min(batch_size, n), net.flops_per_sample, _chunks.replicated(net))
    WS, G = net.tile_workspace(nc), net.gradient_buffers(nc)
    reps = _chunks.make_replicas(net, min(nc, numba.config.NUMBA_NUM_THREADS))
    backup = np.empty_like(net.params)
    state = opt.ensure_state(net.params)
    in_order = np.arange(n, dtype=np.int64)
    n_batches = -(-n // batch_size)
    # threads matter only if a batch is split into chunks; validation passes and
    # the monitor run on the chosen count too
    with Chooser(threads, parallel=nc > 1, units=epochs * n_batches) as chooser:
        for epoch in range(epochs):
            lr = opt.schedule(epoch, opt.lr)
            order = rng.permutation(n).astype(np.int64) if shuffle else in_order
            total = 0.0
            for first, last in chooser.spans(n_batches):  # cut where a thread trial is due
                total, done, status = chooser.run(
                    _epoch_span, net.params, reps, X, Y, order, first, last, total, batch_size,
                    net._layout, opt.kind, opt.hyper(lr), state, opt.steps, WS, G, backup,
                    net.flops_per_sample, units=last - first)
                if status:
                    break
            if status:
                raise TrainingDiverged(
                    f"training diverged in epoch {epoch} (mini-batch starting at sample {done}): "
                    f"the cost, its gradient or the updated parameters became non-finite. "
                    f"`net.params` keeps the last finite values; "
                    f"try a smaller learning rate than lr={lr:g}.")
            val = None if validation is None else _cost(net, *validation)
            opt.schedule.observe(total / n if val is None else val)
            if monitor.record(epoch, total / n, val, lr):
                break


def _epoch_span(*args):
    """`_chunks.train_epoch` on the Numba threads the thread policy has set."""
    return _chunks.train_epoch(*args, numba.get_num_threads())


def _train_members(nets, X, Y, optimizer, batch_size, epochs, seeds, validation=None,
                   early_stopping=None, progress="auto"):
    """Train the ensemble members `nets` (same architecture) side by side; returns one History each.

    Each epoch is one compiled call (`_chunks.train_members`) that runs an
    epoch of every member still training, one member per thread. Member k
    draws its batch orders from `seeds[k]` and has its own optimiser state,
    so it follows exactly the path `_train(nets[k], ..., seed=seeds[k])`
    takes on one thread. `optimizer` (SGD or Adam) gives the hyper-parameters
    and the learning-rate schedule, shared by all members (it must not adapt
    to a monitored loss); early stopping and the restore of the best
    parameters are per member, on the validation cost.
    """
    if not isinstance(optimizer, _FirstOrder):
        raise ValueError(f"`optimizer` must be SGD or Adam for an ensemble, got {optimizer!r}")
    epochs, batch_size = check_int("epochs", epochs), check_int("batch_size", batch_size)
    net0, K, n = nets[0], len(nets), X.shape[0]
    rngs = [np.random.default_rng(s) for s in seeds]
    G = np.stack([net.gradient_buffers(1) for net in nets])      # (K, 1, width): rows on cache lines
    width = G.shape[2]
    P = np.zeros((K, width), net0.dtype)                           # padding stays 0: zero gradient
    for k, net in enumerate(nets):
        P[k, :net0.n_params] = net.params
    WS = net0.tile_workspace(K)
    S, B = np.zeros((K, 2, width), net0.dtype), np.zeros((K, width), net0.dtype)
    steps = np.zeros(K, np.int64)
    active = np.ones(K, np.bool_)
    totals, done, status = np.zeros(K), np.zeros(K, np.int64), np.zeros(K, np.int64)
    histories = [History() for _ in nets]
    monitors = [_Monitor(net, h, epochs, early_stopping, None, progress if k == 0 else False,
                         f"{type(optimizer).__name__} x{K}")
                for k, (net, h) in enumerate(zip(nets, histories))]
    orders = np.empty((K, n), np.int64)
    try:
        for epoch in range(epochs):
            lr = optimizer.schedule(epoch, optimizer.lr)
            for k in np.flatnonzero(active):
                orders[k] = rngs[k].permutation(n)
            _chunks.train_members(P, X, Y, orders, batch_size, net0._layout, optimizer.kind,
                                  optimizer.hyper(lr), S, steps, WS, G, B, active, totals, done, status)
            for k in np.flatnonzero(active):
                if status[k]:
                    raise TrainingDiverged(
                        f"ensemble member {k} diverged in epoch {epoch} (mini-batch starting at "
                        f"sample {done[k]}): the cost, its gradient or the updated parameters became "
                        f"non-finite; try a smaller learning rate than lr={lr:g}.")
                nets[k].params[:] = P[k, :net0.n_params]
                val = None if validation is None else _cost(nets[k], *validation)
                if monitors[k].record(epoch, totals[k] / n, val, lr):
                    active[k] = False
            if not active.any():
                break
    finally:
        for k, monitor in enumerate(monitors):
            nets[k].params[:] = P[k, :net0.n_params]
            monitor.finish(True, validation)
    return histories


def _run_lbfgs(net, X, Y, opt, max_iter, validation, monitor, threads):
    import scipy.optimize  # here, not at the top: it costs ~0.4 s of every import
    wd = opt.weight_decay
    x0 = net.params.astype(np.float64)
    last_finite = x0

    full_batch = net._full_batch(X, Y)
    # threads matter only if the full batch is split into chunks; about one evaluation an iteration
    chooser = Chooser(threads, parallel=_chunks.n_chunks_for(X.shape[0], net.flops_per_sample) > 1,
                      units=max_iter)

    def cost_and_grad(p):
        nonlocal last_finite
        net.params[:] = p
        cost, g = chooser.run(full_batch)
        g = g.astype(np.float64)  # a copy even in float64: scipy keeps it
        if wd:
            cost += 0.5 * wd * float(p @ p)
            g += wd * p
        if np.isfinite(cost) and np.isfinite(g).all():
            last_finite = p.copy()
        return cost, g

    def callback(intermediate_result):
        net.params[:] = intermediate_result.x
        val = None if validation is None else _cost(net, *validation)
        loss = float(intermediate_result.fun) - (0.5 * wd * float(intermediate_result.x @ intermediate_result.x) if wd else 0.0)
        if monitor.record(len(monitor.history.epoch), loss, val, None):  # no learning rate
            raise StopIteration

    # L-BFGS-B's own algebra is on vectors of n_params and a few columns: a
    # threaded BLAS there was 6-7x slower on a busy machine. Validation passes
    # and the monitor run on the chosen Numba threads too.
    with chooser, blas_one_thread():
        res = scipy.optimize.minimize(
            cost_and_grad, x0, jac=True, method="L-BFGS-B", callback=callback,
            options={"maxiter": max_iter, "maxcor": opt.history, "ftol": opt.ftol, "gtol": opt.gtol})
    if not np.isfinite(res.fun) or not np.isfinite(res.x).all():
        net.params[:] = last_finite
        raise TrainingDiverged("L-BFGS produced a non-finite cost; `net.params` keeps the last finite values.")
    net.params[:] = res.x
