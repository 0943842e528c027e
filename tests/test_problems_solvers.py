"""Each solver against an analytic solution or a known limit, at a stated tolerance."""

import math

import numpy as np
import pytest
from scipy.special import erf, ive

import problems
from problems.burgers import fourier_differentiation_matrices, solve_burgers
from problems.heat import gaussian_cell_source, solve_slab
from problems.pinch import MU0, solve_screw_pinch
from problems.base import single_threaded_blas
from problems.schrodinger import ground_state


# ---------------------------------------------------------------- heat
def heat_kirchhoff(params, x, kappa0=1.0):
    """Exact T(x): u = T^(7/2) obeys -(2/7) kappa0 u'' = S (Kirchhoff transform).

    Flux F(x) = q_in + int_0^x S; u(x) = T_edge^(7/2) + (7 / (2 kappa0)) int_x^1 F.
    """
    q_in, S0, x0, w, T_edge = params
    s = math.sqrt(2.0) * w
    c = S0 * w * math.sqrt(math.pi / 2.0)

    def erf_antiderivative(y):  # int erf((y - x0)/s) dy
        z = (y - x0) / s
        return (y - x0) * erf(z) + s / math.sqrt(math.pi) * np.exp(-z * z)

    int_F = (q_in + c * erf(x0 / s)) * (1.0 - x) + c * (erf_antiderivative(1.0) - erf_antiderivative(x))
    return (T_edge**3.5 + 3.5 / kappa0 * int_F) ** (2.0 / 7.0)


@pytest.mark.parametrize("params", [
    [0.1, 0.0, 0.5, 0.1, 0.1],      # source-free, cold wall: steepest T near x = 1
    [1.0, 2.0, 0.8, 0.05, 0.5],     # narrow strong source near the wall
    [0.5, 1.0, 0.2, 0.2, 0.1],
    [0.1, 2.0, 0.8, 0.05, 0.1],     # corner of the box: hot source, cold wall
])
def test_heat_matches_kirchhoff_solution(params):
    heat = problems.get("heat")
    T = heat.solve(params)
    exact = heat_kirchhoff(params, heat.grid)
    np.testing.assert_allclose(T, exact, rtol=1e-5)


def test_heat_is_second_order():
    params = [0.1, 2.0, 0.8, 0.05, 0.1]
    errors = []
    for n_cells in (128, 256, 512):
        heat = problems.get("heat", n_cells=n_cells)
        errors.append(np.max(np.abs(heat.solve(params) - heat_kirchhoff(params, heat.grid))))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 2.0) < 0.2), orders


def test_heat_constant_conductivity_uniform_source_is_a_parabola():
    # exponent 0: -kappa0 T'' = S0, T'(0) = -q_in / kappa0, T(1) = T_edge.
    n, S0, q_in, T_edge, kappa0 = 64, 3.0, 0.5, 0.2, 2.0
    h = 1.0 / n
    cell_source = np.full(n, S0 * h)
    cell_source[0] = S0 * h / 2  # node 0 owns a half cell
    T = solve_slab(n, cell_source, q_in, T_edge, kappa0=kappa0, exponent=0.0)
    x = np.linspace(0.0, 1.0, n + 1)
    exact = T_edge + S0 / (2 * kappa0) * (1 - x**2) + q_in / kappa0 * (1 - x)
    np.testing.assert_allclose(T, exact, rtol=1e-12)


def test_heat_source_free_T_to_seven_halves_is_linear():
    # Two-point model: T(x)^(7/2) = T_edge^(7/2) + (7/2) q_in (1 - x) / kappa0.
    n, q_in, T_edge = 256, 0.7, 0.3
    T = solve_slab(n, np.zeros(n), q_in, T_edge)
    x = np.linspace(0.0, 1.0, n + 1)
    np.testing.assert_allclose(T**3.5, T_edge**3.5 + 3.5 * q_in * (1 - x), rtol=1e-10)


def test_gaussian_cell_source_conserves_the_total():
    faces = np.linspace(-5.0, 5.0, 101)
    total = gaussian_cell_source(faces, 2.0, 0.3, 0.4).sum()
    assert total == pytest.approx(2.0 * 0.4 * math.sqrt(2 * math.pi), rel=1e-12)


