"""The whole job on one problem, exactly once:
generate -> split (interpolation and edge) -> trusted box -> fit -> evaluate -> report.

The `surrogate run` command and the notebooks both call `run`; the smaller
commands (`surrogate train`, `surrogate evaluate`) call `fit_dataset` and
`evaluate_dataset`, its pieces.
"""
from __future__ import annotations

import pathlib
import time
import warnings
from dataclasses import dataclass, field

import problems

from .. import metrics
from .._files import probe_writable, remove_orphans
from ..model import Surrogate
from . import report as _report

#: Per-problem defaults of `run`: samples, network and training budget,
#: chosen so each run meets rel L2 <= 1e-2 (interpolation) within a few
#: minutes on two cores (see README). Unlisted problems use "*".
RUN_DEFAULTS = {
    "heat": {"n": 2000, "hidden": (16, 16), "epochs": 600, "lbfgs_iter": 1500},
    "schrodinger": {"n": 2000, "hidden": (32, 32), "epochs": 600, "lbfgs_iter": 1500},
    "pinch": {"n": 1000, "hidden": (64, 64), "epochs": 600, "lbfgs_iter": 1500},
    "burgers": {"n": 600, "hidden": (64, 64), "epochs": 800, "lbfgs_iter": 1500},
    # costly solvers (seconds each): fewer cases, each worth more
    "vlasov": {"n": 512, "hidden": (64, 64), "epochs": 1000, "lbfgs_iter": 2000},
    "euler": {"n": 256, "hidden": (64, 64), "epochs": 1000, "lbfgs_iter": 2000},
    "transport": {"n": 1000, "hidden": (64, 64), "epochs": 1000, "lbfgs_iter": 2000},
    "equilibrium": {"n": 512, "hidden": (64, 64), "epochs": 1000, "lbfgs_iter": 2000},
    "*": {"n": 1000, "hidden": (64, 64, 64), "epochs": 1000, "lbfgs_iter": 2000},
}
#: quick=True: a smoke test of the whole path in seconds; the numbers mean little.
QUICK = {"n": 80, "hidden": (16, 16), "epochs": 30, "lbfgs_iter": 30}

MIN_CASES = 20                     # fewer cannot be split into train, validation and two tests
EXTRAPOLATION_FRACTION = 0.1       # cases nearest the box edge, held out
SPLIT = (0.7, 0.15, 0.15)          # of the inside cases: train, validation, interpolation test


@dataclass
class RunResult:
    """What `run` made: the datasets, the fitted model, the held-out reports and the files."""

    problem: problems.Problem
    data: problems.Dataset          # every solved case
    train: problems.Dataset
    validation: problems.Dataset
    test: problems.Dataset          # interpolation: inside the trusted box
    edge: problems.Dataset          # extrapolation: the cases nearest the box's edge
    model: Surrogate
    report: dict                    # "interpolation" / "extrapolation" -> metrics.Report
    metrics: dict                   # what metrics.json holds
    paths: dict = field(default_factory=dict)   # name -> path of every file written
    seconds: float = 0.0


def resolve_problem(problem, quick=False):
    """A `problems.Problem` from a name, a 'module:attribute' reference or an instance.

    quick: a problem given by name is built with its class's `quick` options
    (a coarse solver, for smoke tests); an instance is used as it is.
    """
    if isinstance(problem, problems.Problem):
        return problem
    return problems.get(problem, quick=quick)


def defaults_for(problem_name, quick=False):
    """Samples, network and budget for `problem_name` (a copy of RUN_DEFAULTS' row, or QUICK)."""
    return dict(QUICK if quick else RUN_DEFAULTS.get(problem_name, RUN_DEFAULTS["*"]))


def model_metadata(data):
    """What a model keeps about the data it was fitted to."""
    units = [p.get("unit") for p in data.metadata.get("parameters", [])]
    return {"problem": data.metadata.get("problem"), "param_names": data.param_names,
            **({"param_units": units} if len(units) == len(data.param_names) else {}),
            "grid": data.grid.tolist(), "grid_name": data.grid_name, "grid_unit": data.grid_unit,
            "output_name": data.output_name, "output_unit": data.output_unit}


def fit_dataset(model, train, validation=None, box=None, progress="auto", say=None):
    """`model.fit` on Datasets; returns the model.

    say: news before the fit (the cases fitted and validated on) and after it
    (the time and, given `validation`, the relative L2 error on those cases).
    """
    if say:
        if validation is not None:
            cases = f"fitting on {len(train)} cases, validating on {len(validation)}"
        else:
            n_val = int(round(model.validation_fraction * len(train)))  # what Surrogate.fit holds out
            cases = (f"fitting on {len(train) - n_val} cases, validating on {n_val}"
                     if n_val >= 1 and len(train) - n_val >= 2 else f"fitting on {len(train)} cases, no validation")
        say(f"{cases}: {tuple(model.hidden)} {model.activation} network"
            + (f" x {model.ensemble}" if model.ensemble > 1 else "")
            + f", Adam <= {model.epochs} epochs, then L-BFGS <= {model.lbfgs_iter} iterations ...")
    model.fit(train.X, train.Y, validation=None if validation is None else (validation.X, validation.Y),
              metadata=model_metadata(train), box=box, progress=progress)
    if say:
        news = f"  done in {model.fit_seconds_:.1f} s"
        if validation is not None:
            err = metrics.rel_l2(y_true=validation.Y, y_pred=model.predict(validation.X, domain="ignore"))
            news += (f"; relative L2 error on the {len(validation)} validation cases: "
                     f"mean {err.mean():.3g}, max {err.max():.3g}")
        say(news)
    return model


