"""Any physicist's solver as a problem, in a few lines.

>>> import numpy as np, problems
>>> from problems import Parameter
>>> def decay(params):                       # a function importable by module and name
...     tau, u0 = params
...     return u0 * np.exp(-np.linspace(0, 1, 32) / tau)
>>> p = problems.wrap(decay, [Parameter("tau", 0.1, 1.0, "s", "decay time"),
...                           Parameter("u0", 1.0, 2.0, "V", "initial value")],
...                   np.linspace(0, 1, 32), name="decay", grid_name="t", grid_unit="s",
...                   output_name="u", output_unit="V")          # doctest: +SKIP

The function runs in worker processes (and on Dask workers), which find it
by its module and qualified name: a lambda, a closure or a nested function
is refused before any work. The cache of `problems.generate` knows the
function by that name and by `settings`, not by its body: after editing the
function, pass a new `settings` value (e.g. ``{"version": 2}``) or use a
fresh cache, or the cache will serve the old function's profiles.
"""
from __future__ import annotations

import importlib

import numpy as np

from ._files import strict_json
from .base import Parameter, Problem

__all__ = ["wrap", "WrappedProblem"]


def _reference(solve):
    """'module:qualname' of `solve`, or ValueError if workers could not import it."""
    module, qualname = getattr(solve, "__module__", None), getattr(solve, "__qualname__", None)
    if not callable(solve) or module is None or qualname is None:
        raise ValueError(f"`solve` must be a function, got {solve!r}")
    if "<lambda>" in qualname or "<locals>" in qualname:
        raise ValueError(f"`solve` = {qualname} is a lambda or a nested function; worker processes "
                         "find the solver by module and name, so define it at the top level of a "
                         "module (not inside another function)")
    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        found = None
    if found is not solve:
        raise ValueError(f"`solve` = {module}.{qualname} cannot be imported by that name, so worker "
                         "processes could not find it; define it at the top level of an importable module")
    return f"{module}:{qualname}"


class WrappedProblem(Problem):
    """A `Problem` around a plain function ``solve(params) -> profile``."""

    def __init__(self, solve, parameters, grid, *, name, grid_name="x", grid_unit="",
                 output_name="u", output_unit="", description="", settings=None):
        self.function = _reference(solve)
        self._function = solve
        if not (isinstance(name, str) and name and ":" not in name and name.strip() == name):
            raise ValueError(f"`name` must be a non-empty string without ':' or surrounding spaces, got {name!r}")
        parameters = tuple(parameters)
        if not parameters or not all(isinstance(p, Parameter) for p in parameters):
            raise ValueError("`parameters` must be a non-empty sequence of problems.Parameter, "
                             f"got {parameters!r}")
        names = [p.name for p in parameters]
        if len(set(names)) != len(names):
            raise ValueError(f"`parameters` have repeated names: {names}")
        grid = np.array(grid, dtype=np.float64)
        if grid.ndim != 1 or grid.size < 1 or not np.all(np.isfinite(grid)):
            raise ValueError(f"`grid` must be a non-empty 1-D array of finite numbers, got shape {grid.shape}")
        for label, value in (("grid_name", grid_name), ("grid_unit", grid_unit), ("output_name", output_name),
                             ("output_unit", output_unit), ("description", description)):
            if not isinstance(value, str):
                raise ValueError(f"`{label}` must be a string, got {value!r}")
        self.name, self.description, self.parameters = name, description, parameters
        self.grid_name, self.grid_unit = grid_name, grid_unit
        self.output_name, self.output_unit = output_name, output_unit
        self.grid = grid
        # what identifies the solver in dataset metadata and in the cache
        self.settings = {"function": self.function, "settings": settings}
        try:
            strict_json(self.settings)
        except (TypeError, ValueError):
            raise ValueError(f"`settings` must be JSON-serialisable (numbers, strings, lists, dicts), "
                             f"got {settings!r}") from None

    def _solve(self, params):
        return self._function(params)

    def __getstate__(self):  # workers find the function by name, not by a pickled body
        state = dict(self.__dict__)
        del state["_function"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        module, qualname = self.function.split(":")
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
        self._function = found

    def __repr__(self):
        return f"wrap({self.function}, name={self.name!r})"


def wrap(solve, parameters, grid, *, name, grid_name="x", grid_unit="", output_name="u",
         output_unit="", description="", settings=None):
    """A `Problem` from a plain function ``solve(params) -> profile``.

    solve       called with the parameters as a float64 vector, in the order of
                `parameters`; returns the profile on `grid`. Must be importable
                by module and qualified name (no lambdas or closures).
    parameters  a sequence of `problems.Parameter` (name, bounds, unit, description)
    grid        the 1-D grid the profile lives on
    settings    anything JSON-serialisable that identifies the solver's
                configuration; change it when you change the function's body,
                so a cache made with the old body is not reused.
    """
    return WrappedProblem(solve, parameters, grid, name=name, grid_name=grid_name, grid_unit=grid_unit,
                          output_name=output_name, output_unit=output_unit, description=description,
                          settings=settings)
