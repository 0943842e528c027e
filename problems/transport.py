r"""Central electron temperature of a tokamak core after an ECRH switch-on, stiff transport.

One-dimensional radial transport of the electron and ion temperatures
T_e(rho, t), T_i(rho, t) (keV) on the normalised minor radius rho = r / a,
in a large-aspect-ratio cylinder (minor radius a, major radius R0):

.. math::

    \frac{3}{2} n e \frac{\partial T_s}{\partial t}
      = \frac{1}{a^2 \rho}\frac{\partial}{\partial \rho}
        \left(\rho\, n e \chi_s \frac{\partial T_s}{\partial \rho}\right)
        + p_s(\rho, t), \qquad s = e, i,

    p_e = p_{OH} + H(t)\, p_{ECRH} - p_{ei}, \qquad p_i = p_{ei}, \qquad
    \partial_\rho T_s(0) = 0, \qquad T_s(1) = T_{edge}.

(``e`` converts keV to J.)  The experiment: an Ohmic plasma in steady state
(the initial state, solved directly by Newton) has its ECRH beam switched
on at t = 0 (H the unit step) and is followed for 0.5 s.

**Output**: the central electron temperature T_e(rho = 0, t) in keV at the
65 times t_k = 0.5 s (k / 64)^2 (``time_grid``; 0.12 ms after the switch-on
for the first sample, 7.8 ms spacing at the end).  Why this quantity: it is
what the central ECE channel records in an ECRH step or modulation
experiment, and it carries the physics of the switch-on: the initial slope
2 p_ECRH(0) / (3 n e) (deposition, power, density), the delay of the heat
pulse that has to diffuse in from an off-axis beam, the time to settle
(the incremental diffusivity chi + g dchi/dg, which stiffness raises far
above the power-balance chi, so stiff plasmas answer sooner and rise
less: "profile resilience"), and the final level.  The stored energy W(t)
would average most of this away (it is a volume integral dominated by the
pedestal); profiles at several radii would not fit one monotone grid.  Why
the stretched time grid: the rise under a narrow on-axis beam takes
milliseconds, the approach to the new steady state ~0.1 s; 0.5 s is 5-50
incremental confinement times dW/dP (0.01-0.1 s in the box) for most of
the box and ~90 % of the rise at the slowest corner (dense, weakly heated,
hot edge).

Heat diffusivity: the critical-gradient model of Garbet et al. (2004) with
gyro-Bohm scaling,

.. math::

    \chi_s = q(\rho)^{3/2}\, \chi_{GB}(T_s)
        \left[\chi_0 + \chi_{stiff}\, \sigma_\delta(R/L_{T_s} - \kappa_s)\right],
    \qquad \chi_{GB}(T) = \frac{T^{3/2} \sqrt{m_i}}{e^2 B_0^2 R_0},
    \qquad R/L_T = -\frac{R_0}{a}\frac{\partial_\rho T}{T},

where sigma_delta(x) = delta ln(1 + exp(x / delta)) is the softplus
smoothing of the ramp x H(x) (exponent alpha = 1 of Garbet's model): below
the threshold kappa_s the transport is the small residual chi_0, above it
rises with slope chi_stiff (the stiffness).  Electron-ion exchange
(Braginskii/NRL): p_ei = 3 (m_e / m_i) n e (T_e - T_i) / tau_e with
tau_e = 6 sqrt(2) pi^(3/2) eps0^2 sqrt(m_e) T_e^(3/2) / (ln Lambda e^4 n).
ECRH: Gaussian deposition p_ECRH = P S(rho) / int_0^1 S dV,
S = exp(-(rho - rho_dep)^2 / (2 w^2)), dV = 4 pi^2 R0 a^2 rho d rho.
Ohmic heating p_OH = E j with a uniform loop voltage and the current
density j ~ 1 / q(rho)^2 of the prescribed q profile (for
q = q0 + q2 rho^2, (1/rho) d(rho^2 / q)/d rho = 2 q0 / q^2), total
P_OH = 1 MW (V_loop ~ 0.7 V at the I_p = 1.4 MA of q(1) = 3.5), held fixed:
the resistive time of the current profile (~10 s) is far longer than the
window, and the ECRH power dominates.

Fixed machine (a JET-sized deuterium tokamak): R0 = 3 m, a = 1 m,
B0 = 3 T, m_i = 2.014 u, ln Lambda = 17, flat density n_e = n_i = n,
q(rho) = 1.2 + 2.3 rho^2 (q > 1: sawtooth-free), chi_0 = 0.5, kappa_e = 4
(TEM/ETG-like), kappa_i = 5 (ITG-like), delta = 0.1.

Parameters and box (the six of the steady version, unchanged; they all act
on the transient: P, rho_dep and w set the initial slope and the pulse
delay, n the heat capacity and the exchange, T_edge and chi_stiff the
Ohmic start and the response time):

* ``power`` 2-20 MW: the ECRH/NBI range of a JET-sized machine; from mostly
  below threshold to far above it.
* ``rho_dep`` 0-0.6: on-axis to mid-radius deposition; off axis the centre
  sees a delayed, diffused heat pulse.
* ``width`` 0.03-0.25: a narrow ECRH beam (~3 cm) to a broad NBI-like one.
* ``density`` 2-10 x 1e19 m^-3: low-density L-mode to H-mode core.
* ``T_edge`` 0.5-3 keV: L-mode edge to H-mode pedestal top.
* ``stiffness`` chi_stiff 0.5-10 (Garbet 2004: 1-10 in gyro-Bohm units).

Solver: vertex-centred finite volumes on ``n_cells`` uniform cells (node i
at rho = i / n_cells; face diffusivities from the face-mean temperature and
the face gradient; both heating terms integrated exactly over each control
volume; exchange at the node), the method of lines, and LSODA (ODEPACK,
Fortran; variable-order BDF once the problem is stiff, as it is here from
the first step) through ``scipy.integrate.solve_ivp`` with the exact banded
Jacobian (bandwidth 2: T_e/T_i interleaved), started from the Ohmic steady
state of the same discretisation (``solve_steady``: damped Newton,
``scipy.linalg.solve_banded``).  Why this is the best available route: the
output is a transient, so time integration cannot be skipped; the system is
stiff (diffusion on the grid scale, the stiff flux slope chi_stiff / chi_0)
so an implicit method is needed; adaptive variable-order BDF takes the
millisecond rise and the 0.1 s approach with the fewest steps (~60
Jacobians and ~500 right-hand sides at mid-box), and LSODA's Fortran banded
LU costs less per step than ``solve_ivp``'s BDF (sparse LU from Python),
which we measured 2-3x slower at equal accuracy, and than VODE (no faster,
and less robust here).  A fixed-step implicit scheme would need the
smallest step everywhere.  The right-hand side costs ~0.25 ms (mostly NumPy
call overhead at this size: a compiled one would cut that constant, not the
number of steps).  ``solve_steady`` also gives the t -> infinity limit in
the tests.

Accuracy (max over the 65 outputs of the relative error): 7e-4 in space,
1e-4 in time.  The hardest case for the grid is a narrow (w = 0.03)
on-axis beam: the early rise is the average of the beam over the central
control volume and late in the rise R/L_Te crosses the threshold in a layer
of ~1e-3 a next to the axis.  Against 2048 cells (rtol 1e-8), over the 16
corners with w = 0.03 on axis and 7 other points, 512 cells are within
4.9e-4 (1.3e-4 or less away from the thin-layer cases), 256 cells reach
1.0e-3 and 128 cells 2.0e-3 (first order at the worst corners).  Time
tolerance (rtol = atol = 1e-5, atol in keV) against rtol 1e-10 at 512 cells,
16 points: 5.2e-5 at worst, 2-3e-5 typically; rtol 1e-4 gives up to 5e-4.
The tests hold 512 cells to 7e-4 against 1024 where 256 miss it, and
rtol 1e-5 to 1e-4 where 1e-4 misses it.

Cost per solve (one core; BLAS limited to one thread), 18 points (12
corners and edges of the box, mid-box, 5 random): CPU time 0.04-1.1 s,
median ~0.18 s, mid-box 0.14-0.2 s; the cheapest are broad or off-axis
beams in dense plasmas, the dearest narrow on-axis beams at high stiffness
(the threshold crossing next to the axis makes LSODA cut its step and
refactor).  Wall-clock on the shared 2-core machine at load 10-12: 0.3-8.5
s, median ~1.8 s, mid-box ~1 s.  Determinism: LSODA and the banded LU are
sequential, so the output is bitwise reproducible.
Failures (RuntimeError from LSODA or Newton): none in 40 random points and
the 18 above.

Independent checks (tests): with a constant diffusivity and no exchange
the equations are linear and the central rise is a J0 eigenmode series
(Bessel zeros j_n, rates 2 chi j_n^2 / (3 a^2)), matched to 1e-4 of the
rise at 256 cells; long after the switch-on the evolution reaches the
Newton steady state (1e-7) and, without exchange, the steady profile from
the flux law alone (brentq per radius, integrated inward; 4e-5 at 256
cells, 3e-5 at 1024 on five box points); the energy balance
W(t) - W(0) = int (P_ECRH + P_OH - P_out) dt with the edge flux from the
test's own flux law (3e-9); the initial heating rate of the centre,
2 p_ECRH / (3 n e) (1e-3); steady power balance and the exchange against
the NRL formulary; the T^(5/2) closed form far below threshold; each
parameter moves the transient and the steady profile the way its term says.

Quick mode (``CoreTransport.quick``): 8 cells, rtol 1e-3, same time grid;
0.01-0.04 s of CPU (0.1-0.25 s wall at load 12), finite but inaccurate.

Limitations: a uniform grid (the deposition and the heat front may be
anywhere; a grid refined at the axis only would reach 7e-4 with fewer
cells at the narrow on-axis corners); the Ohmic power is fixed in shape
and size; no sawteeth (q > 1), no radiation, flat density.

References: X. Garbet et al., "Profile stiffness and global confinement",
Plasma Phys. Control. Fusion 46, 1351 (2004); F. Imbeaux et al., Plasma
Phys. Control. Fusion 43, 1503 (2001) (critical-gradient model of
modulated ECRH); J. Citrin et al., "TORAX: a fast and differentiable
tokamak transport simulator in JAX", arXiv:2406.06718 (2024);
A. C. Hindmarsh, "ODEPACK" (1983) and L. R. Petzold (1983) (LSODA);
NRL Plasma Formulary (2019), relaxation rates.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import erf

from ._newton import damped_newton
from .base import Parameter, Problem, check_positive_float, check_positive_int, single_threaded_blas

__all__ = ["CoreTransport", "TransportModel", "evolve", "solve_steady", "time_grid",
           "MACHINE", "gyro_bohm_coefficient", "exchange_coefficient", "flux_function"]

# Physical constants (CODATA 2018), SI.
ELEMENTARY_CHARGE = 1.602176634e-19
ELECTRON_MASS = 9.1093837015e-31
ATOMIC_MASS = 1.66053906660e-27
EPS0 = 8.8541878128e-12
KEV = 1e3 * ELEMENTARY_CHARGE  # J per keV

#: The fixed machine and transport-model constants (see the module docstring);
#: ``ohmic_power`` in MW.
MACHINE = {
    "R0": 3.0, "a": 1.0, "B0": 3.0, "ion_mass_u": 2.014, "ln_lambda": 17.0,
    "q0": 1.2, "q2": 2.3, "chi_0": 0.5, "kappa_e": 4.0, "kappa_i": 5.0, "delta": 0.1,
    "ohmic_power": 1.0,
}


def gyro_bohm_coefficient(machine=MACHINE):
    """chi_GB / T^(3/2) in m^2/s per keV^(3/2): sqrt(m_i) / (e^2 B0^2 R0) * keV^(3/2)."""
    m_i = machine["ion_mass_u"] * ATOMIC_MASS
    return KEV**1.5 * math.sqrt(m_i) / (ELEMENTARY_CHARGE**2 * machine["B0"] ** 2 * machine["R0"])


def exchange_coefficient(machine=MACHINE):
    """K with p_ei = K n^2 (T_e - T_i) / T_e^(3/2): W/m^3 for n in m^-3 and T in keV."""
    m_i = machine["ion_mass_u"] * ATOMIC_MASS
    # tau_e = c_tau T_e^(3/2) / n (T_e in keV)
    c_tau = (6.0 * math.sqrt(2.0) * math.pi**1.5 * EPS0**2 * math.sqrt(ELECTRON_MASS) * KEV**1.5
             / (machine["ln_lambda"] * ELEMENTARY_CHARGE**4))
    return 3.0 * ELECTRON_MASS / m_i * KEV / c_tau


def flux_function(g, kappa, stiffness, chi_0, delta):
    """Phi(g) = g (chi_0 + chi_stiff softplus_delta(g - kappa)) and dPhi/dg.

    The heat flux density is q = n e C_GB q^(3/2) T^(5/2) Phi(R/L_T) / R0.
    """
    z = (g - kappa) / delta
    soft = delta * np.logaddexp(0.0, z)
    # logistic function, written to avoid overflow of exp for either sign of z
    ez = np.exp(-np.abs(z))
    step = np.where(z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez))
    chi = chi_0 + stiffness * soft
    return g * chi, chi + g * stiffness * step


def time_grid(t_end, n_times):
    """Output times t_k = t_end (k / (n_times - 1))^2: dense just after the
    switch-on (heat-pulse rise, ms) and sparse in the slow approach (0.1 s)."""
    return t_end * (np.arange(n_times) / (n_times - 1)) ** 2


class TransportModel:
    """The finite-volume discretisation of the two-temperature model.

    Unknowns: T_e and T_i at nodes 0..n_cells-1, interleaved
    (x[2i] = T_e,i, x[2i+1] = T_i,i); node n_cells is held at T_edge.
    ``residual(x)`` is the power imbalance of each control volume in W
    (flux out - flux in - heating + exchange); ``capacity`` (J/keV) turns
    it into the time derivative: dx/dt = -residual / capacity.

    Heating: the Ohmic power (always on) plus, if ``ecrh``, the ECRH beam.
    Test hooks: ``exchange=False`` switches the e-i exchange off;
    ``constant_chi`` (m^2/s) replaces the Garbet diffusivity of both species
    by a constant, which makes the equations linear.
    """

    def __init__(self, n_cells, power, rho_dep, width, density, T_edge, stiffness,
                 exchange=True, ecrh=True, constant_chi=None, machine=MACHINE):
        self._args = dict(n_cells=n_cells, power=power, rho_dep=rho_dep, width=width,
                          density=density, T_edge=T_edge, stiffness=stiffness, exchange=exchange,
                          ecrh=ecrh, constant_chi=constant_chi, machine=machine)
        self.n_cells = N = int(n_cells)
        self.T_edge = float(T_edge)
        self.stiffness = float(stiffness)
        m = self.machine = dict(machine)
        R0, a = m["R0"], m["a"]
        self.density = n = density * 1e19
        h = 1.0 / N
        self.h = h
        self.rho = np.arange(N + 1) * h
        rho_face = (np.arange(N) + 0.5) * h  # face i+1/2, between nodes i and i+1
        area = 4.0 * math.pi**2 * R0 * a * rho_face  # flux-surface area, m^2
        q_face = m["q0"] + m["q2"] * rho_face**2
        # Face power through the surface: F = C_face T_f^(5/2) Phi(g_f)  (W)
        self.C_face = area * n * KEV * gyro_bohm_coefficient(m) * q_face**1.5 / R0
        self.grad_scale = R0 / (a * h)  # g_f = -grad_scale (T_i+1 - T_i) / T_f
        self.constant_chi = None if constant_chi is None else float(constant_chi)
        if self.constant_chi is not None:  # F = -area n e chi dT/dr
            self.C_const = area * n * KEV * self.constant_chi / (a * h)
        edges = np.concatenate(([0.0], rho_face, [1.0]))  # node i: [edges[i], edges[i+1]]
        self.volume_all = 2.0 * math.pi**2 * R0 * a**2 * np.diff(edges**2)  # m^3, incl. edge
        self.volume = self.volume_all[:N]
        # Exact Gaussian ECRH in each control volume: int rho S drho has the
        # antiderivative -w^2 S + rho_dep w sqrt(pi/2) erf((rho - rho_dep) / (sqrt2 w)).
        s2 = math.sqrt(2.0) * width
        G = (-width**2 * np.exp(-((edges - rho_dep) / s2) ** 2)
             + rho_dep * width * math.sqrt(math.pi / 2.0) * erf((edges - rho_dep) / s2))
        ecrh_all = power * 1e6 * np.diff(G) / (G[-1] - G[0]) if ecrh else np.zeros(N + 1)
        # Ohmic heating E j with a uniform loop voltage and j ~ 1/q^2 (the current
        # profile of the prescribed q): int rho / q^2 drho = -1 / (2 q2 q).
        Gq = -1.0 / (2.0 * m["q2"] * (m["q0"] + m["q2"] * edges**2))
        ohmic_all = m["ohmic_power"] * 1e6 * np.diff(Gq) / (Gq[-1] - Gq[0])
        heating = ecrh_all + ohmic_all  # W in each control volume
        self.ecrh_heating = ecrh_all[:N]
        self.heating = heating[:N]
        self.edge_heating = heating[N]  # the half cell at rho = 1 (held at T_edge)
        self.power = (power if ecrh else 0.0) * 1e6 + m["ohmic_power"] * 1e6  # total, W
        self.K_ex = exchange_coefficient(m) * n**2 if exchange else 0.0
        self.capacity = np.repeat(1.5 * n * KEV * self.volume, 2)  # J/keV
        # row scaling of the banded Jacobian: d(dx/dt)/dx = -J / capacity (row i)
        size = 2 * N
        i = np.arange(size)[None, :] + np.arange(5)[:, None] - 2  # row of band entry [r, j]
        self._band_scale = np.where((i >= 0) & (i < size),
                                    -1.0 / self.capacity[np.clip(i, 0, size - 1)], 0.0)

    # ------------------------------------------------------------ fluxes
    def face_fluxes(self, T, kappa):
        """Power through each face (W) of one species and its derivatives
        with respect to the left and right node temperatures.  T has n_cells+1 nodes."""
        D = T[1:] - T[:-1]
        Tf = 0.5 * (T[1:] + T[:-1])
        g = -self.grad_scale * D / Tf
        if self.constant_chi is not None:
            F = -self.C_const * D
            return F, self.C_const.copy(), -self.C_const, g
        m = self.machine
        Phi, dPhi = flux_function(g, kappa, self.stiffness, m["chi_0"], m["delta"])
        T25 = Tf**2.5
        F = self.C_face * T25 * Phi
        dT25 = 1.25 * Tf**1.5  # d(T_f^2.5)/dT_left = d/dT_right
        dg_left = self.grad_scale / Tf * (1.0 + 0.5 * D / Tf)
        dg_right = -self.grad_scale / Tf * (1.0 - 0.5 * D / Tf)
        dF_left = self.C_face * (dT25 * Phi + T25 * dPhi * dg_left)
        dF_right = self.C_face * (dT25 * Phi + T25 * dPhi * dg_right)
        return F, dF_left, dF_right, g

    def residual(self, x, jacobian=True):
        """Power imbalance (W per control volume) and its banded Jacobian
        (``solve_banded`` layout, (l, u) = (2, 2))."""
        N = self.n_cells
        m = self.machine
        Te = np.append(x[0::2], self.T_edge)
        Ti = np.append(x[1::2], self.T_edge)
        te, ti = Te[:N], Ti[:N]
        p_ex = self.K_ex * (te - ti) / te**1.5 * self.volume  # W, electrons -> ions
        R = np.empty(2 * N)
        ab = np.zeros((5, 2 * N)) if jacobian else None
        for s, (T, kappa) in enumerate(((Te, m["kappa_e"]), (Ti, m["kappa_i"]))):
            F, dl, dr, _ = self.face_fluxes(T, kappa)
            Rs = F.copy()
            Rs[1:] -= F[:-1]  # flux out of node i minus flux into it
            Rs += p_ex if s == 0 else -p_ex
            if s == 0:
                Rs -= self.heating
            R[s::2] = Rs
            if jacobian:
                idx = np.arange(N) * 2 + s
                diag = dl.copy()
                diag[1:] -= dr[:-1]
                ab[2, idx] = diag
                ab[0, idx[1:]] = dr[:-1]  # dR_i / dT_{i+1}
                ab[4, idx[:-1]] = -dl[:-1]  # dR_{i+1} / dT_i
        if jacobian:
            ie = np.arange(N) * 2
            dpe_dte = self.K_ex * (1.0 / te**1.5 - 1.5 * (te - ti) / te**2.5) * self.volume
            dpe_dti = -self.K_ex / te**1.5 * self.volume
            ab[2, ie] += dpe_dte
            ab[1, ie + 1] += dpe_dti  # dR_e,i / dT_i,i
            ab[3, ie] -= dpe_dte  # dR_i,i / dT_e,i
            ab[2, ie + 1] -= dpe_dti
        return R, ab

    def rate(self, t, x):
        """dx/dt (keV/s)."""
        return -self.residual(x, jacobian=False)[0] / self.capacity

    def rate_jacobian(self, t, x):
        """d(dx/dt)/dx in LSODA's packed banded layout: [2 + i - j, j] = J_ij."""
        return self.residual(x)[1] * self._band_scale

    def ohmic(self):
        """The same plasma before the switch-on: Ohmic heating only."""
        return TransportModel(**{**self._args, "ecrh": False})

    def guess(self):
        """A starting profile for Newton: T_e = T_i = T_edge (2 - rho^2)."""
        return np.repeat(self.T_edge * (2.0 - self.rho[:-1] ** 2), 2)

    def edge_fluxes(self, x):
        """Power (W) leaving through rho = 1 in the electron and ion channels:
        the flux into the edge half cell plus what is deposited in it (there
        T_e = T_i = T_edge, so nothing is exchanged)."""
        out = []
        for s, kappa in ((0, self.machine["kappa_e"]), (1, self.machine["kappa_i"])):
            T = np.append(x[s::2], self.T_edge)
            out.append(self.face_fluxes(T, kappa)[0][-1] + (self.edge_heating if s == 0 else 0.0))
        return tuple(out)

    def stored_energy(self, x):
        """Thermal energy 3/2 n (T_e + T_i) integrated over the plasma volume (J)."""
        Te = np.append(x[0::2], self.T_edge)
        Ti = np.append(x[1::2], self.T_edge)
        return float(1.5 * self.density * KEV * np.sum(self.volume_all * (Te + Ti)))

    def relative_residual(self, x):
        return float(np.max(np.abs(self.residual(x, jacobian=False)[0])) / self.power)


