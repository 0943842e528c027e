"""The `surrogate` command: the only place that joins `problems` and `surrogate`.

    surrogate problems                       list problems and their parameter boxes
    surrogate generate PROBLEM -n N --out data.npz
    surrogate train DATA.npz --out model.npz
    surrogate evaluate MODEL DATA --out DIR
    surrogate run [PROBLEM]                  all of it, with a report folder

A user error (unknown problem, missing file, bad option value) prints one
line to stderr and exits with status 2; progress goes to stderr, results to
stdout.
"""
import argparse
import json
import os
import pathlib
import sys
import time
import warnings

from . import io, metrics
from .model import Surrogate

DEFAULT_PROBLEM = "heat"

#: Per-problem defaults of `surrogate run`: samples, network and training
#: budget, chosen so each run meets rel L2 <= 1e-2 (interpolation) within a
#: few minutes on two cores (see README). Unlisted problems use "*".
RUN_DEFAULTS = {
    "heat": {"n": 2000, "hidden": (16, 16), "epochs": 600, "lbfgs_iter": 1500},
    "schrodinger": {"n": 2000, "hidden": (32, 32), "epochs": 600, "lbfgs_iter": 1500},
    "pinch": {"n": 1000, "hidden": (64, 64), "epochs": 600, "lbfgs_iter": 1500},
    "burgers": {"n": 600, "hidden": (64, 64), "epochs": 800, "lbfgs_iter": 1500},
    "*": {"n": 1000, "hidden": (64, 64, 64), "epochs": 1000, "lbfgs_iter": 2000},
}
#: --quick: a smoke test of the whole path in seconds; the numbers mean little.
QUICK = {"n": 80, "hidden": (16, 16), "epochs": 30, "lbfgs_iter": 30}

EXTRAPOLATION_FRACTION = 0.1       # cases nearest the box edge, held out
SPLIT = (0.7, 0.15, 0.15)          # of the inside cases: train, validation, interpolation test


class UserError(Exception):
    """A mistake in the command line or its files: one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints usage + message; we want one line
        raise UserError(f"{self.prog}: {message} (see `{self.prog} --help`)")


def _say(*parts):
    print(*parts, file=sys.stderr, flush=True)


# -- argument types -----------------------------------------------------------

def _int_at_least(minimum):
    """An argparse type: an integer >= `minimum`."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer >= {minimum}, got {text!r}")
        return value
    return parse


_positive_int, _non_negative_int = _int_at_least(1), _int_at_least(0)


def _fraction(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < 0.9:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 0.9), got {text!r}")
    return value


def _widths(text):
    try:
        widths = tuple(int(w) for w in text.split(","))
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"must be comma-separated positive widths like 64,64, got {text!r}")
    return widths


def _problems():
    import problems  # late: `surrogate --help` should not pay for scipy solvers
    return problems


def _get_problem(name):
    pb = _problems()
    if name not in pb.names():
        raise UserError(f"unknown problem {name!r}; choose one of: {', '.join(pb.names())}")
    return pb.get(name)


def _load_dataset(path):
    path = pathlib.Path(path)
    if not path.is_file():
        raise UserError(f"data file {str(path)!r} not found")
    try:
        return _problems().Dataset.load(path)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _load_model(path):
    try:
        return Surrogate.load(path)
    except io.ModelFileError as exc:
        raise UserError(str(exc)) from None


def _model_options(args, defaults):
    hidden = args.hidden or defaults["hidden"]
    return {"hidden": hidden, "activation": args.activation, "seed": args.seed,
            "epochs": args.epochs or defaults["epochs"],
            "lbfgs_iter": defaults["lbfgs_iter"] if args.lbfgs_iter is None else args.lbfgs_iter,
            "threads": args.threads}


def _defaults_for(problem_name, quick):
    return dict(QUICK if quick else RUN_DEFAULTS.get(problem_name, RUN_DEFAULTS["*"]))


