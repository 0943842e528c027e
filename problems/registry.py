"""Problems by name: the built-in ones, those that installed packages register,
and any ``module:attribute`` reference.

* A built-in name (``"heat"``) or a name registered by an installed package
  through the entry-point group ``surrogate.problems``, whose value is a
  ``module:attribute`` reference, e.g. in a package's pyproject.toml::

      [project.entry-points."surrogate.problems"]
      tokamak_edge = "mycode.surrogates:EdgeProblem"

* A ``module:attribute`` reference itself, e.g. ``"mycode.surrogates:edge"``.
  The attribute may be a `Problem` instance (then no solver options may be
  given: they would be silently lost), a `Problem` subclass whose arguments
  all have defaults, or a zero-argument factory returning a Problem.
"""
from __future__ import annotations

import importlib
import inspect
from importlib.metadata import entry_points

from .base import Problem
from .burgers import Burgers
from .heat import Heat
from .pinch import Pinch
from .schrodinger import Schrodinger
from .euler import ShockEntropy
from .equilibrium import TokamakEquilibrium
from .transport import CoreTransport
from .vlasov import VlasovPoisson

ENTRY_POINT_GROUP = "surrogate.problems"

# name -> class; a table, not an if-chain.
BUILTIN = {cls.name: cls for cls in (Heat, Burgers, Pinch, Schrodinger, ShockEntropy, CoreTransport, VlasovPoisson,
                                          TokamakEquilibrium)}


def _registered():
    """name -> entry point, for the installed packages' problems."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in BUILTIN}


def names():
    """Names of the available problems, sorted: built-in and registered by installed packages."""
    return sorted(set(BUILTIN) | set(_registered()))


def _attribute(reference):
    """The object a 'module:attribute' reference names, or ValueError."""
    module, _, attribute = reference.partition(":")
    if not module or not attribute:
        raise ValueError(f"a problem reference is 'module:attribute', got {reference!r}")
    try:
        found = importlib.import_module(module)
    except ImportError as exc:
        raise ValueError(f"problem {reference!r}: cannot import module {module!r} ({exc})") from None
    for part in attribute.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            raise ValueError(f"problem {reference!r}: module {module!r} has no attribute {attribute!r}") from None
    return found


def _build(target, reference, options, quick):
    """A Problem from what a reference names: an instance, a class, or a factory."""
    if isinstance(target, Problem):
        if options:
            raise ValueError(f"problem {reference!r} is a ready Problem instance; solver options "
                             f"{sorted(options)} cannot be applied to it (name its class or a factory instead)")
        return target
    if inspect.isclass(target) and issubclass(target, Problem):
        return target(**({**target.quick, **options} if quick else options))
    if callable(target):
        try:
            inspect.signature(target).bind(**options)
        except TypeError as exc:
            raise ValueError(f"problem {reference!r} names a function that cannot be called with "
                             f"{'options ' + str(sorted(options)) if options else 'no arguments'} ({exc}); "
                             "expected a Problem instance, a Problem class or a zero-argument factory") from None
        except ValueError:  # no signature to inspect (a builtin): just call it
            pass
        problem = target(**options)
        if not isinstance(problem, Problem):
            raise ValueError(f"problem {reference!r}: the factory returned {type(problem).__name__}, "
                             "not a problems.Problem")
        return problem
    raise ValueError(f"problem {reference!r} names a {type(target).__name__}; expected a "
                     "problems.Problem instance, a Problem class or a factory function")


def get(name, *, quick=False, **options):
    """The problem called `name`, built with solver `options`.

    name     a built-in or registered name (`names()`), or 'module:attribute'
    quick    build it with its class's `quick` options (a coarse solver for
             smoke tests; explicit options win)
    options  the problem's constructor arguments, e.g. ``get("heat", n_cells=1024)``
    """
    if not isinstance(name, str):
        raise ValueError(f"a problem name must be a string, got {name!r}")
    if ":" in name:
        return _build(_attribute(name), name, options, quick)
    if name in BUILTIN:
        return _build(BUILTIN[name], name, options, quick)
    registered = _registered()
    if name in registered:
        return _build(_attribute(registered[name].value), name, options, quick)
    raise ValueError(f"unknown problem {name!r}; valid names: {', '.join(names())}, "
                     "or 'module:attribute' for a problem of your own")
