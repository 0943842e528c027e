"""Damped Newton for a positive unknown with a banded Jacobian: the steady
solvers of `heat` and `transport`."""
import numpy as np
from scipy.linalg import solve_banded


def damped_newton(residual, x, bands, *, rtol, max_iter, accept_below, give_up_below, name):
    """x with residual(x) = 0, from the start `x`; `residual(x) -> (R, ab)`,
    ab the Jacobian in `solve_banded`'s (l, u) = `bands` storage.

    Each step is halved until the trial stays positive (the unknowns are
    temperatures, raised to powers) and the residual norm falls by a
    sufficient amount (Armijo, 1e-4 of the step), or the step is below
    `accept_below`; below `give_up_below` the step is refused. Converged
    when a full step is at most `rtol` times max(x). Raises RuntimeError
    (naming `name`) when it cannot converge.
    """
    R, ab = residual(x)
    norm = np.linalg.norm(R)
    for _ in range(max_iter):
        step = solve_banded(bands, ab, -R)
        small = np.max(np.abs(step)) <= rtol * np.max(x)
        lam = 1.0
        while True:
            trial = x + lam * step
            if np.all(trial > 0.0):
                R_new, ab_new = residual(trial)
                norm_new = np.linalg.norm(R_new)
                if small or norm_new < (1.0 - 1e-4 * lam) * norm or lam < accept_below:
                    break
            lam *= 0.5
            if lam < give_up_below:
                raise RuntimeError(f"{name}: Newton step cannot keep T positive")
        x, R, ab, norm = trial, R_new, ab_new, norm_new
        if small:
            return x
    raise RuntimeError(f"{name}: Newton did not converge in {max_iter} iterations (residual {norm:.3e})")
