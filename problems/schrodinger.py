r"""Ground state of the 1-D Schrodinger equation in an anharmonic potential.

.. math::

    -\frac{1}{2}\psi''(x) + V(x)\,\psi(x) = E\,\psi(x), \qquad
    V(x) = \lambda x^4 + \frac{k}{2} x^2 + f x,

with psi -> 0 as |x| -> infinity.  For k < 0 the potential is a double
well (minima near x = +-sqrt(-k / (4 lambda)), barrier k^2 / (16 lambda));
``f`` tilts it, as a uniform field would.  The output is the ground-state
wavefunction psi_0(x) >= 0, normalised so that int psi_0^2 dx = 1.

Units (dimensionless, hbar = m = 1): x in units of a length l, E and V in
units of hbar^2 / (m l^2).  The barrier between the wells is at most
k^2 / (16 lambda) = 0.625 high (lambda = 0.1, k = -1).  There the ground
state lies below its top: E_0 = -0.154 against V = 0 on top and -0.625 at
the well bottoms.  A 1-D ground state is never degenerate, so psi_0 still
varies smoothly with the parameters.  Even in that deepest well the
tunnelling splitting E_1 - E_0 = 0.30 is comparable with the tilt energy
f x between the wells, so the tilt shifts the weight into the lower well
gradually (there: 1/2 of it at f = 0, 0.79 at |f| = 0.1, 0.95 at
|f| = 0.3).  It does not jump there, as it would for deeper wells whose
splitting is far below the tilt energy.

Solver: second-order finite differences on [-half_width, half_width]
with psi = 0 at the ends, giving a symmetric tridiagonal matrix whose
lowest eigenpair ``scipy.linalg.eigh_tridiagonal`` finds by bisection and
inverse iteration (LAPACK stebz/stein).  ``refine`` solver cells per output
cell; the output grid lies on solver nodes.

Independent checks (tests): the harmonic oscillator (lambda = f = 0,
k = omega^2) has psi_0 = (omega/pi)^(1/4) exp(-omega x^2 / 2) and
E_0 = omega / 2; the pure quartic oscillator -psi''/2 + x^4 psi / 2 has
E_0 = 0.5301810452... (half of 1.0603620905, the ground state of
p^2 + x^4; Hioe and Montroll 1975).

References: F. T. Hioe and E. W. Montroll, J. Math. Phys. 16, 1945
(1975); D. J. Griffiths, *Introduction to Quantum Mechanics*, ch. 2.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import eigh_tridiagonal

from .base import Parameter, Problem, check_positive_float, check_positive_int

__all__ = ["Schrodinger", "ground_state"]


def ground_state(V, h):
    """Lowest eigenpair of -psi''/2 + V psi on nodes with spacing h.

    ``V`` holds the potential at the interior nodes; psi vanishes at the
    two (implicit) boundary nodes.  Returns (E0, psi) with psi >= 0 and
    sum(psi^2) h = 1.
    """
    V = np.asarray(V, dtype=np.float64)
    diagonal = 1.0 / h**2 + V
    off_diagonal = np.full(V.size - 1, -0.5 / h**2)
    E, vectors = eigh_tridiagonal(diagonal, off_diagonal, select="i", select_range=(0, 0))
    psi = vectors[:, 0]
    # The ground state has no node: fix the arbitrary sign to make it positive.
    psi = psi * np.sign(psi.sum())
    psi /= np.sqrt(np.sum(psi**2) * h)
    return float(E[0]), psi


class Schrodinger(Problem):
    """Ground-state wavefunction of an anharmonic / double-well potential."""

    name = "schrodinger"
    description = ("Ground state psi_0(x) of -psi''/2 + (lambda x^4 + k x^2/2 + f x) psi "
                   "= E psi (hbar = m = 1): anharmonic and shallow double wells.")
    parameters = (
        Parameter("quartic", 0.1, 1.0, "hbar^2/(m l^6)", "coefficient lambda of x^4"),
        Parameter("quadratic", -1.0, 1.0, "hbar^2/(m l^4)",
                  "curvature k of the harmonic part (k < 0: double well)"),
        Parameter("tilt", -0.3, 0.3, "hbar^2/(m l^3)", "slope f of the linear term (uniform field)"),
    )
    grid_name = "x"
    grid_unit = "l"
    output_name = "psi"
    output_unit = "l^(-1/2)"

    def __init__(self, n_grid=128, half_width=4.0, refine=8, box_half_width=6.0):
        n_grid = check_positive_int("n_grid", n_grid, 2)
        self.refine = check_positive_int("refine", refine)
        self.half_width = check_positive_float("half_width", half_width)
        self.box_half_width = check_positive_float("box_half_width", box_half_width)
        # Solver nodes: spacing h = output spacing / refine, and the Dirichlet
        # walls at +-box_half_width rounded outwards to a whole number of cells.
        self.h = 2.0 * self.half_width / ((n_grid - 1) * self.refine)
        n_pad = int(np.ceil((self.box_half_width - self.half_width) / self.h))
        if n_pad < 1:
            raise ValueError(f"`box_half_width` = {box_half_width!r} must exceed "
                             f"`half_width` = {half_width!r}")
        n_inner = (n_grid - 1) * self.refine + 1
        self._x = -self.half_width + self.h * np.arange(-n_pad, n_inner + n_pad)
        self._first = n_pad
        self.grid = -self.half_width + self.h * self.refine * np.arange(n_grid)
        self.settings = {"n_grid": n_grid, "half_width": self.half_width,
                         "refine": self.refine, "box_half_width": self.box_half_width}

    def potential(self, params, x):
        quartic, quadratic, tilt = params
        return quartic * x**4 + 0.5 * quadratic * x**2 + tilt * x

    def _solve(self, params):
        _, psi = ground_state(self.potential(params, self._x), self.h)
        return psi[self._first :: self.refine][: self.grid.size]
