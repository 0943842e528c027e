"""Optimisers (SGD with momentum/Nesterov, Adam, L-BFGS) and learning-rate schedules
(docs/maths.md, Sec. 4).

SGD and Adam steps run inside the compiled epoch (`_steps.apply_step`); these
classes hold their hyper-parameters and state. L-BFGS is full-batch through
`scipy.optimize.minimize` (see `training.py`).
"""
import math

import numpy as np

from . import _steps
from ._checks import check_in_range, check_int, check_non_negative, check_positive


# -- schedules ---------------------------------------------------------------

class Constant:
    """lr stays at its initial value."""

    def __call__(self, epoch, lr0):
        return lr0

    def observe(self, metric):
        """Called after each epoch with the monitored loss (used by ReduceOnPlateau)."""

    def reset(self):
        """Forget state from an earlier run."""


class StepDecay(Constant):
    """lr0 * gamma ** (epoch // step_size)."""

    def __init__(self, step_size, gamma=0.1):
        self.step_size, self.gamma = check_int("step_size", step_size), check_positive("gamma", gamma)

    def __call__(self, epoch, lr0):
        return lr0 * self.gamma ** (epoch // self.step_size)


class ExponentialDecay(Constant):
    """lr0 * gamma ** epoch."""

    def __init__(self, gamma):
        self.gamma = check_positive("gamma", gamma)

    def __call__(self, epoch, lr0):
        return lr0 * self.gamma ** epoch


class CosineDecay(Constant):
    """Cosine annealing from lr0 to lr_min over `epochs` epochs (Loshchilov & Hutter 2017)."""

    def __init__(self, epochs, lr_min=0.0):
        self.epochs, self.lr_min = check_int("epochs", epochs), check_non_negative("lr_min", lr_min)

    def __call__(self, epoch, lr0):
        frac = min(epoch, self.epochs) / self.epochs
        return self.lr_min + 0.5 * (lr0 - self.lr_min) * (1.0 + math.cos(math.pi * frac))


class ReduceOnPlateau(Constant):
    """Multiply lr by `factor` when the monitored loss has not improved by a
    relative `threshold` for `patience` epochs; never below `min_lr`."""

    def __init__(self, factor=0.5, patience=10, min_lr=0.0, threshold=1e-4):
        if not 0.0 < factor < 1.0:
            raise ValueError(f"`factor` must be in (0, 1), got {factor!r}")
        self.factor, self.patience = float(factor), check_int("patience", patience)
        self.min_lr, self.threshold = check_non_negative("min_lr", min_lr), check_non_negative("threshold", threshold)
        self.reset()

    def reset(self):
        self.scale, self.best, self.wait = 1.0, math.inf, 0

    def __call__(self, epoch, lr0):
        return max(lr0 * self.scale, self.min_lr)

    def observe(self, metric):
        if metric < self.best * (1.0 - self.threshold):
            self.best, self.wait = metric, 0
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.scale *= self.factor
                self.wait = 0


# -- first-order optimisers ----------------------------------------------------

class _FirstOrder:
    """Hyper-parameters and state (per-parameter buffers, step count) of an optimiser."""

    kind = None

    def __init__(self, lr, weight_decay, schedule):
        self.lr = check_positive("lr", lr)
        self.weight_decay = check_non_negative("weight_decay", weight_decay)
        if schedule is not None and not callable(schedule):
            raise ValueError(f"`schedule` must be a schedule such as CosineDecay(100), got {schedule!r}")
        self.schedule = schedule if schedule is not None else Constant()
        self.reset()

    def reset(self):
        """Forget velocities/moments and the step count."""
        self.state = None
        self.steps = np.zeros(1, np.int64)
        self.schedule.reset()

    def ensure_state(self, params):
        if self.state is None or self.state.shape[1] != params.size or self.state.dtype != params.dtype:
            self.state = np.zeros((2, params.size), params.dtype)
            self.steps[0] = 0
        return self.state

    def hyper(self, lr):
        """The hyper-parameters the kernels read, at learning rate `lr`."""
        return _steps.make_hyper(lr, self.weight_decay)

    def step(self, params, grad, lr=None):
        """Apply one update to `params` in place (what the compiled epoch does per mini-batch)."""
        self.ensure_state(params)
        self.steps[0] += 1
        G = np.asarray(grad, params.dtype).reshape(1, -1)
        _steps.apply_step(self.kind, params, G, 1, 1.0, self.state,
                          self.hyper(self.lr if lr is None else lr), self.steps[0],
                          np.empty_like(params))


class SGD(_FirstOrder):
    """Stochastic gradient descent on mini-batches, optionally with (Nesterov) momentum.

    v <- momentum * v - lr * g;  params += v  (Nesterov: params += momentum * v - lr * g),
    where g is the mini-batch gradient plus `weight_decay * params`.
    """

    kind = _steps.SGD

    def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0, schedule=None):
        self.momentum = check_in_range("momentum", momentum, 0, 1)
        if nesterov and self.momentum == 0.0:
            raise ValueError("`nesterov=True` needs `momentum` > 0, got momentum=0")
        self.nesterov = bool(nesterov)
        super().__init__(lr, weight_decay, schedule)

    def hyper(self, lr):
        return _steps.make_hyper(lr, self.weight_decay, momentum=self.momentum, nesterov=self.nesterov)

    def __repr__(self):
        return f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov}, weight_decay={self.weight_decay})"


class Adam(_FirstOrder):
    """Adam (Kingma & Ba 2015): bias-corrected first and second moment estimates."""

    kind = _steps.ADAM

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, schedule=None):
        self.beta1, self.beta2 = check_in_range("beta1", beta1, 0, 1), check_in_range("beta2", beta2, 0, 1)
        self.eps = check_positive("eps", eps)
        super().__init__(lr, weight_decay, schedule)

    def hyper(self, lr):
        return _steps.make_hyper(lr, self.weight_decay, beta1=self.beta1, beta2=self.beta2, eps=self.eps)

    def __repr__(self):
        return f"Adam(lr={self.lr}, beta1={self.beta1}, beta2={self.beta2}, eps={self.eps}, weight_decay={self.weight_decay})"


class LBFGS:
    """Full-batch L-BFGS through `scipy.optimize.minimize(method="L-BFGS-B", jac=True)`.

    On the smooth fields of physics it polishes a network to errors that
    first-order methods do not reach. `train(..., epochs=N)` runs at most N
    iterations. `weight_decay` adds (weight_decay/2) ||params||^2 to the cost.
    """

    def __init__(self, history=20, ftol=1e-12, gtol=1e-10, weight_decay=0.0):
        self.history = check_int("history", history)
        self.ftol, self.gtol = check_non_negative("ftol", ftol), check_non_negative("gtol", gtol)
        self.weight_decay = check_non_negative("weight_decay", weight_decay)

    def __repr__(self):
        return f"LBFGS(history={self.history}, ftol={self.ftol}, gtol={self.gtol}, weight_decay={self.weight_decay})"
