"""Adaptive sampling: spend solver calls where an ensemble disagrees, without uncovering the box.

`adapt` solves a small Sobol design, fits an ensemble, then round after
round picks the next batch from a fresh pool of scrambled-Halton candidates,
solves it in parallel (`problems.solve_points`), and refits, until the
budget of solver calls is spent (failed solves count) or the estimated
error reaches `target`.

The rule (`acquire`). Each candidate's score is the ensemble's relative RMS
spread, ||std|| / ||mean|| over the grid: the relative L2 error the
surrogate is judged by, as the ensemble estimates it. The estimated error
is the mean score over the pool. A share of every batch (`SPACE_FILLING`,
half) goes to farthest-point picks, the candidates farthest from every solved
or chosen point; the rest to the highest scores, each at least `spacing`
from every solved or chosen point. Why: pure max-spread picks were measured
losing to a plain Sobol design (1.14-1.53x its held-out error),
because the error is measured uniformly over the box and regions the spread
underrates went unsampled. The space-filling half keeps the design at least
as dense as a design of half the size everywhere; the spacing keeps a batch
from piling onto one ridge of spread, at most about twice as dense as a
uniform design of the final size.

Resuming. Each round's points are written (atomically) to
``cache/round_NNN.npz`` before they are solved, with the estimate of the fit
that chose them, and solved through their own `problems.solve_points` cache
``cache/round_NNN/``. A rerun with the same cache and options reads the
rounds back instead of choosing them again, so it repeats the killed run's
design without depending on a bitwise refit, solves only what was not
finished, and refits only where it must choose a new round or stop. Rounds
reused this way keep in `history` the figures recorded when they were chosen.

Not done: warm-starting a refit from the previous round's weights; each
round fits from fresh initial weights (the scaling and PCA basis change
with the data, so old weights would start from a different problem).
"""
from __future__ import annotations

import json
import math
import pathlib
import time
from dataclasses import dataclass, field

import numpy as np

import problems

from .. import metrics
from .._checks import check_int, check_positive
from .._files import strict_json, write_atomic, write_text_atomic
from ..model import Surrogate
from .run import _writable_directory, defaults_for, model_metadata, resolve_problem

POOL = 4096            # candidates per round (scrambled Halton, a new seed each round)
SPACE_FILLING = 0.5    # share of each batch picked farthest-point
MIN_CASES = 8          # solved cases needed before the first fit
FORMAT = "surrogate.adapt-cache"
FORMAT_VERSION = 1


@dataclass
class AdaptResult:
    """What `adapt` made: the last model, every solved case and one history entry per round."""

    problem: problems.Problem
    model: Surrogate
    data: problems.Dataset      # every solved case; failures in data.metadata["failures"]
    history: list               # per round: n_new, n_solved (calls), n_cases, estimated_error, test_error
    rounds: list                # the points chosen in each round, (n_r, d) arrays
    paths: dict = field(default_factory=dict)
    seconds: float = 0.0


# -- the acquisition rule --------------------------------------------------------

def relative_spread(model, X):
    """Each point's ||std|| / ||mean|| over the grid: the ensemble's estimate of its relative L2 error."""
    mean, std = model.predict(X, domain="ignore", return_std=True)
    size = np.sqrt(np.mean(mean ** 2, axis=1))
    floor = 1e-12 * max(float(size.max()), np.finfo(float).tiny)  # a zero profile: huge, not inf
    return np.sqrt(np.mean(std ** 2, axis=1)) / np.maximum(size, floor)


def spacing(n_after, d):
    """Minimum distance (unit cube) between spread picks: half a uniform design's spacing at n_after points."""
    return 0.5 * n_after ** (-1.0 / d)


def acquire(candidates, score, solved, batch, share=SPACE_FILLING):
    """Indices of `batch` candidates to solve next, and which of them are space-filling picks.

    candidates (N, d) and solved (n, d) in the unit cube; score (N,), higher
    is more wanted. First int(share * batch) farthest-point picks, then the
    highest scores at least `spacing` from every solved or picked point;
    farthest-point picks fill any shortfall. Ties go to the lower index.
    """
    candidates, solved = np.asarray(candidates, float), np.asarray(solved, float)
    N, d = candidates.shape
    if not 1 <= batch <= N:
        raise ValueError(f"`batch` must be between 1 and the {N} candidates, got {batch}")
    dist = np.full(N, np.inf)
    for a in range(0, solved.shape[0], 256):  # distance to the nearest solved point, in blocks
        block = solved[a:a + 256]
        dist = np.minimum(dist, np.sqrt(((candidates[:, None, :] - block[None]) ** 2).sum(-1)).min(1))
    chosen, filling = [], []

    def take(i, fill):
        nonlocal dist
        chosen.append(int(i))
        filling.append(fill)
        dist = np.minimum(dist, np.sqrt(((candidates - candidates[i]) ** 2).sum(-1)))

    for _ in range(int(share * batch)):
        take(np.argmax(dist), True)
    radius = spacing(solved.shape[0] + batch, d)
    for i in np.argsort(-np.asarray(score, float), kind="stable"):
        if len(chosen) == batch:
            break
        if dist[i] >= radius:
            take(i, False)
    while len(chosen) < batch:
        take(np.argmax(dist), True)
    return np.array(chosen), np.array(filling)


