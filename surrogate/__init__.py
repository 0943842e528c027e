"""surrogate: Numba-JIT neural networks that stand in for slow physics solvers.

The learning engine knows no physics: `MLP` (the network of docs/maths.md,
Eqs. 1-24), optimisers, `train`, the `Surrogate` model built on them, held-out
`metrics`, pickle-free model files (`io`) and figures (`plotting`, imported on
first use since it loads matplotlib).
"""
import importlib

from . import io, metrics
from .activations import ACTIVATIONS
from .io import ModelFileError
from .metrics import Report, evaluate
from .model import OutOfDomainError, OutOfDomainWarning, Surrogate
from .network import MLP
from .optimizers import (SGD, Adam, LBFGS, Constant, CosineDecay, ExponentialDecay,
                         ReduceOnPlateau, StepDecay)
from .training import History, TrainingDiverged, train

__all__ = [
    "ACTIVATIONS", "MLP", "SGD", "Adam", "LBFGS", "Constant", "StepDecay", "ExponentialDecay",
    "CosineDecay", "ReduceOnPlateau", "train", "History", "TrainingDiverged", "Surrogate",
    "OutOfDomainError", "OutOfDomainWarning", "evaluate", "Report", "ModelFileError", "metrics",
    "io", "plotting",
]


def __getattr__(name):
    if name == "plotting":
        return importlib.import_module(".plotting", __name__)
    raise AttributeError(f"module 'surrogate' has no attribute {name!r}")