def solve_steady(model, x0=None, rtol=1e-12, max_iter=200):
    """The discrete steady state of ``model`` by damped Newton (banded Jacobian).

    Gives the Ohmic initial state of the evolution, and the t -> infinity
    limit in the tests.  Raises RuntimeError if Newton does not converge.
    """
    x = model.guess() if x0 is None else np.array(x0, dtype=np.float64)
    with single_threaded_blas(), np.errstate(over="ignore", invalid="ignore"):
        return damped_newton(model.residual, x, (2, 2), rtol=rtol, max_iter=max_iter,
                             accept_below=1e-4, give_up_below=1e-12, name="transport")


def evolve(model, times, x0=None, rtol=1e-5, atol=1e-5):
    """Integrate the method-of-lines system of ``model`` from ``x0`` at t = 0
    (default: the Ohmic steady state) with LSODA and the exact banded
    Jacobian; return the interleaved node temperatures at ``times``
    (shape (2 n_cells, len(times))).  Raises RuntimeError on failure.
    """
    times = np.asarray(times, dtype=np.float64)
    if x0 is None:
        x0 = solve_steady(model.ohmic())
    with single_threaded_blas(), np.errstate(over="ignore", invalid="ignore"):
        sol = solve_ivp(model.rate, (0.0, times[-1]), x0, method="LSODA", t_eval=times,
                        jac=model.rate_jacobian, lband=2, uband=2, rtol=rtol, atol=atol)
    if not sol.success or not np.all(np.isfinite(sol.y)) or not np.all(sol.y > 0):
        raise RuntimeError(f"transport: time integration failed: {sol.message}")
    y = sol.y
    y[:, times == 0.0] = np.asarray(x0)[:, None]  # the initial state itself, not its interpolant
    return y