# -- the rounds on disk --------------------------------------------------------------

class _Rounds:
    """cache/adapt.json (the options that decide the points), round_NNN.npz, round_NNN/ (its solves)."""

    def __init__(self, path, identity):
        self.path = pathlib.Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        manifest = self.path / "adapt.json"
        identity = json.loads(strict_json(identity))
        if manifest.exists():
            stored = json.loads(manifest.read_text())
            if stored.get("format") != FORMAT or stored.get("identity") != identity:
                old = stored.get("identity", {})
                diff = sorted(k for k in set(identity) | set(old) if identity.get(k) != old.get(k))
                raise ValueError(f"`cache` = {str(self.path)!r} holds an adaptive run with other options "
                                 f"({', '.join(diff) or 'format'}); use another cache, or delete it")
        else:
            write_text_atomic(manifest, strict_json({"format": FORMAT, "version": FORMAT_VERSION,
                                                     "identity": identity}, indent=1, sort_keys=True))

    def solves(self, r):
        return self.path / f"round_{r:03d}"

    def load(self, r):
        """(points, space-filling mask, note) of round r, or None if it was never chosen."""
        path = self.path / f"round_{r:03d}.npz"
        if not path.exists():
            return None
        with np.load(path, allow_pickle=False) as f:
            return f["X"], f["filling"], json.loads(f["note"].tobytes().decode())

    def save(self, r, X, filling, note):
        note = np.frombuffer(strict_json(note).encode(), dtype=np.uint8)
        write_atomic(self.path / f"round_{r:03d}.npz",
                     lambda f: np.savez(f, X=X, filling=filling, note=note), fsync=False)


# -- the loop ------------------------------------------------------------------------

def _joined(problem, parts, sampler):
    """One Dataset of every round's solved cases; failures indexed in the order the points were solved."""
    failures, offset = [], 0
    for part in parts:
        for fail in part.metadata["failures"]:
            failures.append(dict(fail, index=fail["index"] + offset))
        offset += part.metadata["sampler"]["n"]
    seconds = sum(p.metadata["solver_seconds_per_profile"] * p.metadata["sampler"]["n"] for p in parts)
    metadata = problem.describe()
    metadata.update({"sampler": sampler, "seed": sampler["seed"], "n_failed": len(failures),
                     "failures": failures, "solver_seconds_per_profile": seconds / offset,
                     "versions": parts[0].metadata["versions"]})
    return problems.Dataset(np.concatenate([p.X for p in parts]), np.concatenate([p.Y for p in parts]),
                            problem.grid, problem.param_names, metadata, problem.grid_name,
                            problem.grid_unit, problem.output_name, problem.output_unit)


def _pool(problem, seed, r):
    """Round r's candidates: scrambled Halton of a seed drawn from (seed, r), none shared with Sobol."""
    return problems.sample(problem, POOL, "halton", int(np.random.SeedSequence([seed, r]).generate_state(1)[0]))


