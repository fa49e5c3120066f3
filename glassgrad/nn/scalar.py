"""Neural networks of scalar Values: a neuron, a layer of neurons, a multi-layer perceptron.

The classes and defaults are micrograd's (`MLP(nin, nouts)`: ReLU hidden layers, a linear
output). The lecture's network is `MLP(3, [4, 4, 1], activation='tanh', output_activation='tanh')`.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from glassgrad.engine import Value, linear
from glassgrad.nn.module import Module, check_activation

_GLOBAL_RNG: random.Random = random.uniform.__self__  # the generator behind random.seed() and random.uniform()


def make_rng(seed: int | random.Random | None) -> random.Random:
    """The generator a model initialises from: for a seed, a private one that leaves `random`'s
    global state alone; for None, Python's global one, as micrograd does, so that
    `random.seed(1337)` before building a model still reproduces it."""
    if seed is None:
        return _GLOBAL_RNG
    return seed if isinstance(seed, random.Random) else random.Random(seed)


def _check_size(n: Any, what: str) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{what} must be a whole number >= 1, got {n!r}")


class Neuron(Module):
    """activation(w . x + b) for `nin` inputs; `nonlin=False` makes it linear, as in micrograd."""

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        activation: str | None = "relu",
        seed: int | random.Random | None = None,
    ) -> None:
        check_activation(activation)
        _check_size(nin, "Neuron: the number of inputs")
        rng = make_rng(seed)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = activation if nonlin else None

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")
        act = linear(self.w, x, self.b)
        return act if self.activation is None else getattr(act, self.activation)()

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{self.activation or 'linear'}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons reading the same `nin` inputs; one neuron gives a Value, more a list."""

    def __init__(self, nin: int, nout: int, seed: int | random.Random | None = None, **kwargs: Any) -> None:
        rng = make_rng(seed)
        self.neurons = [Neuron(nin, seed=rng, **kwargs) for _ in range(nout)]

    def __call__(self, x: Sequence[Value | float] | Value) -> Value | list[Value]:
        if isinstance(x, Value):
            x = [x]
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes `nouts` on `nin` inputs: `activation` between layers, `output_activation` at the end."""

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | None = "relu",
        output_activation: str | None = None,
        seed: int | random.Random | None = None,
    ) -> None:
        check_activation(activation)
        check_activation(output_activation)
        _check_size(nin, "MLP: the number of inputs")
        if not nouts:
            raise ValueError("MLP: nouts must list at least one layer size, e.g. [16, 16, 1]")
        for i, n in enumerate(nouts):
            _check_size(n, f"MLP: layer {i}'s size")
        rng = make_rng(seed)
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [
            Layer(sizes[i], sizes[i + 1], seed=rng, activation=output_activation if i == last else activation)
            for i in range(len(nouts))
        ]

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        nin = len(self.layers[0].neurons[0].w)
        if len(x) != nin:
            raise ValueError(f"this MLP takes {nin} inputs, got {len(x)}")
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
