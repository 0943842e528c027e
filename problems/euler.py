r"""Compressible Euler equations: a shock running into an entropy (density) wave.

The 1-D Euler equations of an ideal gas with constant ratio of specific
heats gamma, in conservation form:

.. math::

    \partial_t U + \partial_x F(U) = 0, \qquad
    U = (\rho, \rho u, E), \quad F = (\rho u, \rho u^2 + p, u (E + p)), \quad
    E = \frac{p}{\gamma - 1} + \frac{1}{2} \rho u^2.

Initial data (the Shu-Osher problem, generalised): a normal shock at
x_0 = -4 moves right, at the speed s = M_s c_1, into gas at rest with
uniform pressure and a sinusoidal density (an entropy wave):

.. math::

    (\rho, u, p)(x, 0) = \begin{cases}
      (\rho_2, u_2, p_2) & x < -4, \\
      (1 + a \sin \kappa x,\ 0,\ 1) & x > -4. \end{cases}

The post-shock state is that of the unperturbed gas (rho_1 = p_1 = 1,
c_1 = sqrt(gamma)), from the Rankine-Hugoniot conditions (mass, momentum
and energy fluxes continuous in the frame of the shock):

.. math::

    \rho_2 = \frac{(\gamma + 1) M_s^2}{(\gamma - 1) M_s^2 + 2}, \qquad
    p_2 = \frac{2 \gamma M_s^2 - (\gamma - 1)}{\gamma + 1}, \qquad
    u_2 = s \Bigl(1 - \frac{1}{\rho_2}\Bigr), \qquad s = M_s \sqrt{\gamma}.

M_s = 3, a = 0.2, kappa = 5, gamma = 1.4 is the classic test of Shu &
Osher (rho_2, u_2, p_2 = 3.857143, 2.629369, 10.33333).  The shock
compresses the entropy wave to the wavenumber kappa rho_2 (a fluid element
crossed at t' moves on at u_2), amplifies it, is itself rippled by it
(its speed follows the local pre-shock density) and sheds acoustic waves
downstream: a band of fine, high-frequency structure right behind the
front, then smoother waves.  For a = 0 the problem is a Riemann problem
whose exact solution is the bare shock; for a != 0 there is no closed form
(linear interaction theory, e.g. McKenzie & Westphal, covers only a -> 0
and not the nonlinear steepening or the waves' interactions), so a
shock-capturing solve is the route to the output.

Output: the density rho(x, t = 1.8) on 256 cells of width h = 10 / 256
covering [-5, 5] (the classic window), each value the mean of the
n_cells / 256 solver cells inside (an exact cell average of the finite-
volume solution); ``grid`` holds the cell centres.  The sharp feature is
the shock front at x_s ~ -4 + M_s sqrt(gamma) 1.8, which sweeps
[-1.04, 4.14] across the box (within ~0.1 of it for a != 0): always inside
the window, at least 0.8 from its right end.  Ahead of it the initial wave
is untouched; behind it lie the compressed entropy waves, the shed acoustic
waves and, near x = -4 + u_2 1.8, the small start-up error every captured
shock leaves.

Units (non-dimensional): density in the mean pre-shock density rho_1,
pressure in the pre-shock pressure p_1, velocity in sqrt(p_1 / rho_1)
(so c_1 = sqrt(gamma)), length in a reference length L (the window is 10 L),
time in L / sqrt(p_1 / rho_1).

The box (M_s, a, kappa, gamma):

* ``mach`` in [1.5, 3.5]: from a moderate shock (density ratio 1.7-2.0,
  subsonic flow behind it in the lab, so acoustic waves also run back
  upstream) to a strong one (ratio 3.2-6.1, supersonic flow behind it);
  3.5 is the largest Mach number whose shock stays inside the window at
  t = 1.8 for every gamma, 1.5 keeps it well past x = -4.
* ``amplitude`` in [0, 0.3]: from the bare Riemann problem (a = 0, the
  exact check) through linear to strongly nonlinear interaction; the
  pre-shock density stays >= 0.7.
* ``wavenumber`` in [2, 8]: pre-shock wavelengths 0.79-3.1, so the shock
  crosses ~1-10 wavelengths; behind it they are compressed to as little as
  0.13 (kappa rho_2 = 48), which sets the mesh.
* ``gamma`` in [1.2, 1.67]: from a polyatomic (or hot, dissociating) gas to
  a monatomic one; it sets the compression limit (gamma + 1) / (gamma - 1)
  = 11 to 4 and so the post-shock state and wavelengths.

Solver: finite volumes on a uniform mesh, fifth-order WENO-JS reconstruction
(Jiang & Shu 1996, epsilon = 1e-6) on characteristic variables with local
Lax-Friedrichs flux splitting: at each face the fluxes and states of the
6-cell stencil are projected on the left eigenvectors of the Roe-averaged
Jacobian, each field is split as (g +- alpha_k w) / 2 with alpha_k the
largest |lambda_k| over the stencil, reconstructed upwind and projected
back (component-wise WENO is known to oscillate at strong shocks; with a local
alpha_k the gas at rest keeps u = 0 and its entropy wave to rounding).
Time stepping: SSP-RK3 (Shu & Osher 1988), dt = 0.5 dx / max(|u| + c).
Numba-compiled loops (one pass per stage over the faces, ~0.2 us per face
and stage), deterministic.  Boundaries are transmissive (zero-gradient
ghost cells): the right end is the steady gas at rest, and the mesh goes
on 1 L left of the window (``pad``) so that acoustic waves running
upstream (at most c_2 - u_2 = 0.78) and their weak reflection cannot come
back into the window before t = 1.8.

Default resolution and cost: n_cells = 2048 in the window (dx = 0.0049,
26 cells per post-shock wavelength at the hardest corner), 2253 cells with
the pad, 1500-4700 time steps (more for strong shocks: dt ~ dx / (u_2 +
c_2)).  Stated accuracy: relative L1 error of the output,
sum |rho - rho_ref| / sum |rho_ref| (the natural norm with shocks), below
0.3 % against finer meshes.  Convergence study (against 8192 cells):
the hardest corner (M_s 3.5, a 0.3, kappa 8, gamma 1.2) 0.16 % at 2048
cells, 0.75 % at 1024, 1.9 % at 512; the classic point 0.07 %, 0.18 %,
0.45 %.  (First order at the shock, faster where the fine waves become
resolved.)  Cost of one solve on one core, measured over the 16 corners,
the centre and 3 other points on a heavily loaded 2-core machine: CPU
2.2 s (weak shocks, M_s = 1.5) to 6.8 s (M_s = 3.5, gamma = 1.67), median
4.4 s (centre 3.9 s); cost ~ n_cells^2 x (u_2 + c_2), so 4096 cells cost
18-29 s.  The first solve in a process also loads the compiled kernels
(~1.5 s; ~10 s to compile them once into numba's cache).
``quick`` (n_cells = 256, one solver cell per output) keeps the output grid
and costs 0.03-0.08 s of CPU (profiles finite, the shock smeared
over ~2 of the 256 cells, the fine waves lost).

Independent checks (tests): an exact Riemann solver (Toro, ch. 4:
pressure function, Newton iteration for p*, sampling) written in the tests
against the Problem at a = 0 (relative L1 < 0.25 % on 512 cells, shock
position to 0.4 cell) and against solve_euler on the Sod, Lax and 123
problems; the Rankine-Hugoniot state against flux continuity in the shock
frame and against an independent root of the jump conditions; conservation
of mass, momentum and energy to rounding in a periodic nonlinear flow and,
with the time-integrated boundary fluxes, in the shock run; fifth order
measured on an advected density wave; parameters reaching the physics
(plateau density and shock position from M_s and gamma, the wave ahead of
the shock exact to 1e-12 for a and kappa, the post-shock wavenumber
kappa rho_2); the convergence of the default mesh.

References: C.-W. Shu and S. Osher, J. Comput. Phys. 83, 32 (1989) and 77,
439 (1988); G.-S. Jiang and C.-W. Shu, J. Comput. Phys. 126, 202 (1996);
E. F. Toro, *Riemann Solvers and Numerical Methods for Fluid Dynamics*,
3rd ed. (Springer, 2009), ch. 3-4; J. F. McKenzie and K. O. Westphal,
Phys. Fluids 11, 2350 (1968); L. D. Landau and E. M. Lifshitz, *Fluid
Mechanics*, section 89 (Rankine-Hugoniot relations).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .base import Parameter, Problem, check_positive_float, check_positive_int

__all__ = ["ShockEntropy", "post_shock_state", "shock_speed", "conserved", "primitive",
           "solve_euler"]

#: Boundary conditions of :func:`solve_euler`.
TRANSMISSIVE, PERIODIC = 0, 1


# ------------------------------------------------------------------ physics
def shock_speed(mach, gamma):
    """Lab-frame speed of a shock of Mach number ``mach`` into gas at rest with rho = p = 1."""
    return mach * math.sqrt(gamma)


def post_shock_state(mach, gamma):
    """(rho2, u2, p2) behind a normal shock of Mach ``mach`` moving right into (1, 0, 1).

    Rankine-Hugoniot in the shock frame, M = s / c1, c1 = sqrt(gamma):
    rho2 = (gamma + 1) M^2 / ((gamma - 1) M^2 + 2),
    p2 = (2 gamma M^2 - (gamma - 1)) / (gamma + 1),
    u2 = s (1 - 1 / rho2).
    """
    m2 = mach * mach
    rho2 = (gamma + 1.0) * m2 / ((gamma - 1.0) * m2 + 2.0)
    p2 = (2.0 * gamma * m2 - (gamma - 1.0)) / (gamma + 1.0)
    u2 = shock_speed(mach, gamma) * (1.0 - 1.0 / rho2)
    return rho2, u2, p2


def conserved(rho, u, p, gamma):
    """Conserved variables (rho, rho u, E) as a (3, n) array from primitive ones."""
    rho, u, p = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (rho, u, p)))
    return np.array([rho, rho * u, p / (gamma - 1.0) + 0.5 * rho * u * u])


def primitive(U, gamma):
    """(rho, u, p) from a (3, n) array of conserved variables."""
    rho = U[0]
    u = U[1] / rho
    return rho, u, (gamma - 1.0) * (U[2] - 0.5 * rho * u * u)


# ------------------------------------------------------------------ solver
@njit(cache=True, error_model="numpy")
def _weno5(vm2, vm1, v0, vp1, vp2):
    """WENO5-JS value at the right face of the centre cell (Jiang & Shu 1996)."""
    b0 = (13.0 / 12.0) * (vm2 - 2.0 * vm1 + v0) ** 2 + 0.25 * (vm2 - 4.0 * vm1 + 3.0 * v0) ** 2
    b1 = (13.0 / 12.0) * (vm1 - 2.0 * v0 + vp1) ** 2 + 0.25 * (vm1 - vp1) ** 2
    b2 = (13.0 / 12.0) * (v0 - 2.0 * vp1 + vp2) ** 2 + 0.25 * (3.0 * v0 - 4.0 * vp1 + vp2) ** 2
    a0 = 0.1 / (1e-6 + b0) ** 2
    a1 = 0.6 / (1e-6 + b1) ** 2
    a2 = 0.3 / (1e-6 + b2) ** 2
    q0 = 2.0 * vm2 - 7.0 * vm1 + 11.0 * v0
    q1 = -vm1 + 5.0 * v0 + 2.0 * vp1
    q2 = 2.0 * v0 + 5.0 * vp1 - vp2
    return (a0 * q0 + a1 * q1 + a2 * q2) / (6.0 * (a0 + a1 + a2))


@njit(cache=True, error_model="numpy")
def _fill_ghosts(U, n, bc):
    """Three ghost cells on each side of the n interior cells U[:, 3:n+3]."""
    for k in range(3):
        for g in range(3):
            if bc == 1:  # periodic
                U[k, g] = U[k, n + g]
                U[k, n + 3 + g] = U[k, 3 + g]
            else:  # transmissive: zero gradient
                U[k, g] = U[k, 3]
                U[k, n + 3 + g] = U[k, n + 2]


@njit(cache=True, error_model="numpy")
def _fluxes(U, n, gamma, bc, F, lam, Fc, w, g):
    """Numerical fluxes F[:, j] at the n + 1 faces j - 1/2 of the interior cells.

    Characteristic-wise WENO5-JS with local Lax-Friedrichs flux splitting:
    at each face, the cell values and fluxes of the 6-cell stencil are
    projected on the left eigenvectors of the Roe-averaged Jacobian, each
    characteristic field k is split as (g +- alpha_k w) / 2 with alpha_k the
    largest |lambda_k| over the stencil, reconstructed by WENO5 from the left
    (+) and right (-) and projected back.
    """
    _fill_ghosts(U, n, bc)
    gm1 = gamma - 1.0
    m = n + 6
    for i in range(m):
        rho = U[0, i]
        u = U[1, i] / rho
        p = gm1 * (U[2, i] - 0.5 * rho * u * u)
        c = math.sqrt(gamma * p / rho)
        Fc[0, i] = U[1, i]
        Fc[1, i] = U[1, i] * u + p
        Fc[2, i] = (U[2, i] + p) * u
        lam[0, i] = abs(u - c)
        lam[1, i] = abs(u)
        lam[2, i] = abs(u + c)
    for j in range(n + 1):
        # Face between cells i = j + 2 and i + 1 of the ghost-extended array.
        i = j + 2
        rl = math.sqrt(U[0, i])
        rr = math.sqrt(U[0, i + 1])
        ul = U[1, i] / U[0, i]
        ur = U[1, i + 1] / U[0, i + 1]
        pl = gm1 * (U[2, i] - 0.5 * U[0, i] * ul * ul)
        pr = gm1 * (U[2, i + 1] - 0.5 * U[0, i + 1] * ur * ur)
        hl = (U[2, i] + pl) / U[0, i]
        hr = (U[2, i + 1] + pr) / U[0, i + 1]
        u = (rl * ul + rr * ur) / (rl + rr)
        h = (rl * hl + rr * hr) / (rl + rr)
        c = math.sqrt(gm1 * (h - 0.5 * u * u))
        b1 = gm1 / (c * c)
        b2 = 0.5 * b1 * u * u
        # Left eigenvectors (rows) of the Roe matrix, fields u - c, u, u + c.
        l00 = 0.5 * (b2 + u / c)
        l01 = -0.5 * (b1 * u + 1.0 / c)
        l02 = 0.5 * b1
        l10 = 1.0 - b2
        l11 = b1 * u
        l12 = -b1
        l20 = 0.5 * (b2 - u / c)
        l21 = -0.5 * (b1 * u - 1.0 / c)
        l22 = 0.5 * b1
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        for s in range(6):
            q = i - 2 + s
            a0 = max(a0, lam[0, q])
            a1 = max(a1, lam[1, q])
            a2 = max(a2, lam[2, q])
            w[0, s] = l00 * U[0, q] + l01 * U[1, q] + l02 * U[2, q]
            w[1, s] = l10 * U[0, q] + l11 * U[1, q] + l12 * U[2, q]
            w[2, s] = l20 * U[0, q] + l21 * U[1, q] + l22 * U[2, q]
            g[0, s] = l00 * Fc[0, q] + l01 * Fc[1, q] + l02 * Fc[2, q]
            g[1, s] = l10 * Fc[0, q] + l11 * Fc[1, q] + l12 * Fc[2, q]
            g[2, s] = l20 * Fc[0, q] + l21 * Fc[1, q] + l22 * Fc[2, q]
        h0 = 0.0
        h1 = 0.0
        h2 = 0.0
        for k in range(3):
            alpha = a0 if k == 0 else (a1 if k == 1 else a2)
            # Positive part from cells i-2..i+2, negative part from i+3..i-1.
            p0 = 0.5 * (g[k, 0] + alpha * w[k, 0])
            p1 = 0.5 * (g[k, 1] + alpha * w[k, 1])
            p2 = 0.5 * (g[k, 2] + alpha * w[k, 2])
            p3 = 0.5 * (g[k, 3] + alpha * w[k, 3])
            p4 = 0.5 * (g[k, 4] + alpha * w[k, 4])
            m1 = 0.5 * (g[k, 1] - alpha * w[k, 1])
            m2 = 0.5 * (g[k, 2] - alpha * w[k, 2])
            m3 = 0.5 * (g[k, 3] - alpha * w[k, 3])
            m4 = 0.5 * (g[k, 4] - alpha * w[k, 4])
            m5 = 0.5 * (g[k, 5] - alpha * w[k, 5])
            val = _weno5(p0, p1, p2, p3, p4) + _weno5(m5, m4, m3, m2, m1)
            if k == 0:
                h0 = val
            elif k == 1:
                h1 = val
            else:
                h2 = val
        # Right eigenvectors (columns): (1, u - c, h - u c), (1, u, u^2/2), (1, u + c, h + u c).
        F[0, j] = h0 + h1 + h2
        F[1, j] = (u - c) * h0 + u * h1 + (u + c) * h2
        F[2, j] = (h - u * c) * h0 + 0.5 * u * u * h1 + (h + u * c) * h2


@njit(cache=True, error_model="numpy")
def _max_speed(U, n, gamma):
    s = 0.0
    for i in range(3, n + 3):
        rho = U[0, i]
        u = U[1, i] / rho
        p = (gamma - 1.0) * (U[2, i] - 0.5 * rho * u * u)
        s = max(s, abs(u) + math.sqrt(gamma * p / rho))
    return s


@njit(cache=True, error_model="numpy")
def _advance(U0, dx, t_final, gamma, cfl, bc, max_steps):
    """SSP-RK3 (Shu & Osher 1988) to t_final; returns (U, steps, boundary flux integrals)."""
    n = U0.shape[1]
    U = np.empty((3, n + 6))
    U1 = np.empty((3, n + 6))
    U2 = np.empty((3, n + 6))
    U[:, 3:n + 3] = U0
    U1[:, :] = U
    U2[:, :] = U
    F = np.empty((3, n + 1))
    lam = np.empty((3, n + 6))
    Fc = np.empty((3, n + 6))
    w = np.empty((3, 6))
    g = np.empty((3, 6))
    # Time integral of the flux through the left and right ends of the domain.
    boundary = np.zeros((2, 3))
    t = 0.0
    steps = 0
    while t < t_final:
        if steps >= max_steps:
            return U[:, 3:n + 3].copy(), -1, boundary
        speed = _max_speed(U, n, gamma)
        if not (speed > 0.0 and speed < 1e300):
            return U[:, 3:n + 3].copy(), -1, boundary
        dt = cfl * dx / speed
        if t + dt >= t_final:
            dt = t_final - t
        r = dt / dx
        # Stage 1: U1 = U + dt L(U).
        _fluxes(U, n, gamma, bc, F, lam, Fc, w, g)
        for k in range(3):
            boundary[0, k] += dt / 6.0 * F[k, 0]
            boundary[1, k] += dt / 6.0 * F[k, n]
            for i in range(n):
                U1[k, i + 3] = U[k, i + 3] - r * (F[k, i + 1] - F[k, i])
        # Stage 2: U2 = 3/4 U + 1/4 (U1 + dt L(U1)).
        _fluxes(U1, n, gamma, bc, F, lam, Fc, w, g)
        for k in range(3):
            boundary[0, k] += dt / 6.0 * F[k, 0]
            boundary[1, k] += dt / 6.0 * F[k, n]
            for i in range(n):
                U2[k, i + 3] = 0.75 * U[k, i + 3] + 0.25 * (U1[k, i + 3] - r * (F[k, i + 1] - F[k, i]))
        # Stage 3: U = 1/3 U + 2/3 (U2 + dt L(U2)).
        _fluxes(U2, n, gamma, bc, F, lam, Fc, w, g)
        for k in range(3):
            boundary[0, k] += 2.0 * dt / 3.0 * F[k, 0]
            boundary[1, k] += 2.0 * dt / 3.0 * F[k, n]
            for i in range(n):
                U[k, i + 3] = (U[k, i + 3] + 2.0 * (U2[k, i + 3] - r * (F[k, i + 1] - F[k, i]))) / 3.0
        t += dt
        steps += 1
    return U[:, 3:n + 3].copy(), steps, boundary


def solve_euler(U0, dx, t_final, gamma, cfl=0.5, bc="transmissive", max_steps=10**7):
    """Advance cell averages U0 (3 x n: rho, rho u, E) of an ideal gas to ``t_final``.

    Finite volumes on a uniform mesh of spacing ``dx``: characteristic-wise
    WENO5-JS with local Lax-Friedrichs flux splitting, SSP-RK3 with
    dt = cfl dx / max(|u| + c) at each step (the last step is cut to land on
    t_final).  ``bc`` is "transmissive" (zero-gradient ghost cells) or
    "periodic".  Returns (U, n_steps, boundary): ``boundary[0]`` and
    ``boundary[1]`` are the time integrals of the numerical flux through the
    left and right ends, so that sum(U) dx - sum(U0) dx = boundary[0] -
    boundary[1] to rounding.  Raises RuntimeError on a non-physical state.
    """
    U0 = np.ascontiguousarray(U0, dtype=np.float64)
    if U0.ndim != 2 or U0.shape[0] != 3 or U0.shape[1] < 6:
        raise ValueError(f"U0 must have shape (3, n >= 6), got {U0.shape}")
    codes = {"transmissive": TRANSMISSIVE, "periodic": PERIODIC}
    if bc not in codes:
        raise ValueError(f"`bc` must be one of {sorted(codes)}, got {bc!r}")
    U, steps, boundary = _advance(U0, float(dx), float(t_final), float(gamma), float(cfl),
                                  codes[bc], int(max_steps))
    if steps < 0 or not np.all(np.isfinite(U)):
        raise RuntimeError("euler: the solution lost positivity or hit max_steps")
    return U, steps, boundary


# ------------------------------------------------------------------ problem
class ShockEntropy(Problem):
    """Shu-Osher family: density rho(x, t_final) of a shock running into a density wave."""

    name = "euler"
    description = ("1-D compressible Euler, ideal gas: a normal shock of Mach M_s runs into "
                   "gas at rest with rho = 1 + a sin(kappa x), p = 1 (Shu-Osher family); "
                   "output the density rho(x, t = 1.8) on [-5, 5], shock front included.")
    parameters = (
        Parameter("mach", 1.5, 3.5, "1", "shock Mach number M_s = s / c1 relative to the "
                  "unperturbed pre-shock gas (rho = p = 1)"),
        Parameter("amplitude", 0.0, 0.3, "rho1", "amplitude a of the pre-shock density wave "
                  "rho = 1 + a sin(kappa x)"),
        Parameter("wavenumber", 2.0, 8.0, "1/L", "wavenumber kappa of the pre-shock density wave"),
        Parameter("gamma", 1.2, 1.67, "1", "ratio of specific heats of the ideal gas"),
    )
    grid_name = "x"
    grid_unit = "L"
    output_name = "rho"
    output_unit = "rho1"

    #: Coarse solver for smoke tests: same output grid, one solver cell per output cell.
    quick = {"n_cells": 256}

    #: Output window [x_min, x_max], initial shock position and final time.
    x_min, x_max, x_shock, t_final = -5.0, 5.0, -4.0, 1.8

    def __init__(self, n_cells=2048, n_out=256, cfl=0.5, pad=1.0):
        n_out = check_positive_int("n_out", n_out, 2)
        n_cells = check_positive_int("n_cells", n_cells, n_out)
        if n_cells % n_out:
            raise ValueError(f"`n_cells` must be a multiple of n_out = {n_out} (each output "
                             f"value is the mean of whole solver cells), got {n_cells}")
        self.cfl = check_positive_float("cfl", cfl)
        if self.cfl > 1.0:
            raise ValueError(f"`cfl` must be at most 1 (SSP-RK3 bound), got {cfl!r}")
        self.pad = float(pad)
        if not (math.isfinite(self.pad) and self.pad >= 0.0):
            raise ValueError(f"`pad` must be a non-negative length, got {pad!r}")
        self.n_cells, self.n_out = n_cells, n_out
        self.dx = (self.x_max - self.x_min) / n_cells
        self.n_pad = int(math.ceil(self.pad / self.dx - 1e-9))
        # Solver cell edges: n_pad cells left of the window, then the window.
        self.edges = self.x_min + self.dx * np.arange(-self.n_pad, n_cells + 1)
        h = (self.x_max - self.x_min) / n_out
        self.grid = self.x_min + h * (np.arange(n_out) + 0.5)
        self.settings = {"n_cells": n_cells, "n_out": n_out, "cfl": self.cfl, "pad": self.pad}

    def initial_state(self, params):
        """Exact cell averages (3 x cells) of the initial data on the solver mesh."""
        mach, a, kappa, gamma = (float(v) for v in params)
        rho2, u2, p2 = post_shock_state(mach, gamma)
        left, right = self.edges[:-1], self.edges[1:]
        # Fraction of each cell behind the shock (x < x_shock).
        theta = np.clip((self.x_shock - left) / self.dx, 0.0, 1.0)
        lo = np.minimum(np.maximum(left, self.x_shock), right)  # pre-shock part [lo, right]
        # int (1 + a sin(kappa x)) dx over [lo, right], per unit cell length.
        pre = ((right - lo) + a / kappa * (np.cos(kappa * lo) - np.cos(kappa * right))) / self.dx
        U = np.empty((3, left.size))
        U[0] = theta * rho2 + pre
        U[1] = theta * rho2 * u2
        U[2] = theta * (p2 / (gamma - 1.0) + 0.5 * rho2 * u2 * u2) + (1.0 - theta) / (gamma - 1.0)
        return U

    def run(self, params):
        """(U, n_steps, boundary) of the raw solve on the whole solver mesh (see solve_euler)."""
        return solve_euler(self.initial_state(params), self.dx, self.t_final, float(params[3]),
                           self.cfl, "transmissive")

    def profile(self, U):
        """The output: means of rho over the n_cells / n_out solver cells of each output cell."""
        return U[0, self.n_pad:].reshape(self.n_out, -1).mean(axis=1)

    def _solve(self, params):
        U, _, _ = self.run(params)
        return self.profile(U)
