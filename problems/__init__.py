"""Physics problems as datasets: real solvers over sampled parameter boxes.

>>> import problems
>>> problems.names()
['burgers', 'heat', 'pinch', 'schrodinger', 'vlasov']
>>> heat = problems.get("heat")
>>> data = problems.generate(heat, 256, seed=1, workers=2)   # doctest: +SKIP

Your own solver becomes a problem with `wrap`, and any problem name may also
be a ``module:attribute`` reference (see `registry`).

``problems`` knows no networks: it never imports ``surrogate``.
"""

from .base import Parameter, Problem
from .dataset import Dataset
from .generate import generate, solve_points
from .registry import get, names
from .sampling import sample
from .wrap import wrap

__all__ = ["names", "get", "wrap", "sample", "generate", "solve_points", "Dataset", "Problem", "Parameter"]