class CoreTransport(Problem):
    """Central T_e(t) of a tokamak core after an ECRH switch-on, stiff transport."""

    name = "transport"
    description = ("Tokamak core heat transport (T_e, T_i, cylinder) with the stiff "
                   "gyro-Bohm critical-gradient diffusivity of Garbet et al. 2004, Ohmic "
                   "heating, a Gaussian ECRH beam switched on at t = 0 and e-i exchange; "
                   "output: central electron temperature T_e(rho = 0, t).")
    parameters = (
        Parameter("power", 2.0, 20.0, "MW", "absorbed ECRH power (electron heating), on at t = 0"),
        Parameter("rho_dep", 0.0, 0.6, "a", "normalised radius of the deposition peak"),
        Parameter("width", 0.03, 0.25, "a", "Gaussian width of the deposition"),
        Parameter("density", 2.0, 10.0, "1e19 m^-3", "flat electron (= ion) density"),
        Parameter("T_edge", 0.5, 3.0, "keV", "temperature at rho = 1 (pedestal top), both species"),
        Parameter("stiffness", 0.5, 10.0, "chi_GB",
                  "chi_stiff: slope of chi above the critical gradient (gyro-Bohm units)"),
    )
    grid_name = "t"
    grid_unit = "s"
    output_name = "T_e0"
    output_unit = "keV"

    #: A coarse solver for smoke tests: finite profiles, not accurate ones.
    quick = {"n_cells": 8, "rtol": 1e-3}

    def __init__(self, n_times=65, t_end=0.5, n_cells=512, rtol=1e-5, atol=1e-5):
        n_times = check_positive_int("n_times", n_times, 2)
        self.n_cells = check_positive_int("n_cells", n_cells, 2)
        self.t_end = check_positive_float("t_end", t_end)
        self.rtol = check_positive_float("rtol", rtol)
        self.atol = check_positive_float("atol", atol)
        self.grid = time_grid(self.t_end, n_times)
        self.settings = {"n_times": n_times, "t_end": self.t_end, "n_cells": self.n_cells,
                         "rtol": self.rtol, "atol": self.atol}

    def model(self, params, **options):
        return TransportModel(self.n_cells, *params, **options)

    def _solve(self, params):
        x = evolve(self.model(params), self.grid, rtol=self.rtol, atol=self.atol)
        return x[0]