# ------------------------------------------------------------- burgers
def cole_hopf(x, t, nu, a, n_terms=200):
    """u(x, t) for u0 = a sin x: u = -2 nu phi_x / phi with
    phi = I_0(z) + 2 sum_k I_k(z) exp(-nu k^2 t) cos(kx), z = a / (2 nu)."""
    z = a / (2.0 * nu)
    k = np.arange(1, n_terms)[:, None]
    weight = ive(k, z) * np.exp(-nu * k**2 * t)  # ive: scaled by exp(-z), cancels in the ratio
    numerator = 4.0 * nu * np.sum(k * weight * np.sin(k * x), axis=0)
    denominator = ive(0, z) + 2.0 * np.sum(weight * np.cos(k * x), axis=0)
    return numerator / denominator


@pytest.mark.parametrize("nu, a", [(0.1, 0.4), (0.03, 0.3)])
def test_burgers_matches_cole_hopf(nu, a):
    n = 256
    x = 2 * np.pi * np.arange(n) / n
    u = solve_burgers(a * np.sin(x), nu, 1.0)
    np.testing.assert_allclose(u, cole_hopf(x, 1.0, nu, a), atol=1e-9)


def cole_hopf_two_mode(nu, a1, a2, phi2, n=512, t_final=1.0):
    """u(x, t) on n nodes for u0 = a1 sin x + a2 sin(2x + phi2), by Cole-Hopf in Fourier space."""
    x = 2 * np.pi * np.arange(n) / n
    U0 = -a1 * np.cos(x) - 0.5 * a2 * np.cos(2 * x + phi2)  # U0' = u0
    k = np.fft.rfftfreq(n, 1.0 / n)
    phi_hat = np.fft.rfft(np.exp(-(U0 - U0.min()) / (2 * nu))) * np.exp(-nu * k**2 * t_final)
    return -2 * nu * np.fft.irfft(1j * k * phi_hat, n) / np.fft.irfft(phi_hat, n)


def test_burgers_problem_matches_cole_hopf_for_a_two_mode_wave():
    # Cole-Hopf for any initial wave: phi0 = exp(-U0 / (2 nu)) with U0' = u0,
    # evolved exactly by the heat equation in Fourier space; u = -2 nu phi_x / phi.
    nu, a1, a2, phi2 = 0.05, 0.4, 0.2, 2.0
    u = problems.get("burgers").solve([math.log10(nu), a1, a2, phi2])
    np.testing.assert_allclose(u, cole_hopf_two_mode(nu, a1, a2, phi2)[::4], atol=1e-9)


def test_fourier_differentiation_matrices_are_exact_for_resolved_modes():
    n = 32
    x = 2 * np.pi * np.arange(n) / n
    D1, D2 = fourier_differentiation_matrices(n)
    u = np.sin(3 * x) + np.cos(5 * x)
    np.testing.assert_allclose(D1 @ u, 3 * np.cos(3 * x) - 5 * np.sin(5 * x), atol=1e-12)
    np.testing.assert_allclose(D2 @ u, -9 * np.sin(3 * x) - 25 * np.cos(5 * x), atol=1e-11)


def test_burgers_default_resolution_is_converged_at_the_steepest_corner():
    # Smallest nu, largest amplitudes, phase that steepens most: the default
    # 512 nodes agree with 1024 to 1e-8 (256 nodes would leave ~5e-7).
    params = [-3.0, 0.4, 0.2, math.pi]
    default = problems.get("burgers").solve(params)
    fine = problems.get("burgers", n_points=1024).solve(params)
    np.testing.assert_allclose(default, fine, atol=1e-8)
    assert np.max(np.abs(fine)) < 0.65  # no growth: |u| stays within the initial range


# --------------------------------------------------------------- pinch
R0, A, B0, IP = 3.0, 1.0, 3.0, 1.5e6


