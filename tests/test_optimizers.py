"""Optimiser steps against their update formulas written out by hand, and the
learning-rate schedules against their definitions."""
import math

import numpy as np
import pytest

from surrogate import (SGD, Adam, LBFGS, CosineDecay, ExponentialDecay, ReduceOnPlateau,
                       StepDecay)


def _grads(rng, n_steps, size=6):
    return [rng.normal(size=size) for _ in range(n_steps)]


def test_plain_sgd(rng):
    p = rng.normal(size=6)
    expected = p.copy()
    opt = SGD(lr=0.1)
    for g in _grads(rng, 4):
        opt.step(p, g)
        expected = expected - 0.1 * g
    np.testing.assert_allclose(p, expected, rtol=1e-15)


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_sgd(nesterov, rng):
    p = rng.normal(size=6)
    q, v = p.copy(), np.zeros(6)
    lr, mu, wd = 0.05, 0.9, 0.01
    opt = SGD(lr=lr, momentum=mu, nesterov=nesterov, weight_decay=wd)
    for g in _grads(rng, 5):
        opt.step(p, g)
        gq = g + wd * q
        v = mu * v - lr * gq
        q = q + (mu * v - lr * gq if nesterov else v)
    np.testing.assert_allclose(p, q, rtol=1e-14)


def test_adam(rng):
    p = rng.normal(size=6)
    q, m, v = p.copy(), np.zeros(6), np.zeros(6)
    lr, b1, b2, eps, wd = 0.01, 0.8, 0.99, 1e-7, 0.001
    opt = Adam(lr=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=wd)
    for t, g in enumerate(_grads(rng, 5), start=1):
        opt.step(p, g)
        gq = g + wd * q
        m = b1 * m + (1 - b1) * gq
        v = b2 * v + (1 - b2) * gq ** 2
        q = q - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
    np.testing.assert_allclose(p, q, rtol=1e-14)
    opt.reset()
    assert opt.state is None and opt.steps[0] == 0


def test_first_adam_step_has_size_lr(rng):
    """Bias correction makes the first step lr * sign(g) (up to eps)."""
    p = np.zeros(6)
    g = rng.normal(size=6)
    Adam(lr=0.01).step(p, g)
    np.testing.assert_allclose(p, -0.01 * np.sign(g), rtol=1e-6)


def test_schedules():
    assert StepDecay(10, 0.5)(25, 1.0) == 0.25
    assert ExponentialDecay(0.9)(3, 2.0) == pytest.approx(2 * 0.9 ** 3)
    cos = CosineDecay(100, lr_min=0.1)
    assert cos(0, 1.0) == 1.0 and cos(100, 1.0) == pytest.approx(0.1)
    assert cos(50, 1.0) == pytest.approx(0.1 + 0.45 * (1 + math.cos(math.pi / 2)))
    assert cos(500, 1.0) == pytest.approx(0.1)
    plateau = ReduceOnPlateau(factor=0.5, patience=2, min_lr=0.3)
    lrs = []
    for loss in [1.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]:
        plateau.observe(loss)
        lrs.append(plateau(0, 1.0))
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.3, 0.3]


@pytest.mark.parametrize("make, match", [
    (lambda: SGD(lr=0), "`lr` must be a finite number > 0, got 0"),
    (lambda: SGD(lr=-1.0), "`lr`"),
    (lambda: SGD(lr=0.1, momentum=1.0), r"`momentum` must be in \[0, 1\), got 1.0"),
    (lambda: SGD(lr=0.1, nesterov=True), "needs `momentum` > 0"),
    (lambda: Adam(beta1=1.5), "`beta1`"),
    (lambda: Adam(eps=0), "`eps`"),
    (lambda: Adam(weight_decay=-1), "`weight_decay` must be a finite number >= 0, got -1"),
    (lambda: Adam(lr=float("nan")), "`lr`"),
    (lambda: LBFGS(history=0), "`history`"),
    (lambda: CosineDecay(0), "`epochs`"),
    (lambda: StepDecay(2.5), "`step_size`"),
    (lambda: ReduceOnPlateau(factor=2), "`factor`"),
    (lambda: SGD(0.1, schedule="cosine"), "`schedule`"),
])
def test_bad_hyper_parameters(make, match):
    with pytest.raises(ValueError, match=match):
        make()
