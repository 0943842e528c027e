"""What a run leaves behind: report.md, metrics.json and the figures."""
from __future__ import annotations

import math
import pathlib

from .._files import strict_json, write_text_atomic


def _finite_or_none(value):
    """JSON holds finite numbers: an infinite error (a zero profile) or an undefined one becomes null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    return value


def _summary(report):
    d = report.to_dict()
    for key in ("rel_l2", "error_per_point"):  # per-profile/per-point arrays go in the plots
        d.pop(key)
    return d


def metrics_document(model, reports, extra):
    """The JSON document of metrics.json: the held-out summaries, the timing and the model."""
    first = next(iter(reports.values()))
    return {**extra, **{name: _summary(rep) for name, rep in reports.items()},
            "speedup_per_profile": first.speedup_per_profile,
            "solver_seconds_per_profile": first.solver_seconds_per_profile,
            "surrogate_seconds_per_profile": first.surrogate_seconds_per_profile_batched,
            "fit_seconds": model.fit_seconds_, "model": model.json_options(),
            "n_train": model.n_train_, "n_validation": model.n_val_}


def _param_units(data):
    """The unit of each parameter of a Dataset (None where its metadata has none)."""
    units = [p.get("unit") for p in data.metadata.get("parameters", [])]
    return units if len(units) == len(data.param_names) else None


def _plots(out, model, sets, reports):
    """The figures of held-out sets `sets` (name -> Dataset) with their `reports`:
    surrogate against solver per set, and the errors of all sets in one figure
    each (against the parameters, along the grid), a colour per set."""
    import numpy as np
    from .. import plotting  # matplotlib: loaded only when there is something to draw
    paths = {}
    for tag, data in sets.items():
        if getattr(model, "has_std", False):  # an ensemble: its +- 2 std band too
            pred, std = model.predict(data.X, domain="ignore", return_std=True)
        else:
            pred, std = model.predict(data.X, domain="ignore"), None
        paths[f"profiles_{tag}"] = out / f"profiles_{tag}.png"
        plotting.plot_profiles(data.grid, data.Y, pred, rel_l2=reports[tag].rel_l2,
                               grid_label=data.grid_name or "x", grid_unit=data.grid_unit,
                               value_label=data.output_name or "u", value_unit=data.output_unit,
                               X=data.X, param_names=data.param_names, param_units=_param_units(data),
                               title=f"{tag}: surrogate vs solver", Y_std=std, path=paths[f"profiles_{tag}"])
    first = next(iter(sets.values()))
    paths["error_vs_parameters"] = out / "error_vs_parameters.png"
    plotting.plot_error_vs_parameters(np.vstack([d.X for d in sets.values()]),
                                      np.concatenate([reports[tag].rel_l2 for tag in sets]),
                                      first.param_names, param_units=_param_units(first),
                                      groups=np.concatenate([[tag] * len(d) for tag, d in sets.items()]),
                                      path=paths["error_vs_parameters"])
    paths["error_along_grid"] = out / "error_along_grid.png"
    plotting.plot_error_along_grid(first.grid, {tag: reports[tag].error_per_point for tag in sets},
                                   grid_label=first.grid_name or "x", grid_unit=first.grid_unit,
                                   value_label=first.output_name, value_unit=first.output_unit,
                                   path=paths["error_along_grid"])
    return paths


def _md_table(reports):
    names = list(reports)
    rows = [r for r, _ in reports[names[0]].rows()]
    values = {n: dict(reports[n].rows()) for n in names}
    lines = ["| measure | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    lines += [f"| {r} | " + " | ".join(values[n][r] for n in names) + " |" for r in rows]
    return "\n".join(lines)


def write_report(out, title, model, reports, sets, doc):
    """report.md, metrics.json (`doc`) and the figures for `reports` (name -> Report) in `out`.

    `sets` maps the same names to the Datasets the reports were measured on.
    Every file is written whole or not at all. Returns name -> path.
    """
    from .. import plotting
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    paths.update(_plots(out, model, {name: sets[name] for name in reports}, reports))
    paths["loss"] = out / "loss.png"
    plotting.plot_loss(model.history_, path=paths["loss"])
    md = [f"# {title}", ""]
    if doc.get("description"):
        md += [doc["description"], ""]
    if doc.get("quick"):
        md += ["**Quick mode**: a smoke test of the whole path on few cases, a tiny fit and the "
               "problem's coarse solver; these numbers say that it runs, not how good a surrogate is.", ""]
    md += [f"Network {list(model.net_.sizes[1:-1])} ({model.activation}), {model.scaling_.n_modes} output "
           f"PCA modes; trained on {model.n_train_} cases, validated on {model.n_val_}, fit in "
           f"{model.fit_seconds_:.1f} s. "
           + " ".join(f"{name}: {rep.n_profiles} held-out cases." for name, rep in reports.items()), "",
           "Solver time is one process per profile; surrogate time is `predict` on one thread, "
           "batched (10 000 profiles: the held-out inputs, repeated) or one case per call.", "",
           _md_table(reports), ""]
    md += [f"![{p.stem}]({p.name})" for key, p in paths.items()]
    paths["report"] = write_text_atomic(out / "report.md", "\n".join(md) + "\n")
    paths["metrics"] = write_text_atomic(out / "metrics.json", strict_json(_finite_or_none(doc), indent=2) + "\n")
    return paths