def test_pinch_uniform_current_gives_flat_q():
    r = np.linspace(0.0, A, 64)
    q = solve_screw_pinch(r, R0, A, B0, IP, current_peaking=0.0, p0=0.0, pressure_peaking=1.0)
    j0 = IP / (math.pi * A**2)
    # Exact: force balance makes B_z grow inwards by the B_theta^2 pinch term.
    Bz = np.sqrt(B0**2 + MU0**2 * j0**2 * (A**2 - r**2) / 2)
    np.testing.assert_allclose(q, 2 * Bz / (MU0 * j0 * R0), rtol=1e-9)
    # Flat to order (B_theta(a) / B0)^2, the large-aspect-ratio ordering.
    B_theta_edge = MU0 * IP / (2 * math.pi * A)
    assert np.ptp(q) / q.mean() < (B_theta_edge / B0) ** 2


def test_pinch_parabolic_current_matches_analytic_q():
    r = np.linspace(0.0, A, 64)
    q = solve_screw_pinch(r, R0, A, B0, IP, current_peaking=1.0, p0=0.0, pressure_peaking=1.0)
    j0 = 2 * IP / (math.pi * A**2)
    s = (r / A) ** 2
    # d(B_z^2)/dr = -2 mu0 j B_theta integrated in closed form for j = j0 (1 - s).
    Bz = np.sqrt(B0**2 + 0.5 * MU0**2 * j0**2 * A**2 * (5 / 12 - s + 0.75 * s**2 - s**3 / 6))
    np.testing.assert_allclose(q, 2 * Bz / (MU0 * j0 * R0 * (1 - s / 2)), rtol=1e-9)
    # Textbook large-aspect-ratio limit q(a) = 2 q(0) holds to a few (B_theta(a) / B0)^2.
    B_theta_edge = MU0 * IP / (2 * math.pi * A)
    assert q[-1] / q[0] == pytest.approx(2.0, rel=3 * (B_theta_edge / B0) ** 2)


def test_pinch_pressure_lowers_B_z_inside_by_force_balance():
    # Diamagnetism: with pressure, B_z(0)^2 drops by 2 mu0 p0 (plus the same
    # current term), so q(0) falls while q(a) (edge, p = 0) is unchanged.
    pinch = problems.get("pinch")
    q_no_p = pinch.solve([1.5, 3.0, 1.0, 0.0, 2.0])
    q_p = pinch.solve([1.5, 3.0, 1.0, 200.0, 2.0])
    j0 = 2 * 1.5e6 / math.pi
    expected_ratio = math.sqrt(1 - 2 * MU0 * 200e3 / (q_no_p[0] * MU0 * j0 * R0 / 2) ** 2)
    assert q_p[0] / q_no_p[0] == pytest.approx(expected_ratio, rel=1e-8)
    assert q_p[-1] == pytest.approx(q_no_p[-1], rel=1e-9)


# --------------------------------------------------------- schrodinger
@pytest.mark.parametrize("omega", [1.0, 2.0])
def test_schrodinger_harmonic_oscillator_gaussian(omega):
    h = 0.01
    x = np.arange(-6.0 + h, 6.0, h)
    E, psi = ground_state(0.5 * omega**2 * x**2, h)
    # Second order: the leading error of E is omega^2 h^2 / 32; allow twice that.
    assert E == pytest.approx(omega / 2, abs=omega**2 * h**2 / 16)
    exact = (omega / math.pi) ** 0.25 * np.exp(-omega * x**2 / 2)
    np.testing.assert_allclose(psi, exact, atol=1e-5)


def test_schrodinger_quartic_oscillator_energy():
    # -psi''/2 + x^4 psi / 2: E0 = 1.0603620904841829 / 2 (ground state of p^2 + x^4).
    h = 0.005
    x = np.arange(-5.0 + h, 5.0, h)
    E, _ = ground_state(0.5 * x**4, h)
    assert E == pytest.approx(1.0603620904841829 / 2, abs=2e-6)


def test_schrodinger_problem_output_is_normalised_and_mirrors_with_the_tilt():
    sch = problems.get("schrodinger")
    left, right = sch.solve([0.2, -1.0, 0.3]), sch.solve([0.2, -1.0, -0.3])
    np.testing.assert_allclose(left, right[::-1], atol=1e-12)  # V(-x; f) = V(x; -f)
    assert np.all(left >= 0)
    dx = sch.grid[1] - sch.grid[0]
    assert np.sum(left**2) * dx == pytest.approx(1.0, abs=1e-4)  # tails beyond |x| = 4 are tiny
    assert sch.grid[np.argmax(left)] < 0  # f > 0 lowers the left well


