"""Vlasov-Poisson: kinetic dispersion relation, conservation, parameter physics, convergence.

The independent check is the kinetic dispersion relation of a sum of
Maxwellians, solved here from scratch (Faddeeva function + Newton in the
complex plane): its least-damped / fastest-growing root must match the rate
fitted to the solver's output.
"""

import json
import math
import time

import numpy as np
import pytest
from scipy.special import wofz

from problems.base import Parameter, Problem
from problems.vlasov import (
    VlasovPoisson,
    field_energy,
    initial_distribution,
    running_mean,
    spline_shift_symbol,
)

MID = [0.4, -2.75, 0.1, 4.0, 0.7]
LN10 = math.log(10.0)

# Linear-phase physics needs few harmonics and no long run: a cheap mesh
# (n_x 16, n_v 256, t <= 60) gets the rates to < 1e-3 (measured).
CHEAP = {"n_x": 16, "n_v": 256, "t_final": 60.0}


# ------------------------------------------------ kinetic dispersion relation
def plasma_Z(zeta):
    """Fried-Conte plasma dispersion function Z(zeta) = i sqrt(pi) w(zeta)."""
    return 1j * math.sqrt(math.pi) * wofz(zeta)


def species_of(n_b, v_b, v_tb):
    """(density, drift, thermal speed) of the Maxwellians of f0."""
    core = (1.0 - n_b, 0.0, 1.0)
    return [core, (n_b, v_b, v_tb)] if n_b > 0 else [core]


def dispersion(omega, k, species):
    """D(omega) = 1 + sum_s n_s / (k v_s)^2 [1 + zeta Z(zeta)] and dD/domega."""
    D, dD = 1.0 + 0j, 0j
    for n, u, vt in species:
        scale = math.sqrt(2.0) * k * vt
        zeta = (omega - k * u) / scale
        Z = plasma_Z(zeta)
        Z_prime = -2.0 * (1.0 + zeta * Z)
        D += n / (k * vt) ** 2 * (1.0 + zeta * Z)
        dD += n / (k * vt) ** 2 * (Z + zeta * Z_prime) / scale
    return D, dD


def newton_root(omega, k, species, tol=1e-13, max_iter=60):
    for _ in range(max_iter):
        D, dD = dispersion(omega, k, species)
        step = D / dD
        omega -= step
        if not np.isfinite(omega):
            return None
        if abs(step) < tol:
            return omega
    return None


def dominant_root(k, species):
    """The root with the largest imaginary part, by Newton from a grid of starts."""
    roots = []
    with np.errstate(all="ignore"):
        for re in np.linspace(-3.0, 3.0, 25):
            for im in np.linspace(-0.6, 0.6, 13):
                w = newton_root(complex(re, im), k, species)
                if w is not None and w.imag > -1.0 and abs(dispersion(w, k, species)[0]) < 1e-9:
                    roots.append(w)
    return max(roots, key=lambda w: w.imag)


def test_dispersion_root_matches_the_landau_values():
    # Maxwellian, k lambda_D = 0.5: omega = 1.4157 - 0.1534 i (Fried & Conte;
    # the classic Landau-damping benchmark of Cheng & Knorr).
    w = newton_root(1.4 - 0.1j, 0.5, species_of(0.0, 0.0, 1.0))
    assert w == pytest.approx(1.41566 - 0.15336j, abs=2e-5)
    assert dominant_root(0.5, species_of(0.0, 0.0, 1.0)).imag == pytest.approx(-0.15336, abs=2e-5)
    # k = 0.4: 1.2851 - 0.0661 i.
    assert newton_root(1.3 - 0.05j, 0.4, species_of(0.0, 0.0, 1.0)) == pytest.approx(
        1.28506 - 0.06613j, abs=2e-5)


