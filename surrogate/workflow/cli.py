"""The `surrogate` command: argument parsing over `workflow.run` and its pieces.

    surrogate problems                       list problems and their parameter boxes
    surrogate generate PROBLEM -n N --out data.npz
    surrogate train DATA.npz --out model.npz
    surrogate evaluate MODEL DATA --out DIR
    surrogate run [PROBLEM]                  all of it, with a report folder
    surrogate adapt PROBLEM -n BUDGET        adaptive sampling: solve where an ensemble disagrees

Every option and output path is checked before any work.  A user error
(unknown problem, missing or unwritable file, bad option value, or any
ValueError raised by the toolkit's own argument checks) prints one line to
stderr, ``surrogate COMMAND: error: ...``, and exits with status 2; anything
else is a bug of the toolkit: its traceback is shown, with a line that says
so, and the status is 1.  Ctrl-C exits with status 130.  Progress goes to
stderr, results to stdout; ``--quiet`` leaves only errors and the paths of
the files written.

Every command spells the same thing the same way: ``-n`` a number of cases
(or solver calls), ``--out`` what to write, ``--seed``, ``--workers``,
``--scheduler`` and ``--timeout`` where something is solved, ``--quick`` for a
smoke test, ``-q/--quiet`` anywhere.
"""
import argparse
import contextlib
import gc
import math
import os
import pathlib
import sys
import traceback

from .. import io
from .._files import probe_writable
from ..activations import ACTIVATIONS
from ..model import Surrogate
from . import report as _report
from .run import QUICK, RUN_DEFAULTS, defaults_for, evaluate_dataset, fit_dataset, run

DEFAULT_PROBLEM = "heat"

