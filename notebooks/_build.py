"""Build the per-problem notebooks from one template, and optionally execute them.

    python notebooks/_build.py            # write notebooks/<problem>.ipynb (no outputs)
    python notebooks/_build.py --execute  # ... and run each with nbclient, saving outputs

The committed notebooks are executed in full (non-quick) mode so a reader
sees real plots; `tests/test_notebooks.py` reruns them with SURROGATE_QUICK=1.
"""
import argparse
import os
import pathlib
import sys
import time

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = pathlib.Path(__file__).resolve().parent
PROBLEMS = ("heat", "burgers", "pinch", "schrodinger", "vlasov", "euler", "transport", "equilibrium")

# A physicist's reason to want each surrogate, shown under the title.
INTRO = {
    "heat": "Steady parallel heat conduction along a plasma-edge field line with Spitzer "
            "conductivity, kappa ~ T^(5/2): the kind of profile a transport code asks for "
            "thousands of times per time step.",
    "burgers": "Viscous Burgers flow from a two-mode initial condition: a steepening front "
               "whose sharpness is set by the viscosity, the hardest field here for a smooth network.",
    "pinch": "The safety-factor profile q(r) of a large-aspect-ratio screw pinch for given "
             "current and pressure profiles: what an equilibrium scan needs at every point.",
    "schrodinger": "The ground-state wavefunction in an anharmonic, possibly double and tilted, "
                   "well: an eigenvalue solve per parameter point.",
    "vlasov": "The field-energy history of a collisionless plasma wave, from a kinetic "
              "(Vlasov-Poisson) simulation in phase space: Landau damping for a Maxwellian, growth "
              "and trapping saturation when a beam makes the distribution unstable. Each solve "
              "costs seconds, so every case spent on training counts.",
    "euler": "The density behind a strong shock running into a gas whose density ripples "
             "(the Shu-Osher problem): the shock compresses and amplifies the ripples and sheds "
             "sound waves. A high-order shock-capturing solve costs seconds; the shock front is "
             "a discontinuity whose position moves with the parameters.",
    "transport": "The central electron temperature of a tokamak core after an ECRH beam is "
                 "switched on, from a radial transport model with a stiff critical-gradient "
                 "heat flux: the problem class that neural flux models serve inside transport codes.",
    "equilibrium": "The poloidal flux of a tokamak plasma in equilibrium (fixed-boundary "
                   "Grad-Shafranov) for a shaped boundary and a current profile, seen along the "
                   "midplane: the Shafranov shift of the magnetic axis and the spacing of the flux "
                   "surfaces. A converged finite-element solve with a nonlinear (Picard) iteration "
                   "costs one to a few seconds; equilibrium reconstruction and scenario scans need "
                   "thousands.",
}

# What the physics leads us to expect of each surrogate's errors; the notebook then
# measures it (rank correlation of the error with each parameter, the worst cases).
STRUGGLES = {
    "heat": "larger errors where a strong, narrow source meets a cold wall, since the "
            "profile steepens there (T^(5/2) conductivity is weakest where T is low).",
    "burgers": "larger errors towards small viscosity, where the front is steepest and a "
               "smooth network needs more modes to follow it.",
    "pinch": "small errors everywhere: q(r) is an integral of smooth profiles.",
    "schrodinger": "larger errors in the double-well part of the box, where the ground state "
                   "splits between two wells and its shape changes fastest with the tilt.",
    "vlasov": "larger errors near the boundary between damping and growth, where the late-time "
              "field energy changes by many decades between neighbouring parameter points, and "
              "for saturated, trapping-dominated histories, whose oscillations shift in phase "
              "with the parameters.",
    "euler": "larger errors at high Mach number and large, short ripples, and all of it "
             "concentrated at the shock front: a smooth network smears a discontinuity, and "
             "its position moves with the Mach number and the adiabatic index.",
    "transport": "larger errors for narrow on-axis beams at high stiffness, whose central "
                 "temperature rises fastest and is pinned by the critical gradient soonest.",
    "equilibrium": "small errors overall (psi_N is a smooth, bounded function of the shape), largest "
                   "towards a circular boundary (kappa -> 1), where psi_N responds most to the shape: "
                   "at mid-box, d psi_N / d kappa at mid-radius is ~6x larger at kappa = 1 than at 2 "
                   "and bends ~9x more (the midplane profile saturates for elongated plasmas), so a "
                   "smooth network fitted to the whole box is stretched there; along the grid, largest "
                   "at mid-radius (|s| ~ 0.4), where the current peaking and the shape set the "
                   "flux-surface spacing, and zero at the boundary, where psi_N = 1 by construction.",
}