# ----------------------------------------------------------- contract
def test_class_follows_the_problem_contract():
    assert issubclass(VlasovPoisson, Problem) and VlasovPoisson.name == "vlasov"
    assert [p.name for p in VlasovPoisson.parameters] == ["k", "log10_eps", "n_b", "v_b", "v_tb"]
    assert all(isinstance(p, Parameter) for p in VlasovPoisson.parameters)
    for attr in ("description", "grid_name", "grid_unit", "output_name", "output_unit"):
        assert isinstance(getattr(VlasovPoisson, attr), str) and getattr(VlasovPoisson, attr)
    problem = VlasovPoisson()
    assert problem.grid.dtype == np.float64 and problem.grid.shape == (64,)
    assert problem.grid[0] == pytest.approx(math.pi) and problem.grid[-1] == 100.0
    assert json.loads(json.dumps(problem.settings)) == problem.settings
    assert problem.settings["n_v"] == 512 and problem.settings["dt"] == 0.1
    quick = VlasovPoisson(**VlasovPoisson.quick)
    np.testing.assert_array_equal(quick.grid, problem.grid)
    with pytest.raises(ValueError, match="v_tb"):
        problem.solve([0.4, -2.75, 0.1, 4.0, 0.1])
    with pytest.raises(ValueError, match="even"):
        VlasovPoisson(n_v=511)
    with pytest.raises(ValueError, match="dt"):
        VlasovPoisson(dt=5.0)


def test_quick_mode_gives_finite_output_fast_and_deterministically():
    quick = VlasovPoisson(**VlasovPoisson.quick)
    quick.solve(MID)  # warm-up
    start = time.process_time()
    y = quick.solve(MID)
    seconds = time.process_time() - start
    assert y.shape == quick.grid.shape and np.all(np.isfinite(y))
    assert seconds < 0.5, f"quick solve took {seconds:.2f} s"
    np.testing.assert_array_equal(quick.solve(MID), y)  # bitwise reproducible
    corner = quick.solve([0.3, -1.5, 0.2, 4.0, 0.4])
    assert np.all(np.isfinite(corner))


