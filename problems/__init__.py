"""Physics problems as datasets: real solvers over sampled parameter boxes.

>>> import problems
>>> problems.names()
['burgers', 'heat', 'pinch', 'schrodinger']
>>> heat = problems.get("heat")
>>> data = problems.generate(heat, 256, seed=1, workers=2)   # doctest: +SKIP

``problems`` knows no networks: it never imports ``surrogate``.
"""

from .base import Parameter, Problem
from .burgers import Burgers
from .dataset import Dataset
from .generate import generate
from .heat import Heat
from .pinch import Pinch
from .sampling import sample
from .schrodinger import Schrodinger

__all__ = ["names", "get", "sample", "generate", "Dataset", "Problem", "Parameter"]

# name -> class; a table, not an if-chain.
_PROBLEMS = {cls.name: cls for cls in (Heat, Burgers, Pinch, Schrodinger)}


def names():
    """Names of the available problems, sorted."""
    return sorted(_PROBLEMS)


def get(name, **options):
    """The problem called ``name``, built with solver ``options``.

    ``options`` are the problem's constructor arguments (resolution,
    tolerances), e.g. ``get("heat", n_cells=1024)``.
    """
    try:
        cls = _PROBLEMS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown problem {name!r}; valid names: {', '.join(names())}") from None
    return cls(**options)