class UserError(Exception):
    """A mistake in the command line or its files: one line, exit status 2.

    `prog` is the command that refuses it ("surrogate generate"); None: the
    command being run."""

    def __init__(self, message, prog=None):
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse prints usage + message; we want one line
        raise UserError(f"{message} (see `{self.prog} --help`)", prog=self.prog)


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows "(default: ...)" after every option that has a real default (not
    None, which means "per problem" or "none", nor a flag's False), and keeps
    the epilog's table as written."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


_QUIET = False


def _say(*parts):
    """Progress news on stderr, silenced by --quiet."""
    if not _QUIET:
        print(*parts, file=sys.stderr, flush=True)


def _result(*parts):
    """A result on stdout that is not a path written: silenced by --quiet."""
    if not _QUIET:
        print(*parts)


def _progress():
    """Progress bars: none with --quiet, else tqdm's choice (only on a terminal)."""
    return False if _QUIET else None


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


def _get_problem(name, quick=False):
    try:
        return _problems().get(name, quick=quick)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _load_dataset(path):
    """A Dataset file of any format `Dataset.load` knows (.npz, .nc, .h5, .hdf5, .csv)."""
    path = pathlib.Path(path)
    try:
        _problems().formats.require(path)  # the extension, and the packages it needs
    except (ValueError, ImportError) as exc:
        raise UserError(f"data file: {exc}") from None
    if not path.is_file():
        raise UserError(f"data file {str(path)!r} not found")
    try:
        return _problems().Dataset.load(path)
    except (ValueError, ImportError) as exc:
        raise UserError(" ".join(str(exc).split())) from None


def _dataset_out_file(path, option="--out"):
    """`_out_file` for a dataset: also its format known and its packages installed, before any work."""
    out = _out_file(path, option)
    try:
        _problems().formats.require(out)
    except (ValueError, ImportError) as exc:
        raise UserError(f"{option}: {exc}") from None
    return out


def _load_model(path):
    try:
        return Surrogate.load(path)
    except io.ModelFileError as exc:
        raise UserError(str(exc)) from None


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


def _model_options(args, defaults):
    hidden = args.hidden or defaults["hidden"]
    return {"hidden": hidden, "activation": args.activation, "seed": args.seed,
            "epochs": args.epochs or defaults["epochs"],
            "lbfgs_iter": defaults["lbfgs_iter"] if args.lbfgs_iter is None else args.lbfgs_iter,
            "threads": "auto" if args.threads is None else args.threads, "ensemble": args.ensemble}


def _out_file(path, option="--out"):
    """A file to write at the end, checked now: its directory exists and takes
    files, and it is not a directory nor a file we may not replace."""
    out = pathlib.Path(path)
    if not out.parent.is_dir():
        raise UserError(f"{option}: directory {str(out.parent)!r} does not exist")
    if out.is_dir():
        raise UserError(f"{option}: {str(out)!r} is a directory, not a file")
    if out.exists() and not os.access(out, os.W_OK):
        raise UserError(f"{option}: {str(out)!r} exists and is not writable")
    _probe(out.parent, option)
    return out


def _out_dir(path, option="--out"):
    """A folder to write into at the end, made and checked now."""
    out = pathlib.Path(path)
    if out.exists() and not out.is_dir():
        raise UserError(f"{option}: {str(out)!r} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{option}: cannot make directory {str(out)!r} ({exc.strerror})") from None
    _probe(out, option)
    return out


def _probe(directory, option):
    try:
        probe_writable(directory)
    except OSError as exc:
        raise UserError(f"{option}: directory {str(directory)!r} is not writable ({exc.strerror})") from None


def _check_executor(args):
    if args.scheduler is not None and args.workers is not None:
        raise UserError("give either --workers (local processes) or --scheduler (Dask), not both")


@contextlib.contextmanager
def _executor(args):
    """The Dask client of --scheduler (connected now, before any work), or None."""
    _check_executor(args)
    if args.scheduler is None:
        yield None
        return
    try:
        import distributed
    except ImportError:
        raise UserError("--scheduler needs the `distributed` package (pip install distributed)") from None
    try:
        # not the process-wide default: it is passed where it is used, and a default
        # left behind would route later unrelated dask work (xarray writes) to it
        client = distributed.Client(args.scheduler, timeout=10, set_as_default=False)
    except (OSError, ValueError, TypeError) as exc:
        failure = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    else:
        failure = None
    if failure is not None:
        # The half-made Client lives on in a reference cycle. Collected later, at a
        # moment of the garbage collector's choosing, its __del__ stops an IO loop,
        # and inside a new cluster's loop start that deadlocked (a test process
        # that went on after this error). Collect it now, when nothing is held.
        gc.collect()
        raise UserError(f"--scheduler: cannot connect to {args.scheduler!r} ({failure})")
    with client:
        yield client


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
    problem = _get_problem(args.problem, args.quick)
    _check_executor(args)
    out = _dataset_out_file(args.out)
    with _executor(args) as client:
        _say(f"solving {problem.name} at {args.n} {args.method} points ...")
        data = _problems().generate(problem, args.n, method=args.method, seed=args.seed,
                                    workers=args.workers, client=client, cache=args.cache,
                                    progress=_progress(), timeout=args.timeout)
    data.save(out)
    if _QUIET:
        print(f"wrote {out}")
    else:
        print(f"wrote {out}: {len(data)} cases ({data.metadata.get('n_failed', 0)} failed), "
              f"solver {data.metadata['solver_seconds_per_profile']:.3g} s/profile")
    return 0


def cmd_train(args):
    out = _out_file(args.out)
    data = _load_dataset(args.data)
    defaults = defaults_for(data.metadata.get("problem"), args.quick)
    model = Surrogate(**_model_options(args, defaults), validation_fraction=args.validation_fraction)
    model.check_options()
    train, validation = data, None
    if args.validation_fraction > 0:  # split here, so the news can say what is fitted and what validates
        fraction = args.validation_fraction
        try:
            train, validation = data.split((1.0 - fraction, fraction), seed=args.seed)
        except ValueError:
            raise UserError(f"argument --validation-fraction: {len(data)} cases are too few to hold out "
                            f"{fraction:g} of them; give a larger dataset or --validation-fraction 0") from None
    fit_dataset(model, train, validation, say=_say, progress=_progress())
    model.save(out)
    print(f"wrote {out}")
    return 0


def cmd_evaluate(args):
    out = _out_dir(args.out)
    model = _load_model(args.model)
    data = _load_dataset(args.data)
    if data.n_inputs != model.n_inputs or data.n_grid != model.n_outputs:
        raise UserError(f"{args.data} has {data.n_inputs} parameters and {data.n_grid} grid points, "
                        f"but {args.model} maps {model.n_inputs} -> {model.n_outputs}")
    outside = int(model.outside(data.X).sum())
    report = evaluate_dataset(model, data, extrapolating=True)
    doc = _report.metrics_document(model, {"test": report},
                                   {"problem": data.metadata.get("problem"), "data": str(args.data),
                                    "model_file": str(args.model), "n_outside_training_box": outside})
    _report.write_report(out, f"Evaluation of {args.model} on {args.data}", model, {"test": report},
                         {"test": data}, doc)
    _result(report)
    print(f"wrote {out}/metrics.json, report.md and plots")
    return 0


def _check_model_options(options):
    """Surrogate options checked before any work, a mistake as a user error."""
    try:
        Surrogate(**options).check_options()
    except ValueError as exc:
        raise UserError(" ".join(str(exc).split())) from None


def cmd_run(args):
    problem = _get_problem(args.problem, args.quick)
    defaults = defaults_for(problem.name, args.quick)
    options = _model_options(args, defaults)
    _check_model_options(options)  # run() checks them too, but a typo should not wait for Dask
    _check_executor(args)
    out = _out_dir(pathlib.Path(args.out) / problem.name)
    with _executor(args) as client:
        result = run(problem, args.n, out=out, cache=args.cache, quick=args.quick, workers=args.workers,
                     client=client, timeout=args.timeout, progress=_progress(), say=_say, **options)
    for name, rep in result.report.items():
        _result(f"== {problem.name}: {name} ==")
        _result(rep)
    print(f"wrote {result.paths['report'].parent}/ (report.md, metrics.json, model.npz, plots) "
          f"in {result.seconds:.0f} s")
    return 0


def cmd_adapt(args):
    from .adapt import adapt  # late: like the problems, only when asked for
    problem = _get_problem(args.problem, args.quick)
    options = _model_options(args, defaults_for(problem.name, args.quick))
    options.pop("seed")
    options.pop("ensemble")  # adapt's own --ensemble, passed below
    _check_model_options(options)
    _check_executor(args)
    out = _out_dir(pathlib.Path(args.out) / problem.name)
    with _executor(args) as client:
        result = adapt(problem, args.n, batch=args.batch, target=args.target, ensemble=args.ensemble,
                       seed=args.seed, workers=args.workers, client=client, timeout=args.timeout,
                       out=out, progress=_progress(), say=_say, **options)
    _result(f"{'round':>5} {'new':>5} {'filling':>7} {'calls':>6} {'cases':>6} {'est. error':>10}")
    for h in result.history:
        _result(f"{h['round']:>5} {h['n_new']:>5} {h['n_space_filling']:>7} {h['n_solved']:>6} "
                f"{h['n_cases']:>6} {h['estimated_error']:>10.3g}")
    print(f"wrote {result.paths['model'].parent}/ (data.npz, model.npz, history.json, cache/) "
          f"in {result.seconds:.0f} s")
    return 0


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (value > 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


# -- parser ---------------------------------------------------------------------

#: the activations a hidden layer can be trained with (`step` passes no gradient)
HIDDEN_ACTIVATIONS = tuple(name for name in ACTIVATIONS if name != "step")


def _defaults_table():
    """RUN_DEFAULTS as the epilog of the commands that use it: the values, not a constant's name."""
    rows = [("problem", "-n", "--hidden", "--epochs", "--lbfgs-iter")]
    for name, d in RUN_DEFAULTS.items():
        rows.append(("any other" if name == "*" else name, str(d["n"]), ",".join(map(str, d["hidden"])),
                     str(d["epochs"]), str(d["lbfgs_iter"])))
    rows.append(("--quick", str(QUICK["n"]), ",".join(map(str, QUICK["hidden"])), str(QUICK["epochs"]),
                 str(QUICK["lbfgs_iter"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  " + r[0].ljust(widths[0]) + "".join("  " + c.rjust(w) for c, w in zip(r[1:], widths[1:]))
             for r in rows]
    return "per-problem defaults (options not given on the command line):\n" + "\n".join(lines)


def _add_quiet(p, top=False):
    # On a command, SUPPRESS keeps `surrogate --quiet run` from being undone by run's own default.
    p.add_argument("-q", "--quiet", action="store_true", default=False if top else argparse.SUPPRESS,
                   help="no progress bars and no news: only errors and the paths of the files written")


def _add_cases(p, what, required=False):
    p.add_argument("-n", "--n", dest="n", type=_positive_int, required=required, metavar="N",
                   help=what + ("" if required else " (default: per problem, see below)"))


def _add_model_options(p, ensemble=True, quick=True):
    g = p.add_argument_group("model (default: per problem, see below)")
    g.add_argument("--hidden", type=_widths, metavar="W1,W2,...", help="hidden widths, e.g. 64,64")
    g.add_argument("--activation", default="tanh", choices=HIDDEN_ACTIVATIONS, help="hidden activation")
    g.add_argument("--epochs", type=_positive_int, help="maximum Adam epochs")
    g.add_argument("--lbfgs-iter", type=_non_negative_int, help="maximum L-BFGS iterations (0: none)")
    g.add_argument("--threads", type=_positive_int,
                   help="Numba threads for fit and predict (default: 1 for one network, whose small "
                        "mini-batches gain nothing from more; all for an ensemble, a member per thread)")
    if ensemble:  # `adapt` has its own, at least 2
        g.add_argument("--ensemble", type=_positive_int, default=1, metavar="K",
                       help="train K networks from different seeds: predictions are their mean, their "
                            "spread (calibrated on the validation cases) says where to distrust it")
    if quick:
        g.add_argument("--quick", action="store_true", help="tiny sizes (and the coarse solver): "
                       "a smoke test in seconds")


def _add_executor_options(p, cache=True):
    g = p.add_argument_group("solving")
    g.add_argument("--workers", type=_positive_int, help="local solver processes (default: all CPUs)")
    g.add_argument("--scheduler", metavar="ADDRESS",
                   help="solve on the Dask cluster of this scheduler, e.g. tcp://host:8786 "
                        "(instead of --workers)")
    g.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                   help="stop a solve after this long and record it as a failure "
                        "(default: none, a hung solver hangs the run)")
    if cache:
        g.add_argument("--cache", metavar="DIR", help=cache)


def build_parser():
    parser = _Parser(prog="surrogate", formatter_class=_HelpFormatter,
                     description="Neural surrogates for physics solvers: generate data, train, evaluate, "
                     "or `surrogate run` for all of it.")
    parser.add_argument("--version", action="version", version=_version(),
                        help="print the package version and exit")
    _add_quiet(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name, help, **kwargs):
        p = sub.add_parser(name, help=help, description=help[:1].upper() + help[1:] + ".",
                           formatter_class=_HelpFormatter, **kwargs)
        _add_quiet(p)
        return p

    p = command("problems", "list the problems and their parameter boxes")
    p.set_defaults(func=cmd_problems)

    methods = _problems().sampling.METHODS
    p = command("generate", "solve a problem at sampled points, save a dataset")
    p.add_argument("problem", help="problem name (see `surrogate problems`)")
    _add_cases(p, "number of parameter points to solve", required=True)
    p.add_argument("--out", required=True, metavar="FILE", help="dataset file to write: .npz, .nc, .h5, .hdf5 or .csv")
    p.add_argument("--method", default="sobol", choices=methods, help="sampling design")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="seed of the design")
    p.add_argument("--quick", action="store_true", help="the problem's coarse solver: a smoke test")
    _add_executor_options(p, cache="directory for finished batches; a rerun resumes from it (default: none)")
    p.set_defaults(func=cmd_generate)

    epilog = _defaults_table()
    p = command("train", "fit a surrogate to a dataset, save the model", epilog=epilog)
    p.add_argument("data", help="dataset file from `surrogate generate`")
    p.add_argument("--out", required=True, metavar="FILE", help="model file to write (.npz)")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="seed of the split and the weights")
    p.add_argument("--validation-fraction", type=_fraction, default=0.15, metavar="F",
                   help="share of the cases held out for early stopping and the validation error")
    _add_model_options(p)
    p.set_defaults(func=cmd_train)

    p = command("evaluate", "held-out errors, timing and plots of a model on a dataset")
    p.add_argument("model", help="model file from `surrogate train`")
    p.add_argument("data", help="dataset file of held-out cases")
    p.add_argument("--out", required=True, metavar="DIR", help="report folder to write")
    p.set_defaults(func=cmd_evaluate)

    p = command("run", "generate, split, fit, evaluate and report, on one problem", epilog=epilog)
    p.add_argument("problem", nargs="?", default=DEFAULT_PROBLEM, help="problem name")
    _add_cases(p, "number of cases to solve")
    p.add_argument("--out", default="surrogate-run", metavar="DIR", help="report root; writes OUT/PROBLEM/")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="seed of sampling, split, weights")
    _add_executor_options(p, cache="directory for finished solves; a rerun resumes from it "
                                   "(default: OUT/PROBLEM/cache/...)")
    _add_model_options(p)
    p.set_defaults(func=cmd_run)

    p = command("adapt", "adaptive sampling: solve where an ensemble disagrees, within a budget",
                epilog=epilog)
    p.add_argument("problem", help="problem name (see `surrogate problems`)")
    _add_cases(p, "budget of solver calls, failed ones included", required=True)
    p.add_argument("--out", default="surrogate-adapt", metavar="DIR", help="root folder; writes OUT/PROBLEM/ "
                   "with a cache/ a rerun resumes from")
    p.add_argument("--seed", type=_non_negative_int, default=0, help="seed of designs, pools and fits")
    p.add_argument("--ensemble", type=_int_at_least(2), default=5, metavar="K", help="ensemble members")
    p.add_argument("--batch", type=_positive_int, help="points per round (default: budget // 8)")
    p.add_argument("--target", type=_positive_float, help="stop at this estimated relative error "
                   "(default: spend the whole budget)")
    _add_executor_options(p, cache=False)
    _add_model_options(p, ensemble=False)
    p.set_defaults(func=cmd_adapt)
    return parser


def _version():
    try:
        from importlib.metadata import version
        return version("surrogate-toolkit")
    except Exception:  # noqa: BLE001 - not installed (run from a source tree)
        return "unknown (not installed)"


def main(argv=None):
    """Entry point of the `surrogate` console script; returns the exit status."""
    global _QUIET
    prog = "surrogate"
    _QUIET = False
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        prog = f"surrogate {args.command}"
        _QUIET = args.quiet
        return args.func(args)
    except UserError as exc:
        print(f"{exc.prog or prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - sorted into the user's mistakes and our bugs
        if _is_user_error(exc):
            print(f"{prog}: error: " + " ".join(str(exc).split()), file=sys.stderr)
            return 2
        traceback.print_exc()
        print(f"{prog}: internal error ({type(exc).__name__}): this is a bug in surrogate-toolkit, "
              "not in your input; please report it with the traceback above", file=sys.stderr)
        return 1
    finally:
        _QUIET = False


def _is_user_error(exc):
    """A mistake in the input, not a bug: a model-file refusal, a file the
    system will not let us read or write, or a ValueError raised by one of
    the toolkit's own argument checks (which name the argument and the bad
    value).  A ValueError from deep inside numpy, scipy or json is a bug."""
    if isinstance(exc, io.ModelFileError) or (isinstance(exc, OSError) and exc.filename is not None):
        return True
    if not isinstance(exc, ValueError):
        return False
    import surrogate
    ours = tuple(str(pathlib.Path(package.__file__).resolve().parent) + os.sep
                 for package in (surrogate, _problems()))
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and str(pathlib.Path(frames[-1].filename).resolve()).startswith(ours)


if __name__ == "__main__":
    sys.exit(main())