# ---------------------------------------------------------- numerics
def test_spline_shift_symbol_interpolates():
    n = 64
    theta = 2 * np.pi * np.arange(n // 2 + 1) / n
    j = np.arange(n)
    f = np.exp(np.sin(2 * np.pi * j / n))
    shifts = np.array([0.0, 3.0, -2.0, 0.3, -4.7])
    G = spline_shift_symbol(shifts, theta)
    shifted = np.fft.irfft(np.fft.rfft(f)[None, :] * G, n, axis=1)
    np.testing.assert_allclose(shifted[0], f, atol=1e-14)          # no shift
    np.testing.assert_allclose(shifted[1], np.roll(f, -3), atol=1e-13)  # whole cells: exact
    np.testing.assert_allclose(shifted[2], np.roll(f, 2), atol=1e-13)
    for row, s in zip(shifted[3:], shifts[3:]):  # fourth order for a smooth function
        exact = np.exp(np.sin(2 * np.pi * (j + s) / n))
        np.testing.assert_allclose(row, exact, atol=2e-5)
    np.testing.assert_allclose(G[:, 0], 1.0, atol=1e-15)  # the mean (mass) is kept
    assert np.all(np.abs(G) <= 1.0 + 1e-12)  # stable: no mode grows


def test_initial_field_energy_is_eps2_L_over_4k2():
    # n = 1 + eps cos kx  ->  E = -(eps / k) sin kx,  W = eps^2 L / (4 k^2), all in mode k.
    v = np.linspace(-8, 12, 256, endpoint=False)
    for k, eps, n_b in [(0.3, 1e-4, 0.0), (0.5, 10**-1.5, 0.2), (0.37, 0.01, 0.1)]:
        L = 2 * math.pi / k
        x = L / 32 * np.arange(32)
        f0 = initial_distribution(x, v, k, eps, n_b, 4.0, 0.5)
        _, W, W1 = field_energy((v[1] - v[0]) * np.fft.rfft(f0, axis=0).sum(axis=1), k, L, 32)
        assert W == pytest.approx(eps**2 * L / (4 * k**2), rel=1e-10)
        assert W1 == pytest.approx(W, rel=1e-12)


def test_running_mean_keeps_exponential_slopes():
    t = np.linspace(0, 50, 2001)
    gamma, omega = -0.15, 1.4
    W = np.exp(2 * gamma * t) * np.cos(omega * t) ** 2
    centres = np.linspace(np.pi, 40, 30)
    m = running_mean(t, np.exp(2 * gamma * t), centres, 2 * np.pi)
    # A pure exponential is rescaled by sinh(gamma window) / (gamma window).
    np.testing.assert_allclose(m, np.exp(2 * gamma * centres) * math.sinh(2 * gamma * np.pi)
                               / (2 * gamma * np.pi), rtol=1e-4)
    beat = running_mean(t, W, centres, 2 * np.pi) / m
    assert np.all(np.abs(beat - 0.5) < 0.5 / (2 * np.pi * omega) * 1.2)


def test_conservation_laws_in_the_nonlinear_regime():
    # Largest bump and perturbation: growth, saturation, trapping by t = 60.
    problem = VlasovPoisson(n_x=32, n_v=256, t_final=60.0)
    params = [0.3, -1.5, 0.2, 4.0, 0.4]
    k = params[0]
    L = 2 * math.pi / k
    dx, dv = L / problem.n_x, problem.v[1] - problem.v[0]
    v = problem.v
    f0 = initial_distribution(dx * np.arange(problem.n_x), v, k, 10 ** params[1], *params[2:])
    t, W, W1, f = problem.history(params)
    assert W.max() > 10 * W[0]  # the instability grew (30x) and saturated

    def moments(f):
        field = field_energy(dv * np.fft.rfft(f, axis=0).sum(axis=1), k, L, problem.n_x)[1]
        return (f.sum() * dx * dv, (f * v).sum() * dx * dv,
                0.5 * (f * v**2).sum() * dx * dv + field, (f * f).sum() * dx * dv)

    (m0, p0, e0, l0), (m1, p1, e1, l1) = moments(f0), moments(f)
    assert m1 == pytest.approx(m0, rel=1e-13)             # mass: to rounding
    assert p1 == pytest.approx(p0, rel=1e-9)              # momentum (E has zero mean)
    # Total energy: Strang splitting, O(dt^2); 9e-4 measured, i.e. 5e-4 of the peak
    # field energy, which came out of the 42 units of kinetic energy.
    assert abs(e1 - e0) < 2e-3 * W.max()
    # L2 norm: the spline only damps filaments, never creates structure.
    assert l1 <= l0 and l1 > 0.9 * l0
    # W_1 is part of W.
    assert np.all(W1 <= W * (1 + 1e-12))


# --------------------------------------------------- parameters -> physics
def fitted_rate(problem, y, t0, t1):
    """gamma from the slope of log10 <W_1> (a pure exponential keeps 2 gamma)."""
    m = (problem.grid >= t0) & (problem.grid <= t1)
    return np.polyfit(problem.grid[m], y[m], 1)[0] * LN10 / 2.0


def peak_frequency(t, W, t0, t1):
    """omega_r from the spacing pi / omega_r of the maxima of W ~ e^(2 gamma t) cos^2."""
    logW = np.log(W)
    i = np.flatnonzero((logW[1:-1] > logW[:-2]) & (logW[1:-1] > logW[2:])) + 1
    a, b, c = logW[i - 1], logW[i], logW[i + 1]
    dt = t[2] - t[1]
    peaks = t[i] + 0.5 * dt * (a - c) / (a - 2 * b + c)  # parabola through 3 samples
    peaks = peaks[(peaks > t0) & (peaks < t1)]
    return math.pi / np.polyfit(np.arange(peaks.size), peaks, 1)[0]


@pytest.mark.parametrize("k", [0.3, 0.4, 0.5])
def test_k_sets_the_landau_damping_rate_and_frequency(k):
    problem = VlasovPoisson(**CHEAP)
    params = [k, -4.0, 0.0, 4.0, 0.7]
    omega = dominant_root(k, species_of(0.0, 0.0, 1.0))
    gamma = fitted_rate(problem, problem.solve(params), 10.0, 60.0)
    assert gamma == pytest.approx(omega.imag, abs=1e-3 + 0.01 * abs(omega.imag))
    t, _, W1, _ = problem.history(params)
    assert peak_frequency(t, W1, 5.0, 60.0) == pytest.approx(abs(omega.real), rel=2e-3)


@pytest.mark.parametrize("params, window", [
    ([0.3, -4.0, 0.1, 4.5, 0.5], (10.0, 40.0)),    # strong growth, saturates at t ~ 50
    ([0.4, -4.0, 0.1, 4.0, 0.6], (10.0, 50.0)),
    ([0.5, -4.0, 0.2, 3.0, 0.6], (10.0, 60.0)),    # dense slow bump, large k
    ([0.45, -4.0, 0.1, 4.5, 0.8], (10.0, 60.0)),   # near marginal stability
    ([0.5, -4.0, 0.1, 4.0, 1.0], (10.0, 60.0)),    # warm bump: damped, but 2.6x slower than Landau
])
def test_bump_parameters_set_the_growth_rate_of_the_dispersion_relation(params, window):
    problem = VlasovPoisson(**CHEAP)
    omega = dominant_root(params[0], species_of(*params[2:]))
    gamma = fitted_rate(problem, problem.solve(params), *window)
    assert gamma == pytest.approx(omega.imag, abs=1e-3 + 0.01 * abs(omega.imag))


def test_bump_temperature_switches_growth_to_damping_as_the_theory_says():
    # The regime change of the box: at k = 0.5 the phase velocity omega_r / k
    # ~ 2.8 lies on the rising slope of a bump at v_b = 4 with v_tb = 0.5
    # (growth, +0.057); a warm bump (v_tb = 1) has a shallower slope there that
    # no longer beats the core's Landau damping (-0.060).
    problem = VlasovPoisson(**CHEAP)
    fitted, theory = [], []
    for v_tb in (0.5, 1.0):
        params = [0.5, -4.0, 0.1, 4.0, v_tb]
        theory.append(dominant_root(0.5, species_of(0.1, 4.0, v_tb)).imag)
        fitted.append(fitted_rate(problem, problem.solve(params), 10.0, 60.0))
    assert theory[0] > 0.05 and theory[1] < -0.05
    np.testing.assert_allclose(fitted, theory, atol=2e-3)


def test_eps_scales_the_linear_output_and_drives_trapping():
    problem = VlasovPoisson(**CHEAP)
    # Linear regime: W_1 ~ eps^2, so log10 shifts by exactly 2 decades per decade of eps.
    for k in (0.3, 0.5):
        low = problem.solve([k, -4.0, 0.0, 4.0, 0.7])
        high = problem.solve([k, -3.0, 0.0, 4.0, 0.7])
        np.testing.assert_allclose(high - low, 2.0, atol=2e-3)
    # Nonlinear Landau damping (O'Neil 1965): at eps = 10^-1.5 the bounce
    # rate sqrt(eps) = 0.18 >> |gamma_L| = 0.0126 at k = 0.3, so trapping stops
    # the decay: late W_1 stays well above the linear prediction, which the
    # small-eps run follows.
    full = VlasovPoisson(n_x=32, n_v=256)
    gamma = dominant_root(0.3, species_of(0.0, 0.0, 1.0)).imag
    late = full.grid > 70.0
    excess = {}
    for log10_eps in (-4.0, -1.5):
        y = full.solve([0.3, log10_eps, 0.0, 4.0, 0.7])
        excess[log10_eps] = y - (y[0] + 2 * gamma / LN10 * (full.grid - full.grid[0]))
    # Small eps: linear decay, up to the residual plasma-period beat (< 0.2 decade).
    assert np.all(np.abs(excess[-4.0]) < 0.2)
    # Large eps: ~0.8 decade above it by t = 70-100.
    assert np.mean(excess[-1.5][late] - excess[-4.0][late]) > 0.5


def test_bump_shape_is_irrelevant_without_a_bump():
    quick = VlasovPoisson(**VlasovPoisson.quick)
    a = quick.solve([0.4, -3.0, 0.0, 3.0, 0.4])
    np.testing.assert_array_equal(quick.solve([0.4, -3.0, 0.0, 5.0, 1.0]), a)
    assert np.max(np.abs(quick.solve([0.4, -3.0, 0.05, 5.0, 1.0]) - a)) > 1e-3


# ------------------------------------------------------------ convergence
# Stated accuracy of the default output: 0.05 decade (12 % in W_1) over the
# whole history, against a reference with twice the resolution.  (n_x is
# justified by the offline study quoted in the module docstring: n_x = 32
# misses by 0.06 in the saturated bump corner; a test of it would double
# the cost of this file.)
TOLERANCE = 0.05


@pytest.mark.slow
def test_default_v_grid_and_time_step_are_converged_and_coarser_ones_are_not():
    # Nonlinear Landau damping at the strongly damped corner: W_1 falls by ten
    # decades, the harmonics filament fastest and the trapped electrons bounce.
    # Measured: default 0.015 decade from (n_v 1024, dt 0.05); n_v = 256
    # 0.39 (filaments of the harmonics feed back into mode k from t ~ 55);
    # dt = 0.2 0.081 (splitting error).
    params = [0.5, -1.5, 0.0, 4.0, 0.7]
    reference = VlasovPoisson(n_v=1024, dt=0.05).solve(params)

    def error(**options):
        return np.max(np.abs(VlasovPoisson(**options).solve(params) - reference))

    assert error() < TOLERANCE
    assert error(n_v=256) > 2 * TOLERANCE
    assert error(dt=0.2) > TOLERANCE