# ------------------------------------------------- every problem, whole box
CHEAP = ["heat", "pinch", "schrodinger"]


@pytest.mark.parametrize("name", CHEAP)
def test_profiles_are_finite_and_order_one_over_the_box(name):
    problem = problems.get(name)
    X = problems.sample(problem, 64, seed=11)
    corners = np.where(np.arange(2 ** problem.n_inputs)[:, None] >> np.arange(problem.n_inputs) & 1,
                       problem.upper, problem.lower)
    for x in np.vstack([X, corners]):
        y = problem.solve(x)
        assert y.shape == problem.grid.shape and y.dtype == np.float64
        assert np.all(np.isfinite(y))
        assert 0.05 < np.max(np.abs(y)) < 20.0


def test_burgers_profiles_stay_smooth_at_the_box_corners():
    burgers = problems.get("burgers")
    for x in [[-3.0, 0.4, 0.2, 0.0], [-3.0, 0.4, 0.2, math.pi], [-1.0, 0.2, 0.0, 0.0]]:
        u = burgers.solve(x)
        slope = np.max(np.abs(np.diff(u))) / (burgers.grid[1] - burgers.grid[0])
        assert slope < 4.0  # fronts wider than ~10 output cells: no shocks to learn


# ------------------------ every parameter reaches the physics through Problem.solve
# Checked at points spread over each box (every parameter varies) against a
# solution computed another way from the equation written out here, so a
# parameter dropped, swapped or mis-scaled between the box and the solver fails.

def test_heat_every_parameter_reaches_the_solver():
    heat = problems.get("heat")
    for params in problems.sample(heat, 12, seed=21):
        np.testing.assert_allclose(heat.solve(params), heat_kirchhoff(params, heat.grid), rtol=1e-5)


def test_burgers_every_parameter_reaches_the_solver():
    nu, a1, a2, phi2 = 10**-1.5, 0.25, 0.15, 5.0
    u = problems.get("burgers").solve([math.log10(nu), a1, a2, phi2])
    np.testing.assert_allclose(u, cole_hopf_two_mode(nu, a1, a2, phi2)[::4], atol=1e-9)


def pinch_q_by_quadrature(r, Ip, B0, nu, p0, alpha, R0=3.0, a=1.0):
    """q(r) from the enclosed current in closed form, I = Ip (1 - (1 - r^2/a^2)^(nu+1)),
    and force balance integrated by adaptive quadrature:
    B_z^2(r) = B0^2 - 2 mu0 p(r) + 2 mu0 int_r^a j B_theta dr'."""
    from scipy.integrate import quad
    j0 = (nu + 1) * Ip / (math.pi * a**2)

    def current(s):
        return Ip * (1 - (1 - (s / a) ** 2) ** (nu + 1))

    def j_B_theta(s):
        return j0 * (1 - (s / a) ** 2) ** nu * MU0 * current(s) / (2 * math.pi * s) if s > 0 else 0.0

    q = np.empty_like(r)
    for i, ri in enumerate(r):
        Bz = math.sqrt(B0**2 - 2 * MU0 * p0 * (1 - (ri / a) ** 2) ** alpha
                       + 2 * MU0 * quad(j_B_theta, ri, a, epsabs=0, epsrel=1e-12, limit=200)[0])
        q[i] = 2 * Bz / (MU0 * R0 * j0) if ri == 0 else 2 * math.pi * ri**2 * Bz / (MU0 * R0 * current(ri))
    return q


def test_pinch_every_parameter_reaches_the_solver():
    pinch = problems.get("pinch")
    for Ip, B0, nu, p0, alpha in problems.sample(pinch, 6, seed=5):
        q = pinch.solve([Ip, B0, nu, p0, alpha])
        np.testing.assert_allclose(q, pinch_q_by_quadrature(pinch.grid, Ip * 1e6, B0, nu, p0 * 1e3, alpha),
                                   rtol=1e-8)


