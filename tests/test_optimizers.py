"""Optimiser steps against their update formulas written out by hand, and the
learning-rate schedules against their definitions."""
import math

import numpy as np
import pytest

from surrogate import (SGD, Adam, LBFGS, CosineDecay, ExponentialDecay, ReduceOnPlateau,
                       StepDecay, _steps)


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


@pytest.mark.parametrize("n_chunks", [2, 3, 4])
@pytest.mark.parametrize("opt", [SGD(lr=0.1), SGD(lr=0.05, momentum=0.9, weight_decay=0.01),
                                 Adam(lr=0.01, weight_decay=0.001)])
def test_a_step_from_several_chunks_reads_them_in_chunk_order_and_never_writes_them(n_chunks, opt, rng):
    """The step sums the chunk gradients a block at a time (so that replicas can step from the
    same G at once): its result must be the one-chunk step on G[0] + G[1] + ..., summed in
    that order, with G left as it was; over several blocks and a partial last one."""
    n = 2 * _steps.STEP_BLOCK + 37
    G = rng.normal(size=(n_chunks, n))
    p0, s0 = rng.normal(size=n), np.abs(rng.normal(size=(2, n)))
    summed = G[0].copy()
    for c in range(1, n_chunks):
        summed += G[c]
    hyper = opt.hyper(opt.lr)
    out = {}
    for name, grads, chunks in (("chunks", G.copy(), n_chunks), ("summed", summed[None], 1)):
        p, s, backup = p0.copy(), s0.copy(), np.empty(n)
        assert _steps.apply_step(opt.kind, p, grads, chunks, 0.25, s, hyper, 3, backup)
        np.testing.assert_array_equal(grads, G if chunks > 1 else summed[None])  # only read
        np.testing.assert_array_equal(backup, p0)
        out[name] = p, s
    np.testing.assert_array_equal(out["chunks"][0], out["summed"][0])
    np.testing.assert_array_equal(out["chunks"][1], out["summed"][1])
    if isinstance(opt, SGD) and opt.momentum == 0:  # and against the formula
        np.testing.assert_allclose(out["chunks"][0], p0 - 0.1 * 0.25 * G.sum(axis=0), rtol=1e-13)


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