def adapt(problem, budget, *, initial=None, batch=None, target=None, ensemble=5, seed=0, workers=None,
          client=None, cache=None, out=None, timeout=None, progress=None, test=None, say=None,
          **fit_options):
    """Adaptive sampling of `problem` within `budget` solver calls; returns an `AdaptResult`.

    problem     a problem name or a `problems.Problem`
    budget      solver calls in all, failed ones included
    initial     size of the first (Sobol) design; default max(budget // 4, 20), at most budget
    batch       points per later round; default max(budget // 8, 1)
    target      stop once the estimated error (mean relative spread over the
                candidate pool) is at most this; None: spend the whole budget
    ensemble    members of each fit (>= 2: the spread is the signal)
    seed        seeds the Sobol design, the candidate pools and the fits
    workers, client, timeout
                as in `problems.solve_points`
    cache       a folder for the rounds and their solves; a rerun with the
                same options resumes (see the module docstring); default
                out/cache, none when out is None
    out         a folder for data.npz, model.npz, history.json; None writes no files
    progress    solver progress bars: True, False or None (when a round lasts)
    test        a `problems.Dataset` of held-out cases: each refit's mean
                relative L2 error on it goes in the history
    say         a function that takes one line of news, e.g. print
    fit_options Surrogate options over the per-problem defaults (`RUN_DEFAULTS`)
    """
    t0 = time.perf_counter()
    problem = resolve_problem(problem)
    budget = check_int("budget", budget, 1)
    initial = min(max(budget // 4, 20), budget) if initial is None else check_int("initial", initial, 1)
    if initial > budget:
        raise ValueError(f"`initial` = {initial} is more than the budget of {budget} solver calls")
    batch = max(budget // 8, 1) if batch is None else check_int("batch", batch, 1)
    if batch > POOL:
        raise ValueError(f"`batch` = {batch} is more than the {POOL} candidates of a round")
    target = None if target is None else check_positive("target", target)
    ensemble = check_int("ensemble", ensemble, 2)
    if test is not None and not (isinstance(test, problems.Dataset) and test.n_inputs == problem.n_inputs
                                 and test.n_grid == problem.grid.size):
        raise ValueError(f"`test` must be a problems.Dataset with {problem.n_inputs} parameters and "
                         f"{problem.grid.size} grid points, got {test!r}")
    unknown = sorted(set(fit_options) - set(Surrogate().get_params()))
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r} = {fit_options[unknown[0]]!r}; adapt takes its own "
                         f"arguments and Surrogate options ({', '.join(Surrogate().get_params())})")
    config = defaults_for(problem.name)
    config.pop("n")
    model = Surrogate(**{**config, "seed": seed, **fit_options, "ensemble": ensemble})
    options = model.json_options()  # checks them: a typo costs nothing, nothing is solved yet
    say = say or (lambda *_: None)
    paths = {}
    if out is not None:
        out = _writable_directory(out)
        cache = out / "cache" if cache is None else cache
    identity = {"problem": problem.name, "settings": problem.settings,
                "box": [problem.lower.tolist(), problem.upper.tolist()], "seed": seed, "initial": initial,
                "batch": batch, "pool": POOL, "space_filling": SPACE_FILLING, "model": options}
    rounds = _Rounds(cache, identity) if cache is not None else None
    lower, upper = problem.lower, problem.upper

    def unit(X):
        return (X - lower) / (upper - lower)

    def fit(data):
        if len(data) < MIN_CASES:
            raise ValueError(f"only {len(data)} of the first {initial} cases were solved; a fit needs "
                             f"{MIN_CASES} (raise `initial`)")
        m = Surrogate(**model.get_params())
        return m.fit(data.X, data.Y, metadata=model_metadata(data), box=(lower, upper), progress=bool(progress))

    parts, chosen, history = [], [], []
    used, r, fitted, note = 0, 0, None, None
    while True:
        stored = rounds.load(r) if rounds is not None else None
        if stored is not None:
            X, filling, note = stored
        elif r == 0:
            X, filling = problems.sample(problem, initial, "sobol", seed), np.ones(initial, bool)
        else:
            idx, filling = acquire(unit(pool), pool_score, unit(np.concatenate(chosen)), min(batch, budget - used))
            X = pool[idx]
        if stored is None and rounds is not None:
            rounds.save(r, X, filling, note)
        whole = len(X) <= budget - used  # else a rerun with a smaller budget: solve a part, uncached
        X, filling = X[:budget - used], filling[:budget - used]
        say(f"round {r}: solving {len(X)} {'Sobol' if r == 0 else 'chosen'} points"
            + (" (from the cache)" if stored is not None else "") + " ...")
        part = problems.solve_points(problem, X, workers=workers, client=client, progress=progress,
                                     timeout=timeout, cache=rounds.solves(r) if rounds is not None and whole else None)
        parts.append(part)
        chosen.append(X)
        used += len(X)
        data = _joined(problem, parts, {"method": "adaptive", "seed": seed, "initial": initial,
                                        "batch": batch, "rounds": [len(x) for x in chosen], "n": used})
        ahead = rounds.load(r + 1) if rounds is not None and used < budget else None
        stop = used >= budget
        if ahead is not None and not (target is not None and ahead[2]["estimated_error"] <= target):
            estimate, test_error, refit = ahead[2]["estimated_error"], ahead[2]["test_error"], False
        else:  # refit: to choose the next round, or to return the model
            fitted = fit(data)
            pool = _pool(problem, seed, r + 1)
            pool_score = relative_spread(fitted, pool)
            estimate, refit = float(pool_score.mean()), True
            test_error = (None if test is None else float(np.mean(metrics.rel_l2(
                y_true=test.Y, y_pred=fitted.predict(test.X, domain="ignore")))))
            stop = stop or (target is not None and estimate <= target)
        note = {"estimated_error": estimate, "test_error": test_error}
        history.append({"round": r, "n_new": len(X), "n_space_filling": int(filling.sum()), "n_solved": used,
                        "n_cases": len(data), "n_failed": data.metadata["n_failed"],
                        "estimated_error": estimate, "test_error": test_error, "refit": refit})
        say(f"  {used}/{budget} solver calls, {len(data)} cases, estimated error {estimate:.3g}"
            + ("" if test_error is None else f", test error {test_error:.3g}") + ("" if refit else " (cached)"))
        if stop:
            break
        r += 1
    if out is not None:
        paths["data"] = data.save(out / "data.npz")
        paths["model"] = fitted.save(out / "model.npz")
        paths["history"] = write_text_atomic(out / "history.json", strict_json(history, indent=1))
    return AdaptResult(problem, fitted, data, history, chosen, paths, time.perf_counter() - t0)