def _fit(train, val, options, box=None, progress="auto"):
    meta = {"problem": train.metadata.get("problem"), "param_names": train.param_names,
            "grid": train.grid.tolist(), "grid_name": train.grid_name, "grid_unit": train.grid_unit,
            "output_name": train.output_name, "output_unit": train.output_unit}
    model = Surrogate(**options)
    _say(f"fitting {model.hidden} {model.activation} network on {len(train)} cases "
         f"(Adam <= {model.epochs} epochs, then L-BFGS <= {model.lbfgs_iter} iterations) ...")
    model.fit(train.X, train.Y, validation=None if val is None else (val.X, val.Y),
              metadata=meta, box=box, progress=progress)
    _say(f"  done in {model.fit_seconds:.1f} s")
    return model


def _evaluate(model, data, extrapolating=False):
    solver = data.metadata.get("solver_seconds_per_sample")
    with warnings.catch_warnings():
        if extrapolating:  # these cases are outside the training box on purpose
            warnings.simplefilter("ignore", category=UserWarning)
        return metrics.evaluate(model, data.X, data.Y, solver_seconds_per_profile=solver or None)


def _summary(report):
    d = report.to_dict()
    for key in ("rel_l2", "error_per_point"):  # per-sample/per-point arrays go in the plots
        d.pop(key)
    return d


def _plots(out, model, data, report, tag):
    from . import plotting  # matplotlib: loaded only when there is something to draw
    pred = model.predict(data.X, domain="ignore")
    files = {}
    files[f"profiles_{tag}"] = plotting.plot_profiles(
        data.grid, data.Y, pred, rel_l2=report.rel_l2, grid_label=data.grid_name or "x",
        value_label=data.output_name or "u", title=f"{tag}: surrogate vs solver",
        path=out / f"profiles_{tag}.png")
    files[f"error_vs_parameters_{tag}"] = plotting.plot_error_vs_parameters(
        data.X, report.rel_l2, data.param_names, path=out / f"error_vs_parameters_{tag}.png")
    files[f"error_along_grid_{tag}"] = plotting.plot_error_along_grid(
        data.grid, report.error_per_point, grid_label=data.grid_name or "x",
        path=out / f"error_along_grid_{tag}.png")
    return [f"{name}.png" for name in files]


