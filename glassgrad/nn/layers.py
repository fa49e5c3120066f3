"""Layers of Tensors as PyTorch has them: Linear, Embedding, Flatten, the activations, Sequential, an MLP.

The Tensor twins of `glassgrad.nn.scalar`: where a scalar `Layer` holds `nout` neurons of `nin`
weights each, `Linear` holds them as the rows of one (out_features, in_features) matrix and
computes every neuron for every example of a batch in one matrix product. Parameter names,
shapes and initialisation are PyTorch's, so a `state_dict` moves between the two unchanged.
Without `seed=`, initial weights come from the default generator
(`glassgrad.manual_seed` makes them reproducible).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from glassgrad._tensor.dtypes import get_default_dtype, to_dtype
from glassgrad._tensor.functional import linear
from glassgrad._tensor.generator import Generator, generator_for
from glassgrad._tensor.tensor import Tensor
from glassgrad.autograd import no_grad
from glassgrad.nn import functional as F
from glassgrad.nn import init
from glassgrad.nn.module import Module, hidden_activation
from glassgrad.nn.parameter import Parameter

Seed = int | Generator | None


def _float_dtype(dtype: Any, where: str) -> np.dtype:
    resolved = get_default_dtype() if dtype is None else to_dtype(dtype, where)
    if resolved.kind != "f":
        raise TypeError(f"{where}: parameters are floating; dtype must be float32 or float64, got {resolved}")
    return resolved


class Linear(Module):
    """y = x W^T + b for x of shape (..., in_features): W is (out_features, in_features), b is (out_features,).

    W and b start uniform in [-1/sqrt(in_features), 1/sqrt(in_features)], as `torch.nn.Linear`, labelled
    `weight` and `bias` (`L0.weight`, `L0.bias` for an MLP's first Linear layer).
    """

    def __init__(
        self, in_features: int, out_features: int, bias: bool = True, seed: Seed = None, dtype: Any = None
    ) -> None:
        _check_size("Linear", "in_features", in_features)
        _check_size("Linear", "out_features", out_features)
        dtype = _float_dtype(dtype, "Linear")
        generator = generator_for(seed, "Linear")
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)  # PyTorch's: ±1/sqrt(in_features)
        self.weight.label = "weight"
        if bias:
            bound = 1 / math.sqrt(in_features)
            self.bias = Parameter(np.empty(out_features, dtype))
            init.uniform_(self.bias, -bound, bound, generator)
            self.bias.label = "bias"
        else:
            self.register_parameter("bias", None)

    @property
    def nin(self) -> int:
        """The number of inputs (`in_features`), micrograd's name."""
        return self.in_features

    @property
    def nout(self) -> int:
        """The number of neurons (`out_features`), micrograd's name."""
        return self.out_features

    def forward(self, x: Tensor | Any) -> Tensor:
        """The layer on `x`: a numpy array or list is converted to the layer's dtype; a Tensor must
        already have it (ValueError otherwise, as PyTorch), so that no dtype changes silently."""
        if not isinstance(x, Tensor):
            x = Tensor(x, dtype=self.weight.dtype)
        elif x.dtype != self.weight.dtype:
            raise ValueError(
                f"{self!r} has {self.weight.dtype} weights but got a {x.dtype} Tensor; convert it with "
                f"x.astype(np.{self.weight.dtype.name}) (or pass a numpy array, which the layer converts), "
                f"or make the layer with dtype=np.{x.dtype.name}"
            )
        width = x.shape[-1] if x.ndim else 0
        if width != self.in_features:
            raise ValueError(
                f"{self!r} takes inputs of width {self.in_features}, got width {width} (shape {tuple(x.shape)})"
            )
        return linear(x, self.weight, self.bias)

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features}{'' if self.bias is not None else ', bias=False'})"