def evaluate_dataset(model, data, extrapolating=False):
    """`metrics.evaluate` on a Dataset, with the solver's time per profile from its metadata."""
    solver = data.metadata.get("solver_seconds_per_profile")
    with warnings.catch_warnings():
        if extrapolating:  # these cases are outside the training box on purpose
            warnings.simplefilter("ignore", category=UserWarning)
        return metrics.evaluate(model, data.X, data.Y, solver_seconds_per_profile=solver or None)


def _writable_directory(out):
    """`out` as a directory that exists and can be written, checked before any work."""
    out = pathlib.Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"`out` = {str(out)!r} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    try:
        probe_writable(out)
    except OSError as exc:
        raise ValueError(f"`out` = {str(out)!r} is not writable ({exc.strerror})") from None
    remove_orphans(out)  # what a killed earlier run was writing: incomplete by definition
    return out


def run(problem, n=None, *, out=None, cache=None, seed=0, quick=False, workers=None, client=None,
        timeout=None, progress=None, say=None, **fit_options):
    """Solve, split, fit, evaluate and report, on one problem; returns a `RunResult`.

    problem     a problem name or a `problems.Problem`
    n           cases to solve (default per problem, `RUN_DEFAULTS`)
    out         a folder for data.npz, model.npz, report.md, metrics.json and
                the figures; None writes no files
    cache       a folder for finished solves, so a rerun solves only what is
                missing; default `out/cache/sobol_nN_seedS` (none when out is None)
    seed        seeds the Sobol design, the splits, the initial weights and the batches
    quick       tiny sizes (and the problem's coarse solver): a smoke test
    workers, client
                local processes or a Dask client, as in `problems.generate`
    timeout     seconds one solve may take before it is stopped and recorded
                as a failure, as in `problems.generate` (default None: no limit)
    progress    progress bars: True, False or None (when a step lasts)
    say         a function that takes one line of news, e.g. print; None is silent
    fit_options Surrogate options (hidden, epochs, lbfgs_iter, activation, ...),
                over the per-problem defaults; checked before anything is solved
    """
    t0 = time.perf_counter()
    problem = resolve_problem(problem, quick)
    config = defaults_for(problem.name, quick)
    default_n = config.pop("n")
    n = default_n if n is None else n
    if isinstance(n, int) and not isinstance(n, bool) and 0 < n < MIN_CASES:  # before solving any
        raise ValueError(f"`n` = {n} is too few: splitting and fitting need at least {MIN_CASES} cases")
    model = Surrogate(**{**config, "seed": seed, **fit_options})
    model.check_options()  # a typo in an option costs nothing: nothing is solved yet
    if out is not None:
        out = _writable_directory(out)
        if cache is None:
            cache = out / "cache" / f"sobol_n{n}_seed{seed}"  # one per design: a rerun reuses it
    say = say or (lambda *_: None)

    say(f"[1/4] solving {problem.name} at {n} Sobol points"
        + (f" (cached in {cache})" if cache is not None else "") + " ...")
    data = problems.generate(problem, n, method="sobol", seed=seed, workers=workers, client=client,
                             cache=cache, progress=progress, timeout=timeout)
    paths = {}
    if out is not None:
        paths["data"] = data.save(out / "data.npz")
    if len(data) < MIN_CASES:  # failed solves left too few
        raise ValueError(f"only {len(data)} cases were solved; use a larger `n` (got {n})")

    split = data.split_extrapolation(EXTRAPOLATION_FRACTION)
    inside, edge = split
    train, val, test = inside.split(SPLIT, seed=seed)
    say(f"[2/4] {len(train)} training, {len(val)} validation, {len(test)} interpolation-test, "
        f"{len(edge)} extrapolation-test cases")
    fit_dataset(model, train, val, box=split.trusted_box, say=say,
                progress="auto" if progress is None else progress)
    if out is not None:
        paths["model"] = model.save(out / "model.npz")

    say("[3/4] evaluating on held-out cases ...")
    reports = {"interpolation": evaluate_dataset(model, test),
               "extrapolation": evaluate_dataset(model, edge, extrapolating=True)}
    extra = {"problem": problem.name, "description": problem.description, "n_profiles": len(data),
             "n_interpolation_test": len(test), "n_extrapolation_test": len(edge),
             "extrapolation_edge_threshold": edge.metadata["extrapolation"]["threshold"],
             "quick": bool(quick)}
    doc = _report.metrics_document(model, reports, extra)
    doc["total_seconds"] = time.perf_counter() - t0
    if out is not None:
        say("[4/4] writing plots and report ...")
        paths.update(_report.write_report(out, f"Surrogate for `{problem.name}`", model, reports,
                                          {"interpolation": test, "extrapolation": edge}, doc))
    return RunResult(problem, data, train, val, test, edge, model, reports, doc, paths,
                     time.perf_counter() - t0)