def cells(problem):
    c = []
    c.append(new_markdown_cell(f"""# Surrogate for `{problem}`

{INTRO[problem]}

This notebook solves the problem at sampled parameter points, trains a
`surrogate.Surrogate` on part of them, and judges it on cases it never saw:
an **interpolation** test set (inside the training box) and an
**extrapolation** test set (the 10% of cases nearest the edge of the
parameter box, held out before training). Set `SURROGATE_QUICK=1` in the
environment to run it in seconds with tiny sizes (the tests do)."""))
    c.append(new_code_cell(f"""%matplotlib inline
import os
import warnings

import numpy as np
from IPython.display import Markdown, display

warnings.filterwarnings("ignore", message="IProgress not found")  # no widgets needed: progress is off

import problems
from surrogate import Surrogate, plotting
from surrogate.workflow import run

PROBLEM = "{problem}"
QUICK_MODE = os.environ.get("SURROGATE_QUICK", "0") == "1"  # tiny sizes, coarse solver: a smoke test
print("quick mode" if QUICK_MODE else "full run")"""))
    c.append(new_markdown_cell("## The problem and its parameter box"))
    c.append(new_code_cell("""problem = problems.get(PROBLEM)
rows = [f"| `{p.name}` | {p.lower:g} | {p.upper:g} | {p.unit or '-'} | {p.description} |"
        for p in problem.parameters]
display(Markdown(f"**{problem.description}**\\n\\n"
                 f"Output: {problem.output_name} on {problem.grid.size} points of {problem.grid_name}.\\n\\n"
                 "| parameter | lower | upper | unit | meaning |\\n|---|---:|---:|---|---|\\n" + "\\n".join(rows)))"""))
    c.append(new_markdown_cell(f"""## Solve, split, fit, evaluate: `surrogate.workflow.run`

The same pipeline as `surrogate run {problem}`, with the same defaults: Sobol
points over the box, solved in parallel; the 10% of cases nearest the box's
edge held out as the **extrapolation** test; the rest split into training,
validation and **interpolation** test; Adam with cosine decay and early
stopping on the validation set, then an L-BFGS polish that keeps the best
validation cost."""))
    c.append(new_code_cell("""# SURROGATE_CACHE: a folder of finished solves to reuse (what `surrogate run` leaves in OUT/PROBLEM/cache/...)
result = run(PROBLEM, quick=QUICK_MODE, workers=2, progress=False, cache=os.environ.get("SURROGATE_CACHE"))
data, train, test, edge, model = result.data, result.train, result.test, result.edge, result.model
solver_seconds = data.metadata["solver_seconds_per_profile"]
lower, upper = data.box()
print(data)
print(f"solver: {solver_seconds:.3e} s per profile, {data.metadata['n_failed']} failed solves")
print(f"{len(train)} training, {len(result.validation)} validation, {len(test)} interpolation-test, "
      f"{len(edge)} extrapolation-test cases")
print(model)
print(f"fit in {model.fit_seconds_:.1f} s on {model.n_train_} cases")
plotting.plot_loss(model.history_)"""))
    c.append(new_markdown_cell("## Held-out errors"))
    c.append(new_code_cell("""interp, extrap = result.report["interpolation"], result.report["extrapolation"]
rows = [f"| {label} | {a} | {b} |" for (label, a), (_, b) in zip(interp.rows(), extrap.rows())]
display(Markdown("| | interpolation | extrapolation |\\n|---|---:|---:|\\n" + "\\n".join(rows)))"""))
    c.append(new_markdown_cell("## Surrogate against solver\n\nBest, median and worst held-out "
                               "cases; the lower panels show the pointwise error."))
    c.append(new_code_cell("""pred = model.predict(test.X)
units = dict(grid_label=test.grid_name, grid_unit=test.grid_unit, value_label=test.output_name,
             value_unit=test.output_unit, param_names=data.param_names, param_units=data.param_units)
plotting.plot_profiles(test.grid, test.Y, pred, rel_l2=interp.rel_l2, X=test.X, title=f"{PROBLEM}: interpolation",
                       **units)"""))
    c.append(new_code_cell("""pred_edge = model.predict(edge.X, domain="ignore")
plotting.plot_profiles(edge.grid, edge.Y, pred_edge, rel_l2=extrap.rel_l2, X=edge.X,
                       title=f"{PROBLEM}: extrapolation", **units)"""))
    c.append(new_markdown_cell("Where in the box, and where along the grid, is the surrogate weakest?"))
    c.append(new_code_cell("""plotting.plot_error_vs_parameters(
    np.vstack([test.X, edge.X]), np.concatenate([interp.rel_l2, extrap.rel_l2]), data.param_names,
    param_units=data.param_units, groups=["interpolation"] * len(test) + ["extrapolation"] * len(edge),
    title=f"{PROBLEM}: held-out error across the box")"""))
    c.append(new_code_cell("""plotting.plot_error_along_grid(
    test.grid, {"interpolation": interp.error_per_point, "extrapolation": extrap.error_per_point},
    grid_label=test.grid_name, grid_unit=test.grid_unit, value_label=test.output_name,
    value_unit=test.output_unit, title=f"{PROBLEM}: error along the grid")"""))
    c.append(new_markdown_cell(f"""## Where it struggles, and why

What the physics leads us to expect: {STRUGGLES[problem]}

The cell below measures it: the rank correlation of each held-out case's error with each
parameter, and the parameters of the five worst cases."""))
    c.append(new_code_cell("""from scipy.stats import spearmanr

cases = np.vstack([test.X, edge.X])
errors = np.concatenate([interp.rel_l2, extrap.rel_l2])
rows = [f"| `{name}` | {spearmanr(cases[:, j], errors).statistic:+.2f} |"
        for j, name in enumerate(data.param_names)]
worst = np.argsort(errors)[::-1][:5]
table = "\\n".join(f"| {errors[i]:.2e} | " + " | ".join(f"{v:.3g}" for v in cases[i]) + " |" for i in worst)
display(Markdown("| parameter | rank correlation with the error |\\n|---|---:|\\n" + "\\n".join(rows)
                 + "\\n\\n| worst rel. L2 | " + " | ".join(data.param_names) + " |\\n|---:|"
                 + "---:|" * len(data.param_names) + "\\n" + table))"""))
    c.append(new_markdown_cell("## Timing: what the surrogate saves"))
    c.append(new_code_cell("""def fmt(s):
    return f"{s:.2e} s"

display(Markdown(
    "| | seconds per profile | speed-up |\\n|---|---:|---:|\\n"
    f"| solver (one process) | {fmt(solver_seconds)} | 1x |\\n"
    f"| surrogate, batched | {fmt(interp.surrogate_seconds_per_profile_batched)} | {interp.speedup_per_profile:,.0f}x |\\n"
    f"| surrogate, one at a time | {fmt(interp.surrogate_seconds_per_profile_single)} | {interp.speedup_single:,.0f}x |\\n"
    f"\\nTraining cost: {len(data)} solves ({len(data) * solver_seconds:.1f} s of solver time) "
    f"and a {model.fit_seconds_:.1f} s fit."))"""))
    c.append(new_markdown_cell("## The domain guard\n\nAsked about a point outside the box it was "
                               "trained on, the surrogate says so, naming the input and the distance."))
    c.append(new_code_cell("""outside = 0.5 * (lower + upper)
outside[0] = upper[0] + 0.2 * (upper[0] - lower[0])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    model.predict(outside)
print(caught[0].message)"""))
    c.append(new_markdown_cell("## Save, load, predict the same\n\nOne pickle-free file; the loaded "
                               "model predicts bit for bit the same."))
    c.append(new_code_cell("""import pathlib, tempfile

path = pathlib.Path(tempfile.mkdtemp()) / f"{PROBLEM}.npz"
model.save(path)
same = np.array_equal(Surrogate.load(path).predict(test.X), pred)
print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB, identical predictions after load: {same}")"""))
    return c


def build(problem):
    nb = new_notebook(cells=cells(problem))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def execute(nb, timeout=900):
    from nbclient import NotebookClient
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(HERE)}}).execute()
    return nb


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="run each notebook and keep outputs")
    parser.add_argument("problems", nargs="*", default=PROBLEMS)
    args = parser.parse_args(argv)
    for problem in args.problems:
        nb = build(problem)
        if args.execute:
            t0 = time.perf_counter()
            execute(nb)
            print(f"{problem}: executed in {time.perf_counter() - t0:.0f} s "
                  f"({'quick' if os.environ.get('SURROGATE_QUICK') == '1' else 'full'})", file=sys.stderr)
        nbformat.write(nb, HERE / f"{problem}.ipynb")
    return 0


if __name__ == "__main__":
    sys.exit(main())