def test_pinch_pressure_peaking_moves_q_as_force_balance_says():
    # Same current, same p0: a more peaked pressure (larger alpha) holds less
    # pressure at each r > 0, so B_z, and q, are higher there by exactly
    # B_z^2 difference = 2 mu0 p0 ((1-s)^1 - (1-s)^3).
    pinch = problems.get("pinch")
    broad, peaked = pinch.solve([1.5, 3.0, 1.0, 200.0, 1.0]), pinch.solve([1.5, 3.0, 1.0, 200.0, 3.0])
    s = pinch.grid**2
    j0 = 2 * 1.5e6 / math.pi
    current_factor = MU0 * j0 * 3.0 * (1 - s / 2) / 2  # q = B_z / current_factor for nu = 1
    np.testing.assert_allclose((peaked * current_factor) ** 2 - (broad * current_factor) ** 2,
                               2 * MU0 * 200e3 * ((1 - s) - (1 - s) ** 3), rtol=1e-7, atol=1e-9)
    assert np.all(peaked[1:-1] > broad[1:-1]) and peaked[0] == pytest.approx(broad[0], rel=1e-12)


def ground_state_in_oscillator_basis(quartic, quadratic, tilt, x, n_basis=120, omega=1.5):
    """psi_0(x) of -psi''/2 + (lambda x^4 + k x^2/2 + f x) psi = E psi by
    Rayleigh-Ritz in the harmonic-oscillator basis of frequency omega:
    x = (a + a^+) / sqrt(2 omega), and -1/2 d^2/dx^2 = H_omega - omega^2 x^2 / 2.
    Independent of the finite-difference solver; no grid, no walls."""
    big = n_basis + 4  # powers of x are exact in the first n_basis rows
    off = np.sqrt(np.arange(1, big) / (2 * omega))
    X = np.diag(off, 1) + np.diag(off, -1)
    X2 = X @ X
    H = (np.diag(omega * (np.arange(big) + 0.5)) + 0.5 * (quadratic - omega**2) * X2
         + quartic * X2 @ X2 + tilt * X)[:n_basis, :n_basis]
    with single_threaded_blas():  # threaded BLAS on a 120 x 120 matrix only waits on a busy machine
        _, vectors = np.linalg.eigh(H)
    c = vectors[:, 0]
    # Hermite functions by their three-term recurrence.
    phi = np.empty((n_basis, x.size))
    phi[0] = (omega / math.pi) ** 0.25 * np.exp(-omega * x**2 / 2)
    phi[1] = math.sqrt(2 * omega) * x * phi[0]
    for n in range(1, n_basis - 1):
        phi[n + 1] = math.sqrt(2 * omega / (n + 1)) * x * phi[n] - math.sqrt(n / (n + 1)) * phi[n - 1]
    psi = c @ phi
    return psi * np.sign(psi.sum())


def test_schrodinger_every_parameter_reaches_the_solver():
    # Includes the deepest double well (lambda = 0.1, k = -1) and the box's corners.
    sch = problems.get("schrodinger")
    points = np.vstack([problems.sample(sch, 6, seed=3), [[0.1, -1.0, 0.0], [0.1, -1.0, 0.3], [1.0, 1.0, -0.3]]])
    for params in points:
        np.testing.assert_allclose(sch.solve(params), ground_state_in_oscillator_basis(*params, sch.grid),
                                   atol=2e-5)


def test_schrodinger_quadratic_term_is_half_k_x_squared():
    # lambda small against k: nearly the oscillator of frequency sqrt(k), whose
    # Gaussian has <x^2> = 1 / (2 sqrt(k)) = 0.5; the quartic term only narrows
    # it.  With V = k x^2 (frequency sqrt(2 k)) it would be below 1 / (2 sqrt(2)) = 0.354.
    sch = problems.get("schrodinger")
    psi = sch.solve([0.1, 1.0, 0.0])
    dx = sch.grid[1] - sch.grid[0]
    width2 = np.sum(sch.grid**2 * psi**2) * dx
    exact = ground_state_in_oscillator_basis(0.1, 1.0, 0.0, sch.grid)
    assert width2 == pytest.approx(np.sum(sch.grid**2 * exact**2) * dx, rel=1e-4)
    # Between the quartic-dressed oscillator and the bare one; far from k x^2's 0.354.
    assert 0.40 < width2 < 0.5
