"""Seeded designs over a problem's parameter box (scipy.stats.qmc)."""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import qmc

__all__ = ["sample", "METHODS"]


def _sobol(d, n, seed):
    engine = qmc.Sobol(d, scramble=True, rng=seed)
    with warnings.catch_warnings():
        # The first n points of a Sobol sequence are what we want even when
        # n is not a power of 2; scipy warns that balance is then partial.
        warnings.filterwarnings("ignore", message=".*balance properties.*")
        return engine.random(n)


def _lhs(d, n, seed):
    return qmc.LatinHypercube(d, rng=seed).random(n)


def _halton(d, n, seed):
    return qmc.Halton(d, scramble=True, rng=seed).random(n)


def _random(d, n, seed):
    return np.random.default_rng(seed).random((n, d))


# name -> unit-cube design (d, n, seed) -> (n, d) array in [0, 1)
METHODS = {"sobol": _sobol, "lhs": _lhs, "halton": _halton, "random": _random}


def sample(problem, n, method="sobol", seed=0):
    """``n`` parameter points in the box of ``problem``, shape (n, d), float64.

    ``method`` is one of ``"sobol"`` (scrambled), ``"lhs"`` (Latin
    hypercube), ``"halton"`` (scrambled) or ``"random"`` (uniform);
    ``seed`` (int) makes the design reproducible.
    """
    if method not in METHODS:
        raise ValueError(f"unknown sampling method {method!r}; choose one of "
                         f"{', '.join(repr(m) for m in METHODS)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"`n` must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be a non-negative integer, got {seed!r}")
    lower, upper = problem.lower, problem.upper
    unit = METHODS[method](lower.size, int(n), int(seed))
    X = qmc.scale(unit, lower, upper)
    # Rounding in the affine map may land a hair outside the box.
    return np.clip(X, lower, upper).astype(np.float64, copy=False)
