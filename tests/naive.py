"""Plain NumPy transcription of docs/maths.md, Eqs. (5)-(24), one sample at a time.

Deliberately slow and literal: the reference the compiled kernels are checked
against. Column-vector convention as in docs/maths.md: a^l = sigma(w^l a^{l-1} + b^l).
"""
import numpy as np
from scipy.special import expit

SIGMA = {
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0).astype(float)),
    "sigmoid": (expit, lambda z: expit(z) * (1 - expit(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "softplus": (lambda z: np.logaddexp(0.0, z), expit),
    "silu": (lambda z: z * expit(z), lambda z: expit(z) * (1 + z * (1 - expit(z)))),
    "step": (lambda z: (z >= 0).astype(float), lambda z: np.zeros_like(z)),
}


def feedforward(weights, biases, acts, x):
    """Eqs. (5)-(6) layer by layer; returns the lists z^l and a^l (a[0] = x)."""
    a, zs = [np.asarray(x, float)], []
    for w, b, act in zip(weights, biases, acts):
        z = w @ a[-1] + b                     # Eq. (7)
        zs.append(z)
        a.append(SIGMA[act][0](z))            # Eq. (6)
    return zs, a


def backprop(weights, biases, acts, x, y):
    """dC_x/dw^l and dC_x/db^l for one sample, Eqs. (14)-(24)."""
    zs, a = feedforward(weights, biases, acts, x)
    nabla_w = [np.zeros_like(w) for w in weights]
    nabla_b = [np.zeros_like(b) for b in biases]
    delta = (a[-1] - y) * SIGMA[acts[-1]][1](zs[-1])            # Eq. (18)
    for l in range(len(weights) - 1, -1, -1):
        nabla_b[l] = delta                                       # Eq. (15)
        nabla_w[l] = np.outer(delta, a[l])                       # Eq. (16)
        if l > 0:
            delta = (weights[l].T @ delta) * SIGMA[acts[l - 1]][1](zs[l - 1])  # Eq. (24)
    return nabla_w, nabla_b


def cost_and_grad(weights, biases, acts, X, Y):
    """C of Eq. (8) and its gradient averaged over samples, Eqs. (12)-(13)."""
    n = len(X)
    C = 0.0
    gw = [np.zeros_like(w) for w in weights]
    gb = [np.zeros_like(b) for b in biases]
    for x, y in zip(X, Y):
        _, a = feedforward(weights, biases, acts, x)
        C += 0.5 * np.sum((y - a[-1]) ** 2) / n
        nw, nb = backprop(weights, biases, acts, x, y)
        for l in range(len(weights)):
            gw[l] += nw[l] / n
            gb[l] += nb[l] / n
    return C, gw, gb


def sgd_epoch(weights, biases, acts, X, Y, lr, batch_size):
    """One epoch of plain SGD over the rows in order (Section 2.3)."""
    for start in range(0, len(X), batch_size):
        _, gw, gb = cost_and_grad(weights, biases, acts, X[start:start + batch_size],
                                  Y[start:start + batch_size])
        for l in range(len(weights)):
            weights[l] -= lr * gw[l]
            biases[l] -= lr * gb[l]
    return weights, biases
