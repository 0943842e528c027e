"""Activation functions by name: docs/maths.md, Eqs. (2)-(4), and smooth extras.

Each name maps to an integer code that the compiled kernels switch on once
per layer (not per element), and to the weight initialisation that suits it.
The element-wise code lives in `_kernels._activate`.
"""

IDENTITY, STEP, RELU, SIGMOID, TANH, SOFTPLUS, SILU = range(7)

#: name -> kernel code. `identity` is sigma(z) = z, for the output layer of a regression.
ACTIVATIONS = {
    "identity": IDENTITY,
    "step": STEP,          # Eq. (2)
    "relu": RELU,          # Eq. (3)
    "sigmoid": SIGMOID,    # Eq. (4)
    "tanh": TANH,
    "softplus": SOFTPLUS,  # log(1 + e^z): a smooth relu
    "silu": SILU,          # z * sigmoid(z)
}

#: name -> initialisation: Glorot for saturating/linear units, He for relu-like.
INITIALISATION = {
    "identity": "glorot", "step": "glorot", "sigmoid": "glorot", "tanh": "glorot",
    "relu": "he", "softplus": "he", "silu": "he",
}


def activation_code(name, argument="activation"):
    """The kernel code of activation `name`; unknown names list the valid ones."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ValueError(f"`{argument}` must be one of {sorted(ACTIVATIONS)}, got {name!r}") from None
