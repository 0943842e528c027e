r"""Screw-pinch equilibrium: safety factor of a large-aspect-ratio tokamak.

A straight cylinder of minor radius a stands in for a tokamak of major
radius R0.  With a toroidal current density and a pressure

.. math::

    j_z(r) = j_0 (1 - r^2/a^2)^{\nu}, \qquad p(r) = p_0 (1 - r^2/a^2)^{\alpha},

Ampere's law and radial force balance give

.. math::

    \frac{1}{r}\frac{d(r B_\theta)}{dr} = \mu_0 j_z, \qquad
    \frac{d}{dr}\left(p + \frac{B_\theta^2 + B_z^2}{2\mu_0}\right)
        + \frac{B_\theta^2}{\mu_0 r} = 0,

so, with the enclosed current I(r) = 2 pi int_0^r j_z r' dr',
B_theta = mu0 I / (2 pi r) and d(B_z^2)/dr = -2 mu0 (dp/dr + j_z B_theta),
B_z(a) = B0 (the vacuum toroidal field at the edge).  The output is the
safety factor

.. math::  q(r) = \frac{r B_z(r)}{R_0 B_\theta(r)},

with q(0) = 2 B_z(0) / (mu0 R0 j_z(0)).  j0 is fixed by the plasma current:
Ip = pi a^2 j0 / (nu + 1).

Units: SI, except Ip in MA and p0 in kPa; r in m.  The default geometry
(R0 = 3 m, a = 1 m) is that of a mid-size tokamak.  The box gives an
edge safety factor q(a) between about 2.5 and 8 and beta below about 5 %.

Solver: ``scipy.integrate.solve_ivp`` (DOP853, rtol 1e-10) integrates
(I, W) outward from the axis, where W' = -2 mu0 (p' + j_z B_theta);
B_z^2 = B0^2 + W(r) - W(a) applies the edge condition afterwards (exact,
since W enters linearly).

Independent checks (tests): a uniform current with no pressure gives
B_z^2 = B0^2 + mu0^2 j0^2 (a^2 - r^2) / 2 and q = 2 B_z / (mu0 j0 R0),
flat up to (B_theta / B_z)^2; the parabolic current nu = 1 gives the
closed-form q(r) = 2 B_z(r) / (mu0 j0 R0 (1 - r^2 / (2 a^2))).

References: J. P. Freidberg, *Ideal MHD* (Cambridge, 2014), ch. 5;
J. Wesson, *Tokamaks*, 4th ed. (Oxford, 2011), sec. 3.5.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp

from .base import Parameter, Problem, check_positive_float, check_positive_int

__all__ = ["Pinch", "solve_screw_pinch", "MU0"]

MU0 = 4.0e-7 * math.pi  # vacuum permeability, H/m (pre-2019 exact value; 1e-10 relative from CODATA)


def solve_screw_pinch(r, R0, a, B0, Ip, current_peaking, p0, pressure_peaking,
                      rtol=1e-10, atol=1e-14):
    """q(r) of the screw pinch above; r in m (0 <= r <= a), Ip in A, p0 in Pa."""
    r = np.asarray(r, dtype=np.float64)
    nu, alpha = current_peaking, pressure_peaking
    j0 = (nu + 1.0) * Ip / (math.pi * a**2)

    def j(s):
        return j0 * max(1.0 - (s / a) ** 2, 0.0) ** nu

    def dp_dr(s):
        # p0 (1 - s^2/a^2)^alpha differentiated; alpha >= 1 keeps it finite at the edge.
        return -2.0 * alpha * p0 * s / a**2 * max(1.0 - (s / a) ** 2, 0.0) ** (alpha - 1.0)

    def rhs(s, y):
        current, _ = y
        B_theta = MU0 * current / (2.0 * math.pi * s) if s > 0.0 else 0.0
        return [2.0 * math.pi * s * j(s), -2.0 * MU0 * (dp_dr(s) + j(s) * B_theta)]

    s_eval = np.union1d(r, [a])  # also the edge, for the boundary condition
    sol = solve_ivp(rhs, (0.0, a), [0.0, 0.0], method="DOP853", t_eval=s_eval,
                    rtol=rtol, atol=atol)
    if not sol.success:
        raise RuntimeError(f"pinch: integration failed: {sol.message}")
    current = np.interp(r, sol.t, sol.y[0])
    W = np.interp(r, sol.t, sol.y[1])  # r is a subset of s_eval: no interpolation error
    Bz2 = B0**2 + W - sol.y[1, -1]
    if np.any(Bz2 <= 0.0):
        raise RuntimeError("pinch: B_z^2 <= 0, no equilibrium (pressure too high)")
    Bz = np.sqrt(Bz2)
    q = np.empty_like(r)
    axis = r == 0.0
    # q = r Bz / (R0 B_theta) = 2 pi r^2 Bz / (mu0 R0 I); on axis I ~ pi j(0) r^2.
    q[axis] = 2.0 * Bz[axis] / (MU0 * R0 * j0)
    q[~axis] = 2.0 * math.pi * r[~axis] ** 2 * Bz[~axis] / (MU0 * R0 * current[~axis])
    return q


class Pinch(Problem):
    """Screw pinch: safety-factor profile q(r) from current and pressure profiles."""

    name = "pinch"
    description = ("Cylindrical screw-pinch equilibrium (large-aspect-ratio tokamak): "
                   "q(r) from j = j0 (1 - r^2)^nu and p = p0 (1 - r^2)^alpha.")
    parameters = (
        Parameter("Ip", 1.0, 2.0, "MA", "total toroidal plasma current"),
        Parameter("B0", 3.0, 5.0, "T", "vacuum toroidal field at the plasma edge"),
        Parameter("current_peaking", 0.5, 2.0, "", "exponent nu of the current profile"),
        Parameter("p0", 0.0, 200.0, "kPa", "plasma pressure on axis"),
        Parameter("pressure_peaking", 1.0, 3.0, "", "exponent alpha of the pressure profile"),
    )
    grid_name = "r"
    grid_unit = "m"
    output_name = "q"
    output_unit = ""

    def __init__(self, n_grid=64, R0=3.0, a=1.0, rtol=1e-10):
        n_grid = check_positive_int("n_grid", n_grid, 2)
        self.R0 = check_positive_float("R0", R0)
        self.a = check_positive_float("a", a)
        if self.a >= self.R0:
            raise ValueError(f"minor radius `a` = {a!r} must be below the major radius R0 = {R0!r}")
        self.rtol = check_positive_float("rtol", rtol)
        self.grid = np.linspace(0.0, self.a, n_grid)
        self.settings = {"n_grid": n_grid, "R0": self.R0, "a": self.a, "rtol": self.rtol}

    def _solve(self, params):
        Ip, B0, nu, p0, alpha = params
        return solve_screw_pinch(self.grid, self.R0, self.a, B0, Ip * 1e6, nu,
                                 p0 * 1e3, alpha, rtol=self.rtol)
