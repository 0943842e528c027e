"""Adaptive sampling against a Sobol design at the same budget of solver calls.

For each problem, budget (100/200/400/800 solves) and seed (3): the mean and
95th percentile of the relative L2 error on held-out cases drawn uniformly
over the box (500, `method="random"`, a seed no design uses), for

- sobol: the first n points of one scrambled Sobol design (nested: a
  prefix), fitted with the same options as adaptive's last fit;
- adaptive: `surrogate.workflow.adapt` with a fixed `--initial` and
  `--batch`, so the designs of all budgets are nested too: each budget
  resumes the previous one's cache and pays only its new solves.

Same network, same fit, same ensemble for both; the tables give the median
over seeds. Problems: `heat` (smooth), and `front`, defined here: a tanh
front of width 0.02 over 3 parameters whose position moves across the grid,
the sharp feature a space-filling design resolves badly.

    python benchmarks/bench_adapt.py                 # hours on two cores
    python benchmarks/bench_adapt.py --quick         # smoke run, a minute or two
    python benchmarks/bench_adapt.py --problems front --budgets 100 200 --seeds 0
"""
import argparse
import json
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
if (ROOT / "surrogate" / "__init__.py").exists():
    sys.path.insert(0, str(ROOT))  # benchmark the checkout, not an older install

import problems  # noqa: E402
from problems import Parameter  # noqa: E402
from surrogate import Surrogate  # noqa: E402
from surrogate.metrics import rel_l2  # noqa: E402
from surrogate.workflow import adapt  # noqa: E402
from surrogate.workflow.run import defaults_for, model_metadata  # noqa: E402

FRONT_GRID = np.linspace(0.0, 1.0, 64)


def front(params):
    """u(x) = 1.5 + tanh((x - x0) / 0.02), x0 = a + 0.2 b sin(pi c): a sharp front that moves."""
    a, b, c = params
    return 1.5 + np.tanh((FRONT_GRID - a - 0.2 * b * np.sin(np.pi * c)) / 0.02)


FRONT = problems.wrap(front, [Parameter("a", 0.2, 0.6, "", "front position"),
                              Parameter("b", 0.0, 1.0, "", "shift amplitude"),
                              Parameter("c", 0.0, 1.0, "", "shift phase")],
                      FRONT_GRID, name="front", description="a moving tanh front of width 0.02")
HIDDEN = {"heat": (16, 16), "front": (32, 32)}


def errors(model, test):
    e = rel_l2(y_true=test.Y, y_pred=model.predict(test.X, domain="ignore"))
    return float(e.mean()), float(np.quantile(e, 0.95))


