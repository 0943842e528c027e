"""The peers that `bench_train.py` races against: the same network, trained the same way.

Each peer is a function ``peer(sizes, X, Y, batch, lr) -> factory``. Its slow
one-off work (imports, building a graph) happens there; ``factory(epochs)``
builds a fresh network and returns ``run()``, which trains it for ``epochs``
shuffled epochs of plain SGD and returns what it trained. Only ``run()`` is
timed. A peer whose library is missing raises ImportError, and the benchmark
skips it with a note.

All use the cost C = 1/(2n) sum_x ||y - a^L||^2 (docs/maths.md, Eq. 8) on each
mini-batch, so the learning rate means the same -- except scikit-learn, whose
squared loss also divides by the number of outputs (a smaller step on M and W;
the same work per step).
"""
import warnings

import numpy as np


def glorot(sizes, dtype, seed=0):
    """Weights w[l] of shape (sizes[l+1], sizes[l]) (w_jk of docs/maths.md, Eq. 5) and biases b[l]."""
    rng = np.random.default_rng(seed)
    w = [rng.uniform(-1, 1, (n_out, n_in)) * np.sqrt(6 / (n_in + n_out))
         for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    return [x.astype(dtype) for x in w], [np.zeros(n, dtype) for n in sizes[1:]]


def numpy_peer(sizes, X, Y, batch, lr):
    """Plain NumPy batched back-propagation, one mini-batch per Python iteration."""
    L = len(sizes) - 1

    def step(w, b, x, y):
        # Rows are samples: z^l = a^{l-1} (w^l)^T + b^l is Eq. (7) for a whole batch.
        a = [x]
        for l in range(L):
            z = a[-1] @ w[l].T + b[l]
            a.append(np.tanh(z) if l < L - 1 else z)
        # Eq. (18) with an identity output (sigma' = 1); dividing by the batch
        # size here averages Eqs. (15)-(16) over it (Eqs. 12-13).
        delta = (a[-1] - y) / len(x)
        for l in reversed(range(L)):
            grad_w, grad_b = delta.T @ a[l], delta.sum(axis=0)   # Eqs. (16), (15)
            if l:   # Eq. (24), tanh' = 1 - a^2; uses w[l] before its update
                delta = (delta @ w[l]) * (1 - a[l] * a[l])
            w[l] -= lr * grad_w
            b[l] -= lr * grad_b

    def factory(epochs):
        w, b = glorot(sizes, X.dtype)
        rng = np.random.default_rng(0)

        def run():
            for _ in range(epochs):
                perm = rng.permutation(len(X))
                for start in range(0, len(X), batch):
                    idx = perm[start:start + batch]
                    step(w, b, X[idx], Y[idx])
            return w, b
        return run
    return factory


def torch_peer(sizes, X, Y, batch, lr):
    """PyTorch eager on the CPU: nn.Sequential of Linear + Tanh, torch.optim.SGD."""
    import torch
    dtype = {np.float64: torch.float64, np.float32: torch.float32}[X.dtype.type]
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)

    def factory(epochs):
        torch.manual_seed(0)
        layers = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [torch.nn.Linear(n_in, n_out, dtype=dtype), torch.nn.Tanh()]
        model = torch.nn.Sequential(*layers[:-1])          # identity output
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        gen = torch.Generator().manual_seed(0)

        def run():
            for _ in range(epochs):
                perm = torch.randperm(len(Xt), generator=gen)
                for start in range(0, len(Xt), batch):
                    idx = perm[start:start + batch]
                    a, y = model(Xt[idx]), Yt[idx]
                    cost = torch.nn.functional.mse_loss(a, y, reduction="sum") / (2 * len(y))
                    opt.zero_grad(set_to_none=True)
                    cost.backward()
                    opt.step()
            return model
        return run
    return factory


def jax_peer(sizes, X, Y, batch, lr):
    """JAX, float64, one jitted `lax.scan` per epoch; the permutation is made outside."""
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    L = len(sizes) - 1

    def cost(params, x, y):
        a = x
        for l, (w, b) in enumerate(params):
            z = a @ w.T + b
            a = jnp.tanh(z) if l < L - 1 else z
        return 0.5 * jnp.sum((a - y) ** 2) / x.shape[0]

    def step(params, xy):
        grads = jax.grad(cost)(params, *xy)
        return jax.tree.map(lambda p, g: p - lr * g, params, grads), None

    n_full = len(X) // batch * batch

    @jax.jit
    def epoch(params, X, Y, perm):
        idx = perm[:n_full].reshape(-1, batch)
        params, _ = jax.lax.scan(step, params, (X[idx], Y[idx]))
        return params

    # A last, smaller mini-batch (if batch does not divide n) is one more jitted step.
    tail = jax.jit(lambda params, x, y: step(params, (x, y))[0])
    Xj, Yj = jnp.asarray(X), jnp.asarray(Y)

    def factory(epochs):
        w, b = glorot(sizes, X.dtype)
        params = [(jnp.asarray(wl), jnp.asarray(bl)) for wl, bl in zip(w, b)]
        rng = np.random.default_rng(0)

        def run():
            p = params
            for _ in range(epochs):
                perm = rng.permutation(len(X))
                p = epoch(p, Xj, Yj, jnp.asarray(perm))
                if n_full < len(X):
                    rest = jnp.asarray(perm[n_full:])
                    p = tail(p, Xj[rest], Yj[rest])
            return jax.block_until_ready(p)
        return run
    return factory


def sklearn_peer(sizes, X, Y, batch, lr):
    """scikit-learn MLPRegressor(solver="sgd"), plain SGD, every epoch run (no early stop)."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor
    y = Y.ravel() if Y.shape[1] == 1 else Y

    def factory(epochs):
        model = MLPRegressor(
            hidden_layer_sizes=tuple(sizes[1:-1]), activation="tanh", solver="sgd",
            batch_size=batch, learning_rate="constant", learning_rate_init=lr,
            momentum=0.0, nesterovs_momentum=False, alpha=0.0, max_iter=epochs,
            shuffle=True, n_iter_no_change=10**9, random_state=0)

        def run():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                return model.fit(X, y)
        return run
    return factory


PEERS = {"torch": torch_peer, "jax": jax_peer, "sklearn": sklearn_peer, "numpy": numpy_peer}