def _md_table(reports):
    names = list(reports)
    rows = [r for r, _ in reports[names[0]].rows()]
    values = {n: dict(reports[n].rows()) for n in names}
    lines = ["| measure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    lines += [f"| {r} | " + " | ".join(values[n][r] for n in names) + " |" for r in rows]
    return "\n".join(lines)


def _write_report(out, title, model, reports, sets, extra):
    """report.md and the PNGs for `reports` (name -> Report) in `out`; returns the metrics."""
    from . import plotting
    out.mkdir(parents=True, exist_ok=True)
    pngs = []
    for name, rep in reports.items():
        pngs += _plots(out, model, sets[name], rep, name)
    plotting.plot_loss(model.history, path=out / "loss.png")
    pngs.append("loss.png")
    first = next(iter(reports.values()))
    doc = {**extra, **{name: _summary(rep) for name, rep in reports.items()},
           "speedup_per_profile": first.speedup_per_profile,
           "solver_seconds_per_profile": first.solver_seconds_per_profile,
           "surrogate_seconds_per_profile": first.surrogate_seconds_per_profile_batched,
           "fit_seconds": model.fit_seconds, "model": model.get_params(),
           "n_train": model.n_train, "n_validation": model.n_val}
    md = [f"# {title}", ""]
    if extra.get("description"):
        md += [extra["description"], ""]
    md += [f"Network {list(model.hidden)} ({model.activation}), {model.basis.shape[0]} output PCA modes; "
           f"trained on {model.n_train} cases, validated on {model.n_val}, fit in {model.fit_seconds:.1f} s. "
           + " ".join(f"{name}: {rep.n_samples} held-out cases." for name, rep in reports.items()), "",
           "Solver time is one process per profile; surrogate time is `predict` on one thread, "
           "batched (10 000 profiles: the held-out inputs, repeated) or one case per call.", "",
           _md_table(reports), ""]
    md += [f"![{p[:-4]}]({p})" for p in pngs]
    (out / "report.md").write_text("\n".join(md) + "\n", encoding="utf-8")
    return doc


def _write_metrics(out, doc):
    """metrics.json, written whole or not at all (temporary file, then rename)."""
    tmp = out / ".metrics.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out / "metrics.json")


def _out_file(path):
    """--out as a path whose directory exists, or a UserError."""
    out = pathlib.Path(path)
    if not out.parent.is_dir():
        raise UserError(f"--out: directory {str(out.parent)!r} does not exist")
    return out


# -- commands -------------------------------------------------------------------

def cmd_problems(args):
    pb = _problems()
    for name in pb.names():
        p = pb.get(name)
        print(f"{name}: {p.description}")
        print(f"  profile: {p.output_name} [{p.output_unit or '-'}] on {p.grid.size} points of "
              f"{p.grid_name} [{p.grid_unit or '-'}]")
        for par in p.parameters:
            print(f"  {par.name:<18} [{par.lower:g}, {par.upper:g}]  {par.unit or '-':<22} {par.description}")
        print()
    return 0


def cmd_generate(args):
    problem = _get_problem(args.problem)
    out = _out_file(args.out)
    methods = _problems().sampling.METHODS
    if args.method not in methods:
        raise UserError(f"argument --method: unknown sampling method {args.method!r}; choose one of {', '.join(methods)}")
    _say(f"solving {problem.name} at {args.n} {args.method} points ...")
    data = _problems().generate(problem, args.n, method=args.method, seed=args.seed,
                                workers=args.workers, cache=args.cache, progress=True)
    data.save(out)
    print(f"wrote {out}: {len(data)} cases ({data.metadata.get('n_failed', 0)} failed), "
          f"solver {data.metadata['solver_seconds_per_sample']:.3g} s/profile")
    return 0


def cmd_train(args):
    data = _load_dataset(args.data)
    out = _out_file(args.out)
    defaults = _defaults_for(data.metadata.get("problem"), args.quick)
    options = _model_options(args, defaults)
    options["validation_fraction"] = args.validation_fraction
    model = _fit(data, None, options)
    model.save(out)
    print(f"wrote {out}")
    return 0


def cmd_evaluate(args):
    model = _load_model(args.model)
    data = _load_dataset(args.data)
    if data.n_params != model.n_inputs or data.n_grid != model.n_outputs:
        raise UserError(f"{args.data} has {data.n_params} parameters and {data.n_grid} grid points, "
                        f"but {args.model} maps {model.n_inputs} -> {model.n_outputs}")
    outside = int(model.outside(data.X).sum())
    report = _evaluate(model, data, extrapolating=True)
    out = pathlib.Path(args.out)
    doc = _write_report(out, f"Evaluation of {args.model} on {args.data}", model, {"test": report},
                  {"test": data}, {"problem": data.metadata.get("problem"), "data": str(args.data),
                                   "model_file": str(args.model), "n_outside_training_box": outside})
    _write_metrics(out, doc)
    print(report)
    print(f"wrote {out}/metrics.json, report.md and plots")
    return 0


def cmd_run(args):
    problem = _get_problem(args.problem)
    defaults = _defaults_for(problem.name, args.quick)
    n = args.n or defaults["n"]
    out = pathlib.Path(args.out) / problem.name
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    cache = out / "cache" / f"sobol_n{n}_seed{args.seed}"  # one per design: a rerun reuses it
    cache.parent.mkdir(exist_ok=True)
    _say(f"[1/4] solving {problem.name} at {n} Sobol points (cached in {cache}) ...")
    data = _problems().generate(problem, n, method="sobol", seed=args.seed, workers=args.workers,
                                cache=cache, progress=None)
    data.save(out / "data.npz")
    if len(data) < 20:
        raise UserError(f"only {len(data)} cases were solved; use a larger --n (got {n})")

    inside, edge = data.split_extrapolation(EXTRAPOLATION_FRACTION)
    train, val, test = inside.split(SPLIT, seed=args.seed)
    # the model trusts the box the inside cases fill: edge distance <= threshold
    lower, upper = data.box()
    centre, half = 0.5 * (lower + upper), 0.5 * (upper - lower)
    thr = edge.metadata["extrapolation"]["threshold"]
    box = (centre - thr * half, centre + thr * half)

    _say(f"[2/4] {len(train)} training, {len(val)} validation, {len(test)} interpolation-test, "
         f"{len(edge)} extrapolation-test cases")
    model = _fit(train, val, _model_options(args, defaults), box=box)
    model.save(out / "model.npz")

    _say("[3/4] evaluating on held-out cases ...")
    reports = {"interpolation": _evaluate(model, test), "extrapolation": _evaluate(model, edge, True)}
    _say("[4/4] writing plots and report ...")
    doc = _write_report(out, f"Surrogate for `{problem.name}`", model, reports,
                        {"interpolation": test, "extrapolation": edge},
                        {"problem": problem.name, "description": problem.description,
                         "n_samples": len(data),
                         "n_interpolation_test": len(test), "n_extrapolation_test": len(edge),
                         "extrapolation_edge_threshold": thr, "quick": bool(args.quick)})
    doc["total_seconds"] = time.perf_counter() - t0
    _write_metrics(out, doc)

    for name, rep in reports.items():
        print(f"== {problem.name}: {name} ==")
        print(rep)
    print(f"wrote {out}/ (report.md, metrics.json, model.npz, plots) in {doc['total_seconds']:.0f} s")
    return 0


# -- parser ---------------------------------------------------------------------

def _add_model_options(p):
    g = p.add_argument_group("model (defaults per problem, see RUN_DEFAULTS)")
    g.add_argument("--hidden", type=_widths, help="hidden widths, e.g. 64,64")
    g.add_argument("--activation", default="tanh", help="hidden activation (default tanh)")
    g.add_argument("--epochs", type=_positive_int, help="maximum Adam epochs")
    g.add_argument("--lbfgs-iter", type=_non_negative_int, help="maximum L-BFGS iterations (0: none)")
    g.add_argument("--threads", type=_positive_int, default=1,
                   help="Numba threads for fit and predict (default 1: small networks gain "
                        "nothing from more, and lose much on a busy machine)")
    g.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test in seconds")


def build_parser():
    parser = _Parser(prog="surrogate", description="Neural surrogates for physics solvers: "
                     "generate data, train, evaluate, or `surrogate run` for all of it.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("problems", help="list the problems and their parameter boxes")
    p.set_defaults(func=cmd_problems)

    p = sub.add_parser("generate", help="solve a problem at sampled points, save a dataset")
    p.add_argument("problem", help="problem name (see `surrogate problems`)")
    p.add_argument("-n", type=_positive_int, required=True, help="number of parameter points")
    p.add_argument("--out", required=True, help="dataset file to write (.npz)")
    p.add_argument("--method", default="sobol", help="sampling: sobol, lhs, halton, random (default sobol)")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="sampling seed (default 0)")
    p.add_argument("--workers", type=_positive_int, help="processes (default: all CPUs)")
    p.add_argument("--cache", help="directory for finished batches; a rerun resumes from it")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("train", help="fit a surrogate to a dataset, save the model")
    p.add_argument("data", help="dataset file from `surrogate generate`")
    p.add_argument("--out", required=True, help="model file to write (.npz)")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="seed of split and weights")
    p.add_argument("--validation-fraction", type=_fraction, default=0.15,
                   help="share held out for early stopping (default 0.15)")
    _add_model_options(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="held-out errors, timing and plots of a model on a dataset")
    p.add_argument("model", help="model file from `surrogate train`")
    p.add_argument("data", help="dataset file of held-out cases")
    p.add_argument("--out", required=True, help="report folder to write")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("run", help="generate, split, fit, evaluate and report, on one problem")
    p.add_argument("problem", nargs="?", default=DEFAULT_PROBLEM,
                   help=f"problem name (default {DEFAULT_PROBLEM})")
    p.add_argument("--n", type=_positive_int, help="number of cases to solve (default per problem)")
    p.add_argument("--out", default="surrogate-run", help="report root; writes OUT/PROBLEM/ "
                   "(default ./surrogate-run)")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="seed of sampling, split, weights")
    p.add_argument("--workers", type=_positive_int, help="solver processes (default: all CPUs)")
    _add_model_options(p)
    p.set_defaults(func=cmd_run)
    return parser


def main(argv=None):
    """Entry point of the `surrogate` console script; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return args.func(args)
    except UserError as exc:
        print(f"surrogate: error: {exc}", file=sys.stderr)
        return 2
    except (io.ModelFileError, FileNotFoundError, ValueError) as exc:
        # the library's own checks name the argument and the bad value
        print("surrogate: error: " + " ".join(str(exc).split()), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("surrogate: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