def _check_size(where: str, name: str, n: Any) -> None:
    """ValueError unless `n` is a positive integer: a width (the number of inputs) or a layer size."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
        what = "the number of inputs" if name in ("nin", "in_features") else "a number of neurons"
        raise ValueError(f"{where}: {name} must be a positive integer ({what}), got {n!r}")


class Embedding(Module):
    """A lookup table: row i of `weight` (num_embeddings, embedding_dim) is the vector of index i.

    `weight` starts standard normal, as `torch.nn.Embedding`; the input is a tensor of int64 indices
    and the result has one more axis, of size embedding_dim. The row `padding_idx` (PyTorch's third
    argument; negative counts from the end) starts at zero and gets no gradient.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, *,
                 seed: Seed = None, dtype: Any = None) -> None:
        _check_size("Embedding", "num_embeddings", num_embeddings)
        _check_size("Embedding", "embedding_dim", embedding_dim)
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = F.padding_row(padding_idx, num_embeddings)
        self.weight = Parameter(np.empty((num_embeddings, embedding_dim), _float_dtype(dtype, "Embedding")))
        init.normal_(self.weight, generator=generator_for(seed, "Embedding"))
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0.0

    def forward(self, indices: Tensor | Any) -> Tensor:
        return F.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"


class Flatten(Module):
    """Axes start_dim .. end_dim merged into one: (N, 4, 10) -> (N, 40) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class ReLU(Module):
    """max(x, 0) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()

    def __repr__(self) -> str:
        return "ReLU()"


class Tanh(Module):
    """tanh x elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()

    def __repr__(self) -> str:
        return "Tanh()"


class Sigmoid(Module):
    """1 / (1 + e^-x) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return x.sigmoid()

    def __repr__(self) -> str:
        return "Sigmoid()"


class GELU(Module):
    """x Φ(x), Φ the normal distribution function: exact (with erf), or GPT-2's tanh approximation
    with `approximate='tanh'` (see `F.gelu`)."""

    def __init__(self, approximate: str = "none") -> None:
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Identity(Module):
    """Its input, unchanged (a placeholder where a layer may go); any arguments are ignored, as PyTorch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to set up."""

    def forward(self, x: Any) -> Any:
        return x


ACTIVATIONS: dict[str | None, type[Module] | None] = {"relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid, None: None}


class Sequential(Module):
    """Modules applied one after another: f_n(... f_2(f_1(x))). They are its children "0", "1", ...,
    or the names of a dict given instead (`Sequential(OrderedDict(fc=..., act=...))`), as PyTorch."""

    def __init__(self, *modules: Module) -> None:
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            for name, module in modules[0].items():
                self._check(module)
                self.add_module(name, module)
            return
        for module in modules:
            self.append(module)

    @staticmethod
    def _check(module: Any) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: {type(module).__name__} is not a Module")

    def forward(self, x: Tensor | Any) -> Tensor:
        for module in self._modules.values():
            x = module(x)
        return x

    def append(self, module: Module) -> Sequential:
        """Add `module` at the end."""
        self._check(module)
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, i: int | slice) -> Module:
        """The module at `i`; a slice is a Sequential of those modules under their own names, as PyTorch."""
        if isinstance(i, slice):
            return type(self)(dict(list(self._modules.items())[i]))
        return list(self._modules.values())[i]

    def __setitem__(self, i: int, module: Module) -> None:
        self._check(module)
        key = list(self._modules)[i]
        self.add_module(key, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(repr(m) for m in self)})"


class MLP(Sequential):
    """Linear layers of sizes `nouts` on `nin` inputs, `activation` between them and
    `output_activation` after the last ('relu', 'tanh', 'sigmoid' or None).

    The parameters of Linear layer i (counting Linear layers only, from 0) are labelled
    `L{i}.weight` and `L{i}.bias`, as the scalar MLP's are `L{i}.N{j}.w{k}` and `L{i}.N{j}.b`."""

    def __init__(
        self,
        nin: int,
        nouts: list[int] | tuple[int, ...],
        activation: str | None = "relu",
        output_activation: str | None = None,
        seed: Seed = None,
        dtype: Any = None,
    ) -> None:
        for name in (activation, output_activation):
            if name not in ACTIVATIONS:
                raise ValueError(f"unknown activation {name!r}; expected one of {tuple(ACTIVATIONS)}")
        _check_size("MLP", "nin", nin)
        if isinstance(nouts, (str, bytes)) or not hasattr(nouts, "__len__") or len(nouts) == 0:
            raise ValueError(f"MLP: nouts must list the size of each layer, at least one layer, got {nouts!r}")
        for i, n in enumerate(nouts):
            _check_size("MLP", f"nouts[{i}]", n)
        generator = generator_for(seed, "MLP")
        sizes = [nin, *nouts]
        modules: list[Module] = []
        for i in range(len(nouts)):
            layer = Linear(sizes[i], sizes[i + 1], seed=generator, dtype=dtype)
            for p in layer.parameters():
                p.label = f"L{i}.{p.label}"
            modules.append(layer)
            act = ACTIVATIONS[output_activation if i == len(nouts) - 1 else activation]
            if act is not None:
                modules.append(act())
        super().__init__(*modules)


