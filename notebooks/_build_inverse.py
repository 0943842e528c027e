"""Build the inverse-problem notebook, and optionally execute it.

    python notebooks/_build_inverse.py            # write notebooks/inverse.ipynb (no outputs)
    python notebooks/_build_inverse.py --execute  # ... and run it with nbclient, saving outputs

Committed executed in full mode; `tests/test_notebooks.py` reruns it with SURROGATE_QUICK=1.
"""
import argparse
import os
import sys
import time

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from _build import HERE, execute


def cells():
    c = []
    c.append(new_markdown_cell("""# An inverse problem: which parameters made this profile?

A "measured" Burgers profile u(x, t = 1) (a solver output plus seeded noise)
is given; the viscosity and the initial wave that produced it are not. We
recover them by nonlinear least squares, twice:

* through a **surrogate**, whose `Surrogate.jacobian` gives the exact
  derivatives of the profile with respect to the parameters;
* through the **solver** itself, with a finite-difference Jacobian (every
  iteration costs d + 1 solves of ~0.1 s).

Both report the parameters with uncertainties from the Jacobian J at the
optimum: with residual variance s^2 = |r|^2 / (m - d), the covariance is
s^2 (J^T J)^-1 (the Gauss-Newton approximation, exact for a model linear
near the optimum). Set `SURROGATE_QUICK=1` to run it in seconds with tiny
sizes and a coarse solver (the tests do); the numbers then mean little."""))
    c.append(new_code_cell("""%matplotlib inline
import os
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from scipy.optimize import least_squares

warnings.filterwarnings("ignore", message="IProgress not found")

import problems
from surrogate.workflow import run

QUICK_MODE = os.environ.get("SURROGATE_QUICK", "0") == "1"  # tiny sizes, coarse solver: a smoke test
print("quick mode" if QUICK_MODE else "full run")"""))
    c.append(new_markdown_cell("""## The surrogate: `surrogate.workflow.run`

The same pipeline and defaults as `surrogate run burgers`: Sobol points over
the box, solved in parallel, a network fitted and judged on held-out cases.
Its cost is paid once, before any measurement."""))
    c.append(new_code_cell("""# quick mode: a coarse solver (32 points, loose tolerances) so the smoke test takes seconds
problem = problems.get("burgers", **({"n_grid": 32, "n_points": 64, "rtol": 1e-5, "atol": 1e-7} if QUICK_MODE else {}))
result = run(problem, quick=QUICK_MODE, workers=2, progress=False)
problem, model, data = result.problem, result.model, result.data
names = data.param_names
units = [p.unit for p in problem.parameters]
solver_seconds = data.metadata["solver_seconds_per_profile"]
interp = result.report["interpolation"]
print(model)
print(f"{len(data)} solves ({solver_seconds:.3f} s each), fit in {model.fit_seconds_:.1f} s; "
      f"held-out rel. L2 error {np.mean(interp.rel_l2):.1e} (mean), {np.max(interp.rel_l2):.1e} (max)")"""))
    c.append(new_markdown_cell("""## The measurement

A solver profile at parameters the fit does not know, plus Gaussian noise of
1% of the profile's amplitude (seeded, so the notebook is reproducible)."""))
    c.append(new_code_cell("""theta_true = np.array([-2.2, 0.31, 0.12, 2.0])  # log10_nu, a1, a2, phi2
rng = np.random.default_rng(2024)
u_clean = problem.solve(theta_true)
sigma_noise = 0.01 * np.abs(u_clean).max()
u_meas = u_clean + sigma_noise * rng.standard_normal(u_clean.size)
x = problem.grid
theta0 = 0.5 * (model.guard_.lower + model.guard_.upper)  # start from the middle of the box
plt.figure(figsize=(7, 3.5))
plt.plot(x, u_meas, ".", ms=3, label="measured (solver + noise)")
plt.plot(x, problem.solve(theta0), "--", label="start: the box centre")
plt.xlabel(f"{problem.grid_name} [{problem.grid_unit}]"); plt.ylabel(problem.output_name); plt.legend()
plt.title("What we are given");"""))
    c.append(new_markdown_cell("""## Fit through the surrogate

Residual r(theta) = predict(theta) - u_meas, Jacobian dr/dtheta =
`model.jacobian(theta)`, bounded by the box the surrogate was trained on."""))
    c.append(new_code_cell("""def with_uncertainty(fit, m):
    \"\"\"Standard deviations of the fitted parameters: s^2 (J^T J)^-1 at the optimum.\"\"\"
    s2 = 2.0 * fit.cost / (m - fit.x.size)
    cov = s2 * np.linalg.inv(fit.jac.T @ fit.jac)
    return np.sqrt(np.diag(cov)), cov

t0 = time.perf_counter()
fit_s = least_squares(lambda th: model.predict(th) - u_meas, theta0, jac=lambda th: model.jacobian(th),
                      bounds=(model.guard_.lower, model.guard_.upper), x_scale="jac")
seconds_s = time.perf_counter() - t0
sd_s, cov_s = with_uncertainty(fit_s, u_meas.size)
print(f"surrogate fit: {seconds_s:.3f} s, {fit_s.nfev} predictions, {fit_s.njev} Jacobians, {fit_s.message}")
for n, v, s in zip(names, fit_s.x, sd_s):
    print(f"  {n:9s} = {v: .5f} +- {s:.5f}")"""))
    c.append(new_markdown_cell("""## Fit through the solver

The same least squares on the solver, with a two-point finite-difference
Jacobian: d + 1 = 5 solves per iteration. (In quick mode the coarse solver
and two iterations keep this to seconds.)"""))
    c.append(new_code_cell("""solves = 0

def solver_residual(th):
    global solves
    solves += 1
    return problem.solve(th) - u_meas

t0 = time.perf_counter()
fit_f = least_squares(solver_residual, theta0, jac="2-point", bounds=(problem.lower, problem.upper),
                      x_scale="jac", max_nfev=2 if QUICK_MODE else None)
seconds_f = time.perf_counter() - t0
sd_f, cov_f = with_uncertainty(fit_f, u_meas.size)
print(f"solver fit: {seconds_f:.1f} s, {solves} solves, {fit_f.message}")
for n, v, s in zip(names, fit_f.x, sd_f):
    print(f"  {n:9s} = {v: .5f} +- {s:.5f}")"""))
    c.append(new_markdown_cell("## The two fits side by side"))
    c.append(new_code_cell("""z = np.abs(fit_s.x - fit_f.x) / sd_f
rows = [f"| `{n}` | {u or '-'} | {t:.4f} | {a:.4f} +- {sa:.4f} | {b:.4f} +- {sb:.4f} | {zz:.2f} |"
        for n, u, t, a, sa, b, sb, zz in zip(names, units, theta_true, fit_s.x, sd_s, fit_f.x, sd_f, z)]
display(Markdown(
    "| parameter | unit | true | surrogate fit | solver fit | difference / solver sigma |\\n"
    "|---|---|---:|---:|---:|---:|\\n" + "\\n".join(rows) +
    f"\\n\\n| | surrogate | solver |\\n|---|---:|---:|\\n"
    f"| wall time of the fit | {seconds_s:.3f} s | {seconds_f:.1f} s |\\n"
    f"| model evaluations | {fit_s.nfev} predictions + {fit_s.njev} Jacobians | {solves} solves |\\n"
    f"| residual rms / noise | {np.sqrt(2 * fit_s.cost / u_meas.size) / sigma_noise:.3f} "
    f"| {np.sqrt(2 * fit_f.cost / u_meas.size) / sigma_noise:.3f} |\\n"
    f"\\nThe surrogate fit costs {seconds_f / seconds_s:,.0f}x less wall time than the solver fit "
    f"(not counting the {len(data)} solves and the fit that made the surrogate, paid once); "
    f"every surrogate parameter lies within 2 sigma of the solver fit's: {bool(np.all(z <= 2))}."))"""))
    c.append(new_code_cell("""fig, axes = plt.subplots(1, 2, figsize=(11, 3.5))
axes[0].plot(x, u_meas, ".", ms=3, color="0.6", label="measured")
axes[0].plot(x, problem.solve(fit_f.x), label="solver at the solver fit")
axes[0].plot(x, model.predict(fit_s.x), "--", label="surrogate at the surrogate fit")
axes[0].set_xlabel(f"{problem.grid_name} [{problem.grid_unit}]"); axes[0].set_ylabel(problem.output_name)
axes[0].legend(fontsize=8)
axes[1].plot(x, (problem.solve(fit_s.x) - u_meas) / sigma_noise, ".", ms=3, label="solver at the surrogate fit")
axes[1].plot(x, (problem.solve(fit_f.x) - u_meas) / sigma_noise, ".", ms=3, label="solver at the solver fit")
axes[1].set_xlabel(f"{problem.grid_name} [{problem.grid_unit}]"); axes[1].set_ylabel("residual / noise sigma")
axes[1].legend(fontsize=8)
fig.tight_layout()"""))
    c.append(new_code_cell("""fig, axes = plt.subplots(1, len(names), figsize=(11, 2.8))
for q, ax in enumerate(axes):
    ax.errorbar([0], [fit_s.x[q]], yerr=[2 * sd_s[q]], fmt="o", capsize=4, label="surrogate, 2 sigma")
    ax.errorbar([1], [fit_f.x[q]], yerr=[2 * sd_f[q]], fmt="s", capsize=4, label="solver, 2 sigma")
    ax.axhline(theta_true[q], color="k", lw=0.8, label="true")
    ax.set_xticks([0, 1], ["surr.", "solver"]); ax.set_title(names[q]); ax.set_xlim(-0.7, 1.7)
axes[0].legend(fontsize=7)
fig.tight_layout()"""))
    c.append(new_markdown_cell("""Correlations between the parameters, from the surrogate's covariance:
nearby ellipses in parameter space that fit the data equally well show up
as entries near +-1."""))
    c.append(new_code_cell("""corr = cov_s / np.outer(sd_s, sd_s)
plt.figure(figsize=(4, 3.4))
plt.imshow(corr, vmin=-1, vmax=1, cmap="RdBu_r")
plt.xticks(range(len(names)), names, rotation=45); plt.yticks(range(len(names)), names)
plt.colorbar(label="correlation"); plt.title("surrogate fit: parameter correlations");"""))
    return c


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="run the notebook and keep outputs")
    args = parser.parse_args(argv)
    nb = new_notebook(cells=cells())
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    if args.execute:
        t0 = time.perf_counter()
        execute(nb, timeout=3600)
        print(f"inverse: executed in {time.perf_counter() - t0:.0f} s "
              f"({'quick' if os.environ.get('SURROGATE_QUICK') == '1' else 'full'})", file=sys.stderr)
    nbformat.write(nb, HERE / "inverse.ipynb")
    return 0


if __name__ == "__main__":
    sys.exit(main())
