r"""Viscous Burgers equation on a periodic domain.

.. math::

    u_t + u\,u_x = \nu\,u_{xx}, \qquad x \in [0, 2\pi)\ \text{periodic},

    u(x, 0) = a_1 \sin x + a_2 \sin(2x + \varphi_2).

Output: u(x, t_final) on ``n_grid`` equispaced points.  The simplest model
of nonlinear steepening against viscous diffusion (a 1-D caricature of
turbulence and of shock formation in a compressible fluid).  The phase of
the first mode is fixed at zero without loss of generality (the equation is
invariant under translation in x).

Units (dimensionless): x in units of L / (2 pi), u in units of a reference
speed U, t in units of L / (2 pi U), nu in units of U L / (2 pi), so the
Reynolds number of mode 1 is a_1 / nu.  ``log10_nu`` is sampled so that
nu covers two decades (0.001 to 0.1) uniformly in its logarithm.

With a_1 + 2 a_2 <= 0.8 the inviscid solution would break at
t >= 1 / (a_1 + 2 a_2) >= 1.25 > t_final = 1, so every profile in the box
is smooth (no shocks; |u_x| < 4 even as nu -> 0, where u tends to the
inviscid solution before breaking) while nonlinearity has visibly
steepened it.

Solver: Fourier pseudo-spectral collocation on ``n_points`` nodes
(method of lines; conservative form u_t = -(u^2/2)_x + nu u_xx, derivatives
by FFT), integrated by the implicit Runge-Kutta method Radau IIA (order 5,
L-stable) of ``scipy.integrate.solve_ivp`` with the exact dense Jacobian
J = -D1 diag(u) + nu D2 built from the Fourier differentiation matrices
(Trefethen, ch. 3).  At rtol 1e-8 Radau meets Cole-Hopf to ~1e-11 where
BDF only reaches ~1e-8.  512 nodes resolve the steepest profile of the box
(nu = 0.001) to ~2e-9, where 256 nodes leave 5e-7: a surrogate's error is
never confused with the solver's.  A sample costs 0.07-0.2 s of one core,
the most at small nu and steep initial waves.

Independent check (tests): the Cole-Hopf transform u = -2 nu phi_x / phi
turns the equation into phi_t = nu phi_xx; for u0 = a sin x,
phi = I_0(z) + 2 sum_k I_k(z) exp(-nu k^2 t) cos(kx), z = a / (2 nu).

References: J. M. Burgers, Adv. Appl. Mech. 1, 171 (1948);
E. Hopf, Comm. Pure Appl. Math. 3, 201 (1950); J. D. Cole,
Q. Appl. Math. 9, 225 (1951); L. N. Trefethen, *Spectral Methods in
MATLAB* (SIAM, 2000).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp
from scipy.linalg import toeplitz

from .base import Parameter, Problem, check_positive_float, check_positive_int, single_threaded_blas

__all__ = ["Burgers", "fourier_differentiation_matrices", "solve_burgers"]


def fourier_differentiation_matrices(n):
    """First and second Fourier differentiation matrices on n (even) nodes.

    Nodes x_j = 2 pi j / n.  D1[j, k] = (-1)^(j-k) cot((j-k) h / 2) / 2,
    D2[j, j] = -pi^2 / (3 h^2) - 1/6, D2[j, k] = -(-1)^(j-k) / (2 sin^2((j-k) h / 2)).
    """
    h = 2.0 * math.pi / n
    k = np.arange(1, n)
    sign = (-1.0) ** k
    col1 = np.concatenate(([0.0], 0.5 * sign / np.tan(k * h / 2.0)))
    col2 = np.concatenate(([-math.pi**2 / (3.0 * h**2) - 1.0 / 6.0],
                           -0.5 * sign / np.sin(k * h / 2.0) ** 2))
    return toeplitz(col1, -col1), toeplitz(col2)


def solve_burgers(u0, nu, t_final, rtol=1e-8, atol=1e-10, method="Radau"):
    """Integrate u_t + u u_x = nu u_xx from nodal values u0 on [0, 2 pi).

    Returns u at t_final on the same nodes.  Raises RuntimeError if the
    integrator fails.
    """
    u0 = np.asarray(u0, dtype=np.float64)
    n = u0.size
    if n % 2:
        raise ValueError(f"the number of nodes must be even, got {n}")
    wavenumber = np.fft.rfftfreq(n, d=1.0 / n)  # 0, 1, ..., n/2
    ik = 1j * wavenumber
    ik[-1] = 0.0  # the Nyquist mode has no odd derivative on a real grid
    k2 = wavenumber**2
    D1, D2 = fourier_differentiation_matrices(n)
    nu_D2 = nu * D2

    def rhs(t, u):
        flux_hat = np.fft.rfft(0.5 * u * u)
        u_hat = np.fft.rfft(u)
        return np.fft.irfft(-ik * flux_hat - nu * k2 * u_hat, n)

    def jacobian(t, u):
        # d/du of -D1 (u^2/2) is -D1 diag(u): scale the columns of D1 by u.
        return nu_D2 - D1 * u[np.newaxis, :]

    # One BLAS thread: the dense n x n LU of each implicit step is 10-50x slower
    # threaded on a shared machine (see base.single_threaded_blas).
    with single_threaded_blas():
        sol = solve_ivp(rhs, (0.0, t_final), u0, method=method, jac=jacobian,
                        rtol=rtol, atol=atol, t_eval=[t_final])
    if not sol.success:
        raise RuntimeError(f"burgers: {method} integration failed: {sol.message}")
    return sol.y[:, -1]


class Burgers(Problem):
    """Periodic viscous Burgers: u(x, t_final) from a two-mode initial wave."""

    name = "burgers"
    description = ("Viscous Burgers u_t + u u_x = nu u_xx, periodic on [0, 2 pi), "
                   "two-mode sine initial condition; output u(x, t_final).")
    parameters = (
        Parameter("log10_nu", -3.0, -1.0, "log10(U L / 2 pi)",
                  "decimal logarithm of the kinematic viscosity nu"),
        Parameter("a1", 0.2, 0.4, "U", "amplitude of the sin(x) mode at t = 0"),
        Parameter("a2", 0.0, 0.2, "U", "amplitude of the sin(2x + phi2) mode at t = 0"),
        Parameter("phi2", 0.0, 2.0 * math.pi, "rad", "phase of mode 2 relative to mode 1"),
    )
    grid_name = "x"
    grid_unit = "L/(2 pi)"
    output_name = "u"
    output_unit = "U"

    def __init__(self, n_grid=128, n_points=512, t_final=1.0, rtol=1e-8, atol=1e-10,
                 method="Radau"):
        n_grid = check_positive_int("n_grid", n_grid, 2)
        n_points = check_positive_int("n_points", n_points, 4)
        if n_points % 2 or n_points % n_grid:
            raise ValueError(f"`n_points` must be even and a multiple of n_grid = {n_grid} "
                             f"so the output grid lies on solver nodes, got {n_points}")
        self.n_points = n_points
        self.t_final = check_positive_float("t_final", t_final)
        self.rtol = check_positive_float("rtol", rtol)
        self.atol = check_positive_float("atol", atol)
        if method not in ("Radau", "BDF"):
            raise ValueError(f"`method` must be 'Radau' or 'BDF' (stiff, with a Jacobian), got {method!r}")
        self.method = method
        self.grid = 2.0 * math.pi * np.arange(n_grid) / n_grid
        self._stride = n_points // n_grid
        self.settings = {"n_grid": n_grid, "n_points": n_points, "t_final": self.t_final,
                         "rtol": self.rtol, "atol": self.atol, "method": method}

    def initial_condition(self, params, x):
        _, a1, a2, phi2 = params
        return a1 * np.sin(x) + a2 * np.sin(2.0 * x + phi2)

    def _solve(self, params):
        nu = 10.0 ** params[0]
        x = 2.0 * math.pi * np.arange(self.n_points) / self.n_points
        u = solve_burgers(self.initial_condition(params, x), nu, self.t_final,
                          self.rtol, self.atol, self.method)
        return u[:: self._stride]
