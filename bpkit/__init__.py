"""bpkit: a small numpy package for learning backpropagation.

The library a reader reads, numpy only: importing it sets no plotting backend, touches
no random seed and imports no matplotlib or ipywidgets. The course machinery (explorers,
exercise checkers, figures, the bug gallery) is the package ``bpcourse`` beside it; the
old paths of the modules that moved there (``bpkit.plotting``, ``bpkit.exercises``, ...)
still import, with a warning naming the new one.
"""

from bpkit import _moved, data
from bpkit.activations import (
    get_activation,
    leaky_relu,
    leaky_relu_grad,
    register_activation,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)
from bpkit.engine import Value
from bpkit.errors import NonFiniteError, ShapeError
from bpkit.gradcheck import diagnose, gradcheck, numerical_gradient, relative_error
from bpkit.layers import Activation, Dense, Layer, Parameter
from bpkit.losses import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    get_loss,
    logsumexp,
    mse,
    mse_grad,
    register_loss,
    softmax,
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
)
from bpkit.model import Sequential, mlp
from bpkit.normalization import BatchNorm
from bpkit.optim import (
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Momentum,
    Optimizer,
    RMSProp,
    check_learning_rate,
    register_optimizer,
)
from bpkit.residual import Scale, residual_block
from bpkit.schedules import WarmupCosine
from bpkit.train import History, TrainingDiverged, train, train_step

__version__ = "0.1.0"

_moved.install()

__all__ = [
    "SGD",
    "Activation",
    "Adagrad",
    "Adam",
    "AdamW",
    "BatchNorm",
    "Dense",
    "History",
    "Layer",
    "Momentum",
    "NonFiniteError",
    "Optimizer",
    "Parameter",
    "RMSProp",
    "Scale",
    "Sequential",
    "ShapeError",
    "TrainingDiverged",
    "Value",
    "WarmupCosine",
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "check_learning_rate",
    "data",
    "diagnose",
    "get_activation",
    "get_loss",
    "gradcheck",
    "leaky_relu",
    "leaky_relu_grad",
    "logsumexp",
    "mlp",
    "mse",
    "mse_grad",
    "numerical_gradient",
    "register_activation",
    "register_loss",
    "register_optimizer",
    "relative_error",
    "relu",
    "relu_grad",
    "residual_block",
    "sigmoid",
    "sigmoid_grad",
    "softmax",
    "softmax_cross_entropy",
    "softmax_cross_entropy_grad",
    "tanh",
    "tanh_grad",
    "train",
    "train_step",
]
