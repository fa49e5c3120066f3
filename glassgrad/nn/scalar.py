"""Neural networks of scalar Values: a neuron, a layer of neurons, a multi-layer perceptron.

The classes and defaults are micrograd's (`MLP(nin, nouts)`: ReLU hidden layers, a linear
output). The lecture's network is `MLP(3, [4, 4, 1], activation='tanh', output_activation='tanh')`,
or `MLP.lecture()` for short.

Every parameter is labelled by where it sits: in an MLP, `L1.N0.w2` is weight 2 (it multiplies
input 2) of neuron 0 of layer 1, and `L1.N0.b` its bias; a Layer's own are `N0.w1`, a Neuron's
`w1`. Weights and inputs count from 1, as in the lecture (`x1*w1 + x2*w2 + b`); layers and
neurons from 0, as Python lists. Each call labels the neuron's weighted sum `L1.N0.n` and its
output `L1.N0.o`, and an MLP names its inputs `x1`, `x2`, ... where they have no label. A label
given by the user is never replaced.
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


def _label(value: Value, label: str) -> Value:
    """`value` with `label` unless it already has one: a user's own label wins."""
    if not value.label:
        value.label = label
    return value


class Neuron(Module):
    """activation(w . x + b) for `nin` inputs; `nonlin=False` makes it linear, as in micrograd.

    `fused=True` computes w . x + b as one `linear` node; `fused=False` as micrograd and the
    lecture do, from `*` and `+` nodes: `b + w1*x1`, then `+ w2*x2`, ... (the same numbers).
    `name` prefixes the labels of its parameters and results (`L0.N2` gives `L0.N2.w1`).
    """

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        activation: str | None = "relu",
        seed: int | random.Random | None = None,
        fused: bool = True,
        name: str = "",
    ) -> None:
        check_activation(activation)
        _check_size(nin, "Neuron: the number of inputs")
        rng = make_rng(seed)
        prefix = f"{name}." if name else ""
        self.w = [Value(rng.uniform(-1, 1), label=f"{prefix}w{k}") for k in range(1, nin + 1)]
        self.b = Value(0.0, label=f"{prefix}b")
        self.activation = activation if nonlin else None
        self.fused = fused
        self._sum_label, self._out_label = f"{prefix}n", f"{prefix}o"

    def __call__(self, x: Sequence[Value | float]) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron takes {len(self.w)} inputs, got {len(x)}")
        if self.fused:
            act = linear(self.w, x, self.b)
        else:
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        _label(act, self._sum_label)
        return act if self.activation is None else _label(getattr(act, self.activation)(), self._out_label)

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

    def __repr__(self) -> str:
        return f"{self.activation or 'linear'}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons reading the same `nin` inputs; one neuron gives a Value, more a list."""

    def __init__(
        self, nin: int, nout: int, seed: int | random.Random | None = None, name: str = "", **kwargs: Any
    ) -> None:
        rng = make_rng(seed)
        prefix = f"{name}." if name else ""
        self.neurons = [Neuron(nin, seed=rng, name=f"{prefix}N{j}", **kwargs) for j in range(nout)]

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
    """Layers of sizes `nouts` on `nin` inputs: `activation` between layers, `output_activation` at the end.

    `fused=False` builds each neuron's weighted sum from `*` and `+` as micrograd does (see `Neuron`).
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | None = "relu",
        output_activation: str | None = None,
        seed: int | random.Random | None = None,
        fused: bool = True,
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
            Layer(
                sizes[i],
                sizes[i + 1],
                seed=rng,
                name=f"L{i}",
                activation=output_activation if i == last else activation,
                fused=fused,
            )
            for i in range(len(nouts))
        ]

    @classmethod
    def lecture(cls, seed: int | random.Random | None = None, fused: bool = True) -> MLP:
        """The lecture's network: 3 inputs, two hidden layers of 4 tanh neurons, one tanh output.

        micrograd's default (ReLU hidden layers, a linear output) stalls on the lecture's four
        examples: with ReLU, a neuron whose sum is negative for every example passes no gradient.
        """
        return cls(3, [4, 4, 1], activation="tanh", output_activation="tanh", seed=seed, fused=fused)

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        nin = len(self.layers[0].neurons[0].w)
        if len(x) != nin:
            raise ValueError(f"this MLP takes {nin} inputs, got {len(x)}")
        x = [_label(xi if isinstance(xi, Value) else Value(xi), f"x{k}") for k, xi in enumerate(x, 1)]
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
