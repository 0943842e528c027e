r"""Steady heat conduction along a slab with Spitzer-like conductivity.

A field line from the upstream region (x = 0) to the wall (x = L) of a
plasma edge, in the spirit of the two-point model of the scrape-off layer:

.. math::

    -\frac{d}{dx}\left(\kappa_0 T^{5/2} \frac{dT}{dx}\right) = S(x),
    \qquad S(x) = S_0 \exp\!\left(-\frac{(x - x_0)^2}{2 w^2}\right),

    -\kappa_0 T^{5/2} T'(0) = q_{in}, \qquad T(L) = T_{edge}.

``q_in`` is the heat flux entering from upstream, ``S`` a Gaussian heat
source (amplitude S0, centre x0, width w), ``T_edge`` the temperature at
the wall (sheath entrance).  The conductive heat flux is
``q(x) = -kappa0 T^(5/2) T'``.

Units (dimensionless): x in units of L; T in units of a reference
temperature T_ref; q in units of kappa0 T_ref^(7/2) / L; S in units of
kappa0 T_ref^(7/2) / L^2; so kappa0 = 1.  The exponent 5/2 is the Spitzer
parallel electron conductivity, kappa_par ~ T^(5/2).

Solver: vertex-centred finite volumes on ``n_cells`` cells, face
conductivity the Kirchhoff mean of kappa between the two nodes, the Gaussian
source integrated exactly over each control volume (erf), and a damped
Newton iteration with a tridiagonal Jacobian (``scipy.linalg.solve_banded``).
Second order in h = L / n_cells.

Independent check (tests): the Kirchhoff transform u = T^(7/2) makes the
equation linear, -(2/7) kappa0 u'' = S, so u is known in closed form
(integrals of erf); with exponent 0 and a uniform source T is a parabola;
without source T^(7/2) is linear in x (the two-point model).

References: L. Spitzer and R. Harm, Phys. Rev. 89, 977 (1953);
P. C. Stangeby, *The Plasma Boundary of Magnetic Fusion Devices* (IOP, 2000),
ch. 4-5 (two-point model).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erf

from ._newton import damped_newton
from .base import Parameter, Problem, check_positive_float, check_positive_int

__all__ = ["Heat", "solve_slab", "gaussian_cell_source"]


def gaussian_cell_source(faces, amplitude, centre, width):
    """Exact integral of S0 exp(-(x-x0)^2 / (2 w^2)) between consecutive faces."""
    cumulative = amplitude * width * math.sqrt(math.pi / 2.0) * erf(
        (np.asarray(faces) - centre) / (math.sqrt(2.0) * width)
    )
    return np.diff(cumulative)


def solve_slab(n_cells, cell_source, q_in, T_edge, kappa0=1.0, exponent=2.5,
               rtol=1e-12, max_iter=60):
    """Solve -(kappa0 T^e T')' = S on [0, 1]; flux q_in at 0, T(1) = T_edge.

    ``cell_source[i]`` is the integral of S over the control volume of node i
    (node 0 owns the half cell [0, h/2]).  Returns T at the nodes
    x_i = i / n_cells, i = 0..n_cells (the last one is T_edge).
    Raises RuntimeError if Newton does not converge.
    """
    h = 1.0 / n_cells
    e = float(exponent)
    S = np.asarray(cell_source, dtype=np.float64)
    if S.shape != (n_cells,):
        raise ValueError(f"cell_source must have shape ({n_cells},), got {S.shape}")

    def residual_and_jacobian(T_inner):
        T = np.append(T_inner, T_edge)
        # Face flux with the Kirchhoff mean of kappa over [T_i, T_i+1]:
        # k_face = kappa0 (T_i+1^(e+1) - T_i^(e+1)) / ((e+1) (T_i+1 - T_i)),
        # the exact flux through a source-free face.  The arithmetic mean
        # of kappa loses accuracy next to a cold wall, where T^(7/2) is
        # linear but T itself is steep.
        G = kappa0 * T ** (e + 1.0) / (e + 1.0)
        F = -(G[1:] - G[:-1]) / h  # conductive flux through face i+1/2
        dGdT = kappa0 * T**e
        dF_left = dGdT[:-1] / h
        dF_right = -dGdT[1:] / h
        # Control volume i: flux out (face i+1/2) - flux in (face i-1/2) = source.
        R = F.copy()
        R[0] -= q_in
        R[1:] -= F[:-1]
        R -= S
        ab = np.zeros((3, n_cells))
        ab[1] = dF_left
        ab[1, 1:] -= dF_right[:-1]
        ab[0, 1:] = dF_right[:-1]   # dR_i / dT_{i+1}
        ab[2, :-1] = -dF_left[:-1]  # dR_{i+1} / dT_i
        return R, ab

    # Initial guess: the exact solution for the total flux leaving at x = L
    # put in at x = 0 (Kirchhoff, no source).  Only a starting point: the
    # converged answer is that of the finite-volume equations.
    Q = q_in + S.sum()
    x = np.arange(n_cells) * h
    T = (T_edge ** (e + 1.0) + (e + 1.0) / kappa0 * Q * (1.0 - x)) ** (1.0 / (e + 1.0))

    T = damped_newton(residual_and_jacobian, T, (1, 1), rtol=rtol, max_iter=max_iter,
                      accept_below=1e-3, give_up_below=1e-10, name="heat")
    return np.append(T, T_edge)


class Heat(Problem):
    """Spitzer-conductivity slab: temperature profile T(x) of a plasma edge."""

    name = "heat"
    description = ("Steady conduction -(kappa0 T^(5/2) T')' = S along a plasma-edge "
                   "slab: upstream flux, Gaussian source, fixed wall temperature.")
    parameters = (
        Parameter("q_in", 0.1, 1.0, "kappa0 T_ref^(7/2)/L",
                  "heat flux entering the slab upstream at x = 0"),
        Parameter("source_amplitude", 0.0, 2.0, "kappa0 T_ref^(7/2)/L^2",
                  "peak of the Gaussian heat source S0"),
        Parameter("source_centre", 0.2, 0.8, "L", "position x0 of the source peak"),
        Parameter("source_width", 0.05, 0.2, "L", "Gaussian width w of the source"),
        Parameter("T_edge", 0.1, 0.5, "T_ref", "temperature at the wall x = L"),
    )
    grid_name = "x"
    grid_unit = "L"
    output_name = "T"
    output_unit = "T_ref"

    def __init__(self, n_grid=65, n_cells=512, exponent=2.5, kappa0=1.0, rtol=1e-12):
        n_grid = check_positive_int("n_grid", n_grid, 2)
        n_cells = check_positive_int("n_cells", n_cells, 2)
        if n_cells % (n_grid - 1):
            raise ValueError(f"`n_cells` must be a multiple of n_grid - 1 = {n_grid - 1} "
                             f"so the output grid lies on solver nodes, got {n_cells}")
        self.exponent = float(exponent)
        if not (math.isfinite(self.exponent) and self.exponent >= 0):
            raise ValueError(f"`exponent` must be >= 0, got {exponent!r}")
        self.kappa0 = check_positive_float("kappa0", kappa0)
        self.rtol = check_positive_float("rtol", rtol)
        self.n_cells = n_cells
        self.grid = np.linspace(0.0, 1.0, n_grid)
        self._stride = n_cells // (n_grid - 1)
        self.settings = {"n_grid": n_grid, "n_cells": n_cells, "exponent": self.exponent,
                         "kappa0": self.kappa0, "rtol": self.rtol}

    def _solve(self, params):
        q_in, amplitude, centre, width, T_edge = params
        h = 1.0 / self.n_cells
        faces = np.concatenate(([0.0], (np.arange(self.n_cells) + 0.5) * h))
        S = gaussian_cell_source(faces, amplitude, centre, width)
        T = solve_slab(self.n_cells, S, q_in, T_edge, self.kappa0, self.exponent, self.rtol)
        return T[:: self._stride]
