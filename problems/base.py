"""The contract every physical problem fulfils.

A :class:`Problem` is a physical model plus its numerical solver, seen as a
map from a point in a box of physical parameters to a profile on a fixed
1-D grid.  Subclasses set the class attributes, build ``grid`` and
``settings`` in ``__init__`` and implement ``_solve``; the public
:meth:`Problem.solve` checks the parameters and the returned profile, so
every solver is held to the same rules.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Parameter", "Problem"]

from threadpoolctl import threadpool_limits


@contextlib.contextmanager
def single_threaded_blas():
    """Run the block with one BLAS thread.

    Solvers built on small dense factorisations are slower, not faster, with
    a threaded BLAS (10-50x on a loaded machine), and generation runs many
    solves in parallel already.  A fixed thread count also fixes the order
    of floating-point sums, so results are bitwise reproducible.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@dataclass(frozen=True)
class Parameter:
    """One axis of a problem's parameter box.

    ``description`` is one line of physical meaning, e.g. "edge electron
    temperature at the wall".
    """

    name: str
    lower: float
    upper: float
    unit: str = None
    description: str = None

    def __post_init__(self):
        if not (isinstance(self.name, str) and self.name.isidentifier()):
            raise ValueError(f"Parameter name must be an identifier, got {self.name!r}")
        if not isinstance(self.unit, str):
            raise ValueError(f"Parameter {self.name!r} needs a `unit`: a string such as 'm', 'keV' "
                             f"or '1e19 m^-3' ('' for a pure number), got {self.unit!r}")
        if not (isinstance(self.description, str) and self.description.strip()):
            raise ValueError(f"Parameter {self.name!r} needs a `description`: one line of physical "
                             f"meaning, e.g. 'edge electron temperature', got {self.description!r}")
        lower, upper = float(self.lower), float(self.upper)
        if not (math.isfinite(lower) and math.isfinite(upper) and lower < upper):
            raise ValueError(
                f"Parameter {self.name!r} needs finite bounds with lower < upper, "
                f"got lower={self.lower!r}, upper={self.upper!r}"
            )
        # Frozen dataclass: store the float values through object.__setattr__.
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "lower": self.lower,
            "upper": self.upper,
            "unit": self.unit,
            "description": self.description,
        }


class Problem:
    """A physical model: parameter box, output grid and solver.

    Subclasses define ``name``, ``description``, ``parameters``,
    ``grid_name``, ``grid_unit``, ``output_name``, ``output_unit`` as class
    attributes, set ``self.grid`` (1-D float64) and ``self.settings`` (a
    JSON-serialisable dict of solver options: resolution, tolerances) in
    ``__init__``, and implement ``_solve(params) -> profile``.

    ``settings`` identifies the solver configuration: it goes into dataset
    metadata and into the identity of a generation cache, so two problems
    with equal ``name``, ``settings``, box and grid must give equal profiles.
    """

    name: str = ""
    description: str = ""
    parameters: tuple[Parameter, ...] = ()
    grid_name: str = "x"
    grid_unit: str = ""
    output_name: str = "u"
    output_unit: str = ""
    #: Constructor options of a coarse, fast solver for smoke tests (quick mode:
    #: `surrogate run --quick`, the notebooks' SURROGATE_QUICK=1); its profiles
    #: are finite but not accurate. Empty for problems that are cheap already.
    quick: dict = {}

    grid: np.ndarray
    settings: dict

    # ----------------------------------------------------------------- box
    @property
    def n_inputs(self) -> int:
        """Number of inputs d: the parameters of the box."""
        return len(self.parameters)

    @property
    def param_names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def lower(self) -> np.ndarray:
        return np.array([p.lower for p in self.parameters], dtype=np.float64)

    @property
    def upper(self) -> np.ndarray:
        return np.array([p.upper for p in self.parameters], dtype=np.float64)

    def check_params(self, params) -> np.ndarray:
        """Return ``params`` as a float64 vector, or raise ValueError.

        The error names the offending parameter, its value and its bounds.
        """
        p = np.asarray(params, dtype=np.float64)
        if p.ndim != 1 or p.shape[0] != self.n_inputs:
            raise ValueError(
                f"{self.name}: params must be a vector of length {self.n_inputs} "
                f"({', '.join(self.param_names)}), got shape {p.shape}"
            )
        for value, par in zip(p, self.parameters):
            # NaN fails both comparisons, so it is caught here too.
            if not (par.lower <= value <= par.upper):
                raise ValueError(
                    f"{self.name}: parameter {par.name!r} = {float(value)!r} is outside its "
                    f"bounds [{par.lower!r}, {par.upper!r}] {par.unit}".rstrip()
                )
        return p

    # -------------------------------------------------------------- solve
    def solve(self, params) -> np.ndarray:
        """Profile on ``self.grid`` for one parameter point (1-D float64)."""
        p = self.check_params(params)
        profile = np.asarray(self._solve(p), dtype=np.float64)
        if profile.shape != self.grid.shape:
            raise RuntimeError(
                f"{self.name}: solver returned shape {profile.shape}, "
                f"expected {self.grid.shape} (the grid)"
            )
        return profile

    def _solve(self, params: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must implement _solve")

    # ------------------------------------------------------------ metadata
    def describe(self) -> dict:
        """JSON-serialisable description: what a dataset records about us."""
        return {
            "problem": self.name,
            "description": self.description,
            "parameters": [p.as_dict() for p in self.parameters],
            "box": {"lower": self.lower.tolist(), "upper": self.upper.tolist()},
            "grid": {"name": self.grid_name, "unit": self.grid_unit, "size": int(self.grid.size)},
            "output": {"name": self.output_name, "unit": self.output_unit},
            "settings": dict(self.settings),
        }

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.settings.items())
        return f"{type(self).__name__}({opts})"


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    """Solver-option check shared by the problem constructors."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_positive_float(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be a positive number, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"`{name}` must be a positive number, got {value!r}")
    return v