def plot(results, path):
    """Held-out error against solver calls: median over seeds (line) and each seed (dots),
    mean and 95th percentile, one panel per problem."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(dict.fromkeys(r["problem"] for r in results))
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 4), squeeze=False)
    for ax, name in zip(axes[0], names):
        for method, colour in (("sobol", "tab:blue"), ("adaptive", "tab:orange")):
            rows = [r for r in results if (r["problem"], r["method"]) == (name, method)]
            ns = sorted({r["n"] for r in rows})
            for q, style, label in ((0, "-", "mean"), (1, "--", "95th percentile")):
                ax.plot([r["n"] for r in rows], [r["errors"][q] for r in rows], ".", color=colour, alpha=0.4)
                ax.plot(ns, [np.median([r["errors"][q] for r in rows if r["n"] == n]) for n in ns], style,
                        color=colour, label=f"{method}, {label}")
        ax.set(xscale="log", yscale="log", xlabel="solver calls", ylabel="held-out relative L2 error",
               title=f"{name}: median over seeds (lines), each seed (dots)")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run: tiny budgets, network and fit")
    p.add_argument("--problems", nargs="+", default=["heat", "front"])
    p.add_argument("--budgets", nargs="+", type=int, default=[100, 200, 400, 800])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--test", type=int, default=500, help="held-out cases (default 500)")
    p.add_argument("--initial", type=int, default=25, help="adaptive's first design (default 25)")
    p.add_argument("--batch", type=int, default=25, help="adaptive's points per round (default 25)")
    p.add_argument("--ensemble", type=int, default=5)
    p.add_argument("--work", default="bench-adapt", help="folder for caches and results.json")
    p.add_argument("--workers", type=int)
    p.add_argument("--epochs", type=int, help="Adam epochs of every fit (default: the problem's `surrogate run` budget)")
    p.add_argument("--plot", metavar="PNG", help="only draw the curves of --work's results.json into PNG")
    p.add_argument("--lbfgs-iter", type=int, help="L-BFGS iterations of every fit (default: the problem's `surrogate run` budget)")
    args = p.parse_args()
    if args.plot:
        return plot(json.loads((pathlib.Path(args.work) / "results.json").read_text()), args.plot)
    if args.quick:
        args.budgets, args.seeds, args.test, args.initial, args.batch, args.ensemble = [24, 32], [0], 50, 16, 8, 2
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    print(f"budgets {args.budgets}, seeds {args.seeds}, {args.test} held-out cases, adaptive initial "
          f"{args.initial} batch {args.batch}, ensemble {args.ensemble}", flush=True)
    results = []
    for name in args.problems:
        problem = FRONT if name == "front" else problems.get(name, quick=args.quick)
        fit = ({"hidden": (8,), "epochs": 30, "lbfgs_iter": 30} if args.quick else
               {**{k: v for k, v in defaults_for(name).items() if k != "n"}, "hidden": HIDDEN.get(name, (32, 32))})
        if not args.quick:  # a cheaper fit for both methods alike keeps the run to a few hours
            fit.update({k: v for k, v in (("epochs", args.epochs), ("lbfgs_iter", args.lbfgs_iter)) if v})
        test = problems.generate(problem, args.test, method="random", seed=10_000, workers=args.workers,
                                 cache=work / name / "test")
        for seed in args.seeds:
            sobol = problems.generate(problem, max(args.budgets), method="sobol", seed=seed,
                                      workers=args.workers, cache=work / name / f"sobol_seed{seed}")
            for n in sorted(args.budgets):
                t0 = time.perf_counter()
                failed = sum(f["index"] < n for f in sobol.metadata["failures"])
                data = sobol.subset(np.arange(n - failed))  # the solved cases among the first n points
                model = Surrogate(**fit, seed=seed, ensemble=args.ensemble).fit(
                    data.X, data.Y, metadata=model_metadata(data), box=(problem.lower, problem.upper),
                    progress=False)
                results.append({"problem": name, "method": "sobol", "seed": seed, "n": n,
                                "errors": errors(model, test), "seconds": time.perf_counter() - t0})
                t0 = time.perf_counter()
                run = adapt(problem, n, initial=args.initial, batch=args.batch, ensemble=args.ensemble,
                            seed=seed, workers=args.workers, cache=work / name / f"adapt_seed{seed}",
                            **fit)
                results.append({"problem": name, "method": "adaptive", "seed": seed, "n": n,
                                "errors": errors(run.model, test), "seconds": time.perf_counter() - t0,
                                "estimated_error": run.history[-1]["estimated_error"]})
                for r in results[-2:]:
                    print(f"  {name} seed {seed} n {n} {r['method']:>8}: mean {r['errors'][0]:.3g}, "
                          f"p95 {r['errors'][1]:.3g} ({r['seconds']:.0f} s)", flush=True)
    (work / "results.json").write_text(json.dumps(results, indent=1))
    print("\nmedian over seeds of the held-out relative L2 error (mean / 95th percentile)")
    print("| problem | solves | Sobol | adaptive | adaptive / Sobol (mean) |\n|---|---:|---:|---:|---:|")
    for name in args.problems:
        for n in sorted(args.budgets):
            med = {m: np.median([r["errors"] for r in results if (r["problem"], r["n"], r["method"])
                                 == (name, n, m)], axis=0) for m in ("sobol", "adaptive")}
            print(f"| {name} | {n} | {med['sobol'][0]:.2e} / {med['sobol'][1]:.2e} | "
                  f"{med['adaptive'][0]:.2e} / {med['adaptive'][1]:.2e} | "
                  f"{med['adaptive'][0] / med['sobol'][0]:.2f} |")
    print(f"wrote {work / 'results.json'}")


if __name__ == "__main__":
    main()
