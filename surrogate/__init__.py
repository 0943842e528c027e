"""surrogate: Numba-JIT neural networks that stand in for slow physics solvers.

The learning engine knows no physics: `MLP` (the network of the notes,
Eqs. 1-24), optimisers, `train`, and the `Surrogate` model built on them.
"""
from .activations import ACTIVATIONS
from .network import MLP
from .optimizers import (SGD, Adam, LBFGS, Constant, CosineDecay, ExponentialDecay,
                         ReduceOnPlateau, StepDecay)
from .training import History, TrainingDiverged, train

__all__ = [
    "ACTIVATIONS", "MLP", "SGD", "Adam", "LBFGS", "Constant", "StepDecay", "ExponentialDecay",
    "CosineDecay", "ReduceOnPlateau", "train", "History", "TrainingDiverged",
]
