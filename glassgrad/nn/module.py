"""What every model shares, scalar or Tensor: its parameters, and the activations it may use."""

from __future__ import annotations

from collections.abc import Sequence

from glassgrad.autograd import zero_grads

ACTIVATIONS = ("relu", "tanh", "sigmoid", None)


def check_activation(name: str | None) -> None:
    """ValueError unless `name` is an activation a model can be built with."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


def hidden_activation(per_layer: Sequence[str | None], where: str) -> str | None:
    """The `activation=` an MLP needs to have `per_layer` activations after its hidden layers:
    the one they share ('relu', the default, when there is no hidden layer)."""
    hidden = set(per_layer[:-1])
    if len(hidden) > 1:
        raise ValueError(f"{where}: hidden layers must share one activation, got {sorted(map(str, hidden))}")
    return hidden.pop() if hidden else "relu"


class Module:
    """Something with parameters: a neuron, a layer, a network."""

    def parameters(self) -> list:
        """Every trainable parameter, in a fixed order."""
        return []

    def zero_grad(self) -> None:
        """Reset every parameter's gradient before the next backward pass."""
        zero_grads(self.parameters())
