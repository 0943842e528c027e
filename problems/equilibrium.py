r"""Tokamak plasma equilibrium: the fixed-boundary Grad-Shafranov equation on a shaped boundary.

An axisymmetric plasma in force balance, grad p = j x B, with
B = grad psi x grad phi + F grad phi (cylindrical R, phi, Z), has a
poloidal flux psi(R, Z) [Wb/rad] obeying the Grad-Shafranov equation

.. math::

    \Delta^* \psi \equiv R\,\partial_R\!\Bigl(\frac{1}{R}\,\partial_R\psi\Bigr)
      + \partial_Z^2\psi = -\mu_0 R\, j_\phi
      = -\mu_0 R^2 p'(\psi) - F F'(\psi),

with p(psi) the pressure [Pa] and F = R B_phi [T m].  Fixed boundary: psi = 0
on a prescribed plasma boundary, the Miller (D-shaped) curve rho = 1 of

.. math::

    R = R_0 + a\rho\cos\bigl(\theta + \arcsin(\delta)\,\sin\theta\bigr), \qquad
    Z = \kappa a \rho \sin\theta,

(elongation kappa, triangularity delta: the top of the boundary sits at
R = R0 - delta a).  Current profile (Jeon 2015, the FreeGS default family):

.. math::

    j_\phi = \lambda \Bigl(\beta_0 \frac{R}{R_0} + (1 - \beta_0)\frac{R_0}{R}\Bigr)
             \bigl(1 - \psi_N^{\alpha_m}\bigr)^{\alpha_n}, \qquad
    \psi_N = \frac{\psi - \psi_{axis}}{\psi_{boundary} - \psi_{axis}}, \qquad
    \int j_\phi\, dR\, dZ = I_p,

i.e. p' = lambda beta0 / R0 (1 - psi_N^alpha_m)^alpha_n and
FF' = mu0 lambda (1 - beta0) R0 (1 - psi_N^alpha_m)^alpha_n: beta0 is the share of
the current at R = R0 carried by the pressure gradient (the R j_phi term) and
1 - beta0 the diamagnetic / paramagnetic share (the F F' / R term); lambda
[A/m^2] is fixed by the plasma current.  psi_axis is the maximum of psi (the
magnetic axis), psi_boundary = 0.  alpha_m = 1.

Fixed machine: R0 = 3 m, I_p = 2 MA.  The output does not depend on them:
at fixed shape, psi scales as mu0 I_p R0 and lengths as R0, and psi_N is
scale-free.  B0 (the vacuum toroidal field, F = R0 B0 at the boundary) does
not enter either: the profile fixes F F', not F.

Output: psi_N on the midplane Z = 0 at 65 points of s = (R - R0) / a in
[-1, 1], from the inner boundary (s = -1, psi_N = 1) through the magnetic
axis (psi_N = 0) to the outer boundary (s = 1).  Why this: it is what a
physicist reads an equilibrium by (the flux-surface spacing, i.e. where
each surface crosses the midplane, which maps kinetic profiles measured on
the midplane to psi_N), it shows the Shafranov shift of the axis, and it
is smooth and bounded in [0, 1] for every point of the box, so a surrogate
can learn it.  (j_phi on the midplane would mostly restate the prescribed
profile.)  The midplane is the rays theta = 0, pi of the mesh, so the
nodes lie on the output grid when 2 n_rho is a multiple of 64 (the
default); otherwise a cubic spline through the midplane nodes (4th order,
below the discretisation error), with psi_N = 1 exactly at s = +-1.

Units: s and psi_N dimensionless; psi in Wb/rad, j_phi in A/m^2, R, Z in m.

The box (a/R0, kappa, delta, beta0, alpha_n):

* ``epsilon`` = a / R0 in [0.25, 0.5]: conventional tokamaks (JET 0.33,
  ITER 0.32, DIII-D 0.36, ASDEX Upgrade 0.31) to the compact end; the
  toroidal effects (1/R in Delta*, the R-dependence of j_phi) grow with it.
* ``kappa`` in [1, 2]: circular to the elongation of ITER (1.7-1.85) and
  beyond; above ~2 a real plasma is vertically unstable (a free-boundary
  question; with the boundary prescribed it is only a harder shape).
* ``delta`` in [0, 0.5]: up to ITER/DIII-D triangularities (0.33-0.5);
  arcsin(delta) keeps the map one-to-one for delta < 1.
* ``beta0`` in [0, 1]: the two ends of the profile family, force-free
  (p' = 0) to F constant (FF' = 0, j_phi ~ R); inside, j_phi > 0 everywhere,
  and beta0 sets beta_p and so the Shafranov shift (axis at s = -0.08 to 0.34
  over the box's corners; delta > 0 moves it inboard).
* ``alpha_n`` in [1, 3]: broad (j_phi ~ 1 - psi_N) to peaked current,
  i.e. low to high internal inductance (FreeGS's default is 2).

Solver: P1 finite elements on a structured triangulation of the mapped
polar grid rho_i = i / n_rho, theta_j = 2 pi j / n_theta, with one centre
node and a fan of triangles around it.  The operator is R div(R^-1 grad psi),
so the weak form is

.. math::

    \int R^{-1}\,\nabla\psi\cdot\nabla v\; dR\,dZ = \int \mu_0\, j_\phi\, v\; dR\,dZ ,

symmetric positive definite; R^-1 and the load by the edge-midpoint rule
(exact for quadratics; second order like P1).  The stiffness matrix does
not depend on psi, so it is factorised once per solve (scipy splu, COLAMD)
and the nonlinearity is a Picard iteration on the right-hand side:
psi_N from the last psi (the axis is the maximum of psi on the midplane,
a parabola through the top node and its neighbours: the boundary is
up-down symmetric, so the axis lies at Z = 0), j_phi from the profile,
lambda renormalised to I_p, one back-substitution.  It stops when the
largest change of psi is below tol = 1e-8 of psi_axis; it converged in
16-117 iterations over the box (contraction ~0.35 for broad currents, ~0.85
for peaked, elongated ones; the remaining iteration error is < 1e-7 in
psi_N), with no under-relaxation needed (``relax`` < 1 is available).

Default resolution and stated accuracy: n_rho = 128, n_theta = 256
(33 000 nodes).  Stated accuracy: max |psi_N - psi_N,exact| <= 1e-3 over
the output grid, which places every flux surface on the midplane to better
than 1e-3 a / (dpsi_N/ds) ~ 1 mm at the edge and the magnetic axis to
< 1 mm (a <= 1.5 m).  Convergence study, max |psi_N - psi_N,ref| against
n_rho = 256, n_theta = 512 (second order, error ~ 4x per doubling):

=====================================  =========  =========  =========
point (epsilon, kappa, delta, beta0,   n_rho 32   n_rho 64   n_rho 128
alpha_n)                                                     (default)
=====================================  =========  =========  =========
mid-box (0.375, 1.5, 0.25, 0.5, 2)     1.9e-3     5.3e-4     1.2e-4
hardest (0.5, 2, 0.5, 1, 3)            8.7e-3     2.2e-3     4.7e-4
(0.5, 2, 0, 1, 3)                      7.2e-3     1.9e-3     4.0e-4
(0.5, 1, 0, 1, 3)                      4.1e-3     1.0e-3     2.1e-4
(0.25, 2, 0, 0, 3)                     2.8e-3     8.3e-4     2.0e-4
(0.5, 2, 0.5, 0, 1)                    1.1e-3     3.2e-4     7.7e-5
(0.25, 1, 0, 0, 1)                     5.6e-4     1.6e-4     3.9e-5
=====================================  =========  =========  =========

So n_rho = 64 misses 1e-3 at the elongated, peaked, pressure-driven
corners (its axis is off by 1.3e-3 a ~ 2 mm there, the default's by
2.5e-4 a ~ 0.4 mm), n_rho = 96 (9.3e-4 at the hardest corner) would sit on
the bound, and 128 meets it with a margin of 2 (4.7e-4; ~6e-4 counting the
reference's own error, a quarter of the default's).  The theta and rho
errors are comparable: at the hardest corner, doubling n_theta alone leaves
1.8e-4 and doubling n_rho alone 2.9e-4, each at 4-5x the cost; the largest
error sits near the centre node, where the fan's triangles are thin.

Cost: one solve takes 0.86-3.4 s of one core at the default resolution
(median 1.5 s; mid-box 1.5 s; measured at the centre and all 32 corners of
the box on a loaded 2-core machine): ~0.5 s to assemble and factorise, then
~25 ms per Picard iteration, so the cost follows the iteration count (most
for peaked, elongated, pressure-driven plasmas).  A 2x finer mesh costs
~4-5x more.  ``quick`` (n_rho 16, n_theta 32) keeps the output grid and
costs 10-50 ms, psi_N within ~3e-2.

Independent checks (tests): (1) the Solov'ev solution (p', FF' constant;
psi = A R^4 / 8 + B Z^2 / 2 + C R^2 + D) with its own Dirichlet data on the
most shaped boundary of the box: observed order 2.00 on n_rho = 16, 32, 64,
nodal error 1.1e-4 of the range of psi on the default mesh; (2) Ampere's
law, -(1/mu0) contour integral of R^-1 dpsi/dn over the boundary = I_p,
evaluated from the nodal psi with one-sided differences and the map's
metric written out independently in the tests (not from the load vector):
relative error 7.2e-3, 1.8e-3, 4.5e-4, 1.1e-4 at n_rho = 16, 32, 64, 128
at the hardest corner (second order); (3) the convergence of the default
mesh above, and the next coarser one missing it; dropping the 1/R of the
weak form fails (1) and (2).  Also: nested surfaces, up-down symmetry, and
the Shafranov shift growing with beta0, a / R0 and current peaking.

References: H. Grad and H. Rubin, Proc. 2nd UN Conf. Peaceful Uses of
Atomic Energy 31, 190 (1958); V. D. Shafranov, Rev. Plasma Phys. 2, 103
(1966); L. S. Solov'ev, Sov. Phys. JETP 26, 400 (1968); R. L. Miller,
M. S. Chu, J. M. Greene, Y. R. Lin-Liu and R. E. Waltz, Phys. Plasmas 5,
973 (1998); Y. M. Jeon, J. Korean Phys. Soc. 67, 843 (2015) and B. Dudson,
FreeGS (github.com/freegs-plasma/freegs); J. Wesson, *Tokamaks*, 4th ed.
(Oxford, 2011), ch. 3; J. P. Goedbloed and S. Poedts, *Principles of
Magnetohydrodynamics* (Cambridge, 2004), ch. 16.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from scipy.interpolate import CubicSpline
from scipy.sparse.linalg import splu

from .base import Parameter, Problem, check_positive_float, check_positive_int

__all__ = ["TokamakEquilibrium", "PolarMesh", "stiffness", "GradShafranov", "MU0"]

MU0 = 4e-7 * math.pi  # vacuum permeability [H/m] (the pre-2019 exact value; CODATA 2018 differs by 5e-10 relative)


class PolarMesh:
    """Structured triangulation of a Miller (D-shaped) cross-section.

    Nodes at (rho_i, theta_j), rho_i = i / n_rho (i = 1..n_rho), theta_j =
    2 pi j / n_theta, plus one centre node (index 0), mapped by

        R = R0 + a rho cos(theta + arcsin(delta) sin theta),   Z = kappa a rho sin theta.

    Node (i, j) has index 1 + (i - 1) n_theta + j.  The centre is joined to
    the first ring by a fan of triangles; each cell between rings i and i+1
    is cut along the same diagonal into two.  The midplane Z = 0 is the rays
    theta = 0 (outboard, R = R0 + a rho) and theta = pi (inboard, R = R0 - a rho)
    when n_theta is even: ``midplane`` lists those nodes from the inner
    boundary to the outer one, at s = (R - R0) / a = -1, ..., 1 in steps 1 / n_rho.
    """

    def __init__(self, n_rho, n_theta, R0, a, kappa, delta):
        n_rho = check_positive_int("n_rho", n_rho, 2)
        n_theta = check_positive_int("n_theta", n_theta, 8)
        if n_theta % 2:
            raise ValueError(f"`n_theta` must be even (the midplane rays theta = 0, pi are mesh lines), "
                             f"got {n_theta}")
        if not (0.0 <= delta < 1.0):
            raise ValueError(f"`delta` (triangularity) must be in [0, 1), got {delta!r}")
        if not (0.0 < a < R0):
            raise ValueError(f"the minor radius `a` must be in (0, R0 = {R0!r}) m, got {a!r}")
        if not (kappa > 0.0):
            raise ValueError(f"`kappa` (elongation) must be positive, got {kappa!r}")
        self.n_rho, self.n_theta = n_rho, n_theta
        self.R0, self.a, self.kappa, self.delta = float(R0), float(a), float(kappa), float(delta)
        rho = np.arange(1, n_rho + 1) / n_rho
        theta = 2.0 * math.pi * np.arange(n_theta) / n_theta
        self.rho, self.theta = rho, theta
        R, Z = self.map(rho[:, None], theta[None, :])
        self.R = np.concatenate(([R0], R.ravel()))
        self.Z = np.concatenate(([0.0], Z.ravel()))
        self.n_nodes = self.R.size

        def node(i, j):  # i = 1..n_rho, j taken modulo n_theta
            return 1 + (i - 1) * n_theta + (j % n_theta)

        j = np.arange(n_theta)
        fan = np.stack([np.zeros(n_theta, dtype=np.int64), node(1, j), node(1, j + 1)], axis=1)
        i, jj = np.meshgrid(np.arange(1, n_rho), j, indexing="ij")
        i, jj = i.ravel(), jj.ravel()
        a_, b_, c_, d_ = node(i, jj), node(i + 1, jj), node(i + 1, jj + 1), node(i, jj + 1)
        self.triangles = np.concatenate([fan, np.stack([a_, b_, c_], 1), np.stack([a_, c_, d_], 1)])
        x, y = self.R[self.triangles], self.Z[self.triangles]
        self.area = 0.5 * ((x[:, 1] - x[:, 0]) * (y[:, 2] - y[:, 0]) - (x[:, 2] - x[:, 0]) * (y[:, 1] - y[:, 0]))
        if not np.all(self.area > 0):
            raise ValueError(f"the mesh folds over (kappa={kappa!r}, delta={delta!r}): "
                             "the Miller map is not one-to-one at this resolution")
        self.boundary = np.zeros(self.n_nodes, dtype=bool)
        self.boundary[node(n_rho, j)] = True
        self.interior = np.flatnonzero(~self.boundary)
        inboard = node(np.arange(n_rho, 0, -1), n_theta // 2)
        outboard = node(np.arange(1, n_rho + 1), 0)
        self.midplane = np.concatenate([inboard, [0], outboard])
        self.s = (self.R[self.midplane] - self.R0) / self.a

    def map(self, rho, theta):
        """(R, Z) of the Miller map at (rho, theta)."""
        R = self.R0 + self.a * rho * np.cos(theta + math.asin(self.delta) * np.sin(theta))
        Z = self.kappa * self.a * rho * np.sin(theta)
        return R, Z

    def quadrature(self):
        """Edge-midpoint rule (exact for quadratics): points' R, weights, interpolation matrix.

        Returns (R_q, Z_q, w_q, P) with P (sparse, n_q x n_nodes) giving a P1
        field's values at the points; P.T @ (w_q f_q) is the load vector
        int f phi_i dR dZ of the rule.
        """
        t = self.triangles
        pairs = ((0, 1), (1, 2), (2, 0))
        rows = np.arange(3 * t.shape[0]).reshape(3, -1)
        cols = [np.concatenate([t[:, p] for p, _ in pairs]), np.concatenate([t[:, q] for _, q in pairs])]
        R_q = 0.5 * (self.R[cols[0]] + self.R[cols[1]])
        Z_q = 0.5 * (self.Z[cols[0]] + self.Z[cols[1]])
        w_q = np.tile(self.area / 3.0, 3)
        n_q = R_q.size
        P = sp.csr_matrix((np.full(2 * n_q, 0.5), (np.concatenate([rows.ravel(), rows.ravel()]),
                                                   np.concatenate(cols))), shape=(n_q, self.n_nodes))
        return R_q, Z_q, w_q, P


def stiffness(mesh, weight=True):
    """P1 stiffness matrix of the Grad-Shafranov operator, K_kl = int R^-1 grad phi_k . grad phi_l dR dZ.

    Minus R times the divergence of R^-1 grad psi is -Delta* psi, so K psi = load is
    the weak form of Delta* psi = -mu0 R j_phi.  int_e R^-1 dR dZ by the
    edge-midpoint rule (second order, as P1).  ``weight=False`` drops the
    1/R (the plain Laplacian; for the tests' planted bug only).
    """
    t = mesh.triangles
    x, y = mesh.R[t], mesh.Z[t]
    # grad phi_k = (b_k, c_k) / (2 A): b_k = y_{k+1} - y_{k+2}, c_k = x_{k+2} - x_{k+1}.
    b = np.stack([y[:, 1] - y[:, 2], y[:, 2] - y[:, 0], y[:, 0] - y[:, 1]], axis=1)
    c = np.stack([x[:, 2] - x[:, 1], x[:, 0] - x[:, 2], x[:, 1] - x[:, 0]], axis=1)
    if weight:
        inv_r = (1.0 / (0.5 * (x[:, 0] + x[:, 1])) + 1.0 / (0.5 * (x[:, 1] + x[:, 2]))
                 + 1.0 / (0.5 * (x[:, 2] + x[:, 0]))) / 3.0
    else:
        inv_r = np.full(t.shape[0], 1.0 / mesh.R0)
    scale = inv_r / (4.0 * mesh.area)
    local = scale[:, None, None] * (b[:, :, None] * b[:, None, :] + c[:, :, None] * c[:, None, :])
    rows = np.repeat(t, 3, axis=1).ravel()
    cols = np.tile(t, (1, 3)).ravel()
    return sp.csc_matrix((local.ravel(), (rows, cols)), shape=(mesh.n_nodes, mesh.n_nodes))


class GradShafranov:
    """Fixed-boundary Grad-Shafranov solver on one `PolarMesh`: K factorised once.

    ``solve_linear(source_q, boundary_values)`` solves Delta* psi = -mu0 R j
    for a given toroidal current density j_phi at the quadrature points [A/m^2]
    and Dirichlet values on the boundary nodes.  ``picard`` solves the
    nonlinear problem with the Jeon (FreeGS) current profile.
    """

    def __init__(self, mesh, weight=True):
        self.mesh = mesh
        self.K = stiffness(mesh, weight=weight).tocsr()
        self.R_q, self.Z_q, self.w_q, self.P = mesh.quadrature()
        self.PT = self.P.T.tocsr()
        inner = mesh.interior
        self.K_II = self.K[inner][:, inner].tocsc()
        self.K_IB = self.K[inner][:, mesh.boundary]
        self.lu = splu(self.K_II, permc_spec="COLAMD")

    def solve_linear(self, j_q, boundary_values=0.0):
        """Nodal psi [Wb/rad] for the current density j_q [A/m^2] at the quadrature points."""
        mesh = self.mesh
        load = MU0 * (self.PT @ (self.w_q * j_q))
        psi = np.empty(mesh.n_nodes)
        psi[mesh.boundary] = boundary_values
        rhs = load[mesh.interior] - self.K_IB @ psi[mesh.boundary]
        psi[mesh.interior] = self.lu.solve(rhs)
        return psi

    def axis(self, psi):
        """(s_axis, psi_axis): the maximum of psi along the midplane, by a parabola through the top node.

        The boundary is up-down symmetric, so the magnetic axis lies on Z = 0.
        """
        line = psi[self.mesh.midplane]
        k = int(np.clip(np.argmax(line), 1, line.size - 2))
        y0, y1, y2 = line[k - 1], line[k], line[k + 1]
        curv = y0 - 2.0 * y1 + y2
        shift = 0.5 * (y0 - y2) / curv if curv < 0 else 0.0
        shift = min(max(shift, -1.0), 1.0)
        h = self.mesh.s[1] - self.mesh.s[0]
        return self.mesh.s[k] + shift * h, y1 - 0.25 * (y0 - y2) * shift

    def picard(self, I_p, beta0, alpha_m, alpha_n, tol=1e-10, max_iter=500, relax=1.0):
        """Nonlinear solve: j_phi = lambda (beta0 R/R0 + (1-beta0) R0/R) (1 - psi_N^alpha_m)^alpha_n.

        lambda is set each iteration so that int j_phi dR dZ = I_p [A].  psi = 0
        on the boundary.  Stops when the largest change of psi over an
        iteration is below tol (psi_axis - psi_boundary).  Returns (psi, info).
        """
        R0 = self.mesh.R0
        Rq = self.R_q
        radial = beta0 * Rq / R0 + (1.0 - beta0) * R0 / Rq
        # Start: the current of a parabolic psi_N = rho^2 on the grid.
        rho2 = np.concatenate(([0.0], np.repeat(self.mesh.rho ** 2, self.mesh.n_theta)))
        psi_n_q = self.P @ rho2
        psi = None
        history = []
        for iteration in range(1, max_iter + 1):
            shape = radial * (1.0 - np.clip(psi_n_q, 0.0, 1.0) ** alpha_m) ** alpha_n
            lam = I_p / float(np.dot(self.w_q, shape))
            new = self.solve_linear(lam * shape)
            if psi is None:
                psi = new
                change = math.inf
            else:
                step = new - psi
                psi = psi + relax * step
                change = float(np.max(np.abs(step)))
            _, psi_axis = self.axis(psi)
            change /= psi_axis
            history.append(change)
            if change < tol:
                break
            psi_n_q = 1.0 - (self.P @ psi) / psi_axis
        else:
            raise RuntimeError(f"Picard iteration did not converge in {max_iter} iterations "
                               f"(last relative change {history[-1]:.2e}, beta0={beta0}, alpha_n={alpha_n})")
        return psi, {"iterations": iteration, "history": history, "lambda": lam, "psi_axis": psi_axis}


class TokamakEquilibrium(Problem):
    """Fixed-boundary Grad-Shafranov equilibrium of a shaped tokamak: psi_N along the midplane."""

    name = "equilibrium"
    description = ("Fixed-boundary Grad-Shafranov equilibrium of a tokamak with a Miller "
                   "(elongated, triangular) boundary and a FreeGS/Jeon current profile at fixed I_p; "
                   "output the normalised poloidal flux psi_N along the midplane from the inner "
                   "to the outer boundary (Shafranov shift, profile peaking).")
    parameters = (
        Parameter("epsilon", 0.25, 0.5, "1", "inverse aspect ratio a / R0 of the plasma boundary"),
        Parameter("kappa", 1.0, 2.0, "1", "elongation of the boundary: height / width"),
        Parameter("delta", 0.0, 0.5, "1", "triangularity of the boundary (D shape)"),
        Parameter("beta0", 0.0, 1.0, "1", "share of the current driven by the pressure gradient "
                  "at R = R0 (0: force-free, 1: F constant)"),
        Parameter("alpha_n", 1.0, 3.0, "1", "current peaking exponent: j_phi ~ (1 - psi_N)^alpha_n"),
    )
    grid_name = "s"
    grid_unit = "1"
    output_name = "psi_N"
    output_unit = "1"

    #: Fixed machine: major radius [m] and plasma current [A].  psi_N does not
    #: depend on them (psi scales with mu0 I_p R0, lengths with R0).
    R0, I_p = 3.0, 2.0e6
    #: Fixed shape of the current profile's flux dependence (FreeGS default).
    alpha_m = 1.0

    #: Coarse solver for smoke tests: same output grid, ~0.05-0.2 s a solve, psi_N to ~1e-2.
    quick = {"n_rho": 16, "n_theta": 32}

    def __init__(self, n_rho=128, n_theta=256, n_out=65, tol=1e-8, max_iter=1000, relax=1.0):
        self.n_rho = check_positive_int("n_rho", n_rho, 4)
        self.n_theta = check_positive_int("n_theta", n_theta, 8)
        if self.n_theta % 2:
            raise ValueError(f"`n_theta` must be even (the midplane rays are mesh lines), got {n_theta!r}")
        n_out = check_positive_int("n_out", n_out, 3)
        self.tol = check_positive_float("tol", tol)
        if self.tol >= 1e-2:
            raise ValueError(f"`tol` must be below 1e-2 (a relative change of psi), got {tol!r}")
        self.max_iter = check_positive_int("max_iter", max_iter, 2)
        self.relax = check_positive_float("relax", relax)
        if self.relax > 1.0:
            raise ValueError(f"`relax` (under-relaxation of the Picard step) must be in (0, 1], got {relax!r}")
        self.grid = np.linspace(-1.0, 1.0, n_out)
        self.settings = {"n_rho": self.n_rho, "n_theta": self.n_theta, "n_out": n_out,
                         "tol": self.tol, "max_iter": self.max_iter, "relax": self.relax}

    def equilibrium(self, params, weight=True):
        """(solver, psi, info) of one solve: the `GradShafranov` solver (mesh inside) and nodal psi [Wb/rad]."""
        epsilon, kappa, delta, beta0, alpha_n = (float(p) for p in params)
        mesh = PolarMesh(self.n_rho, self.n_theta, self.R0, epsilon * self.R0, kappa, delta)
        solver = GradShafranov(mesh, weight=weight)
        psi, info = solver.picard(self.I_p, beta0, self.alpha_m, alpha_n, tol=self.tol,
                                  max_iter=self.max_iter, relax=self.relax)
        info["s_axis"], info["psi_axis"] = solver.axis(psi)
        return solver, psi, info

    def midplane_psi_n(self, solver, psi, psi_axis):
        """psi_N = 1 - psi / psi_axis on the output grid.

        The midplane nodes themselves when the grid is every k-th of them
        (2 n_rho a multiple of n_out - 1, the default), else a cubic spline
        through them.  The ends are psi_N = 1 exactly (psi = 0 on the
        boundary): a spline would leave them an ulp off, and a point that
        varies by an ulp over the box is not a boundary condition any more.
        """
        mesh = solver.mesh
        line = 1.0 - psi[mesh.midplane] / psi_axis
        stride, rest = divmod(mesh.s.size - 1, self.grid.size - 1)
        if rest == 0:
            return line[::stride].copy()
        y = CubicSpline(mesh.s, line)(self.grid)
        y[0] = y[-1] = 1.0
        return y

    def _solve(self, params):
        solver, psi, info = self.equilibrium(params)
        return self.midplane_psi_n(solver, psi, info["psi_axis"])