def linear_from_arrays(weight: np.ndarray, bias: np.ndarray | None, where: str) -> Linear:
    """A `Linear` holding copies of `weight` (nout, nin) and `bias` (nout,) or no bias."""
    check_linear_arrays(weight, bias, where)
    nout, nin = weight.shape
    layer = Linear(nin, nout, bias=bias is not None, dtype=weight.dtype)
    layer.weight._data[...] = weight
    if bias is not None:
        layer.bias._data[...] = bias
    return layer


def check_linear_arrays(weight: np.ndarray, bias: np.ndarray | None, where: str) -> None:
    """ValueError unless `weight` and `bias` can be a Linear layer's (2-D float weight, matching bias)."""
    if weight.dtype not in (np.float32, np.float64) or weight.ndim != 2 or 0 in weight.shape:
        raise ValueError(
            f"{where}: weight must be a non-empty 2-D float32/float64 array, got {weight.dtype} {weight.shape}"
        )
    if bias is not None and (bias.shape != weight.shape[:1] or bias.dtype != weight.dtype):
        raise ValueError(
            f"{where}: bias must be {weight.dtype} {weight.shape[:1]} like the weight, got {bias.dtype} {bias.shape}"
        )


def width_mismatch(modules: list[Module]) -> str | None:
    """Why the Linear layers' widths do not chain (one's nout is the next one's nin), or None."""
    previous: tuple[int, Linear] | None = None
    for i, module in enumerate(modules):
        if type(module) is Linear:
            if previous is not None and previous[1].nout != module.nin:
                return f"layer {i} takes width {module.nin} but layer {previous[0]} gives width {previous[1].nout}"
            previous = i, module
    return None


def as_mlp(modules: list[Module]) -> MLP | None:
    """The `MLP` made of exactly `modules`, or None if `MLP(...)` never builds these layers."""
    names = {cls: name for name, cls in ACTIVATIONS.items() if cls is not None}
    groups: list[list] = []  # [Linear, name of the activation after it or None]
    for module in modules:
        if type(module) is Linear and module.bias is not None:
            groups.append([module, None])
        elif type(module) in names and groups and groups[-1][1] is None:
            groups[-1][1] = names[type(module)]
        else:
            return None
    if not groups or len({act for _, act in groups[:-1]}) > 1 or width_mismatch(modules):
        return None
    first = groups[0][0]
    mlp = MLP(
        first.nin,
        [linear.nout for linear, _ in groups],
        activation=hidden_activation([act for _, act in groups], "as_mlp"),
        output_activation=groups[-1][1],
        dtype=first.weight.dtype,
    )
    for i, module in enumerate(modules):
        mlp[i] = module
    return mlp


def mlp_from_scalar(model: Any) -> MLP:
    """The same network as a scalar `glassgrad.nn.MLP`, as a Tensor `MLP`: neuron j's weights become
    row j of a layer's matrix, in float64 as the scalar engine's numbers."""
    per_layer = [layer.neurons[0].activation for layer in model.layers]
    sizes = [len(layer.neurons) for layer in model.layers]
    nin = len(model.layers[0].neurons[0].w)
    activation = hidden_activation(per_layer, "mlp_from_scalar")
    # seed=0: the weights are replaced below, so they are not drawn from the default generator's stream
    twin = MLP(nin, sizes, activation=activation, output_activation=per_layer[-1], seed=0, dtype=np.float64)
    linears = [m for m in twin if isinstance(m, Linear)]
    for layer, twin_layer in zip(model.layers, linears):
        twin_layer.weight._data[...] = [[w._data for w in n.w] for n in layer.neurons]
        twin_layer.bias._data[...] = [n.b._data for n in layer.neurons]
    return twin


def check_model_shape(model: Module, nin: int, nout: int, where: str) -> None:
    """Raise ValueError unless the Tensor `model` maps `nin` numbers to `nout` (a resumed model must fit the task)."""
    try:
        with no_grad():
            out = model([[0.0] * nin])
        fits = out.shape == (1, nout)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{where}: this model does not map {nin} inputs to {nout} outputs, as this task needs")
