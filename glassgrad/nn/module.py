"""What every model shares, scalar or Tensor: `Module`, with PyTorch's registration of parameters,
buffers and sub-modules, and the activations a model may use.

Assigning a `Parameter` or a `Module` to an attribute registers it under that name, as in PyTorch,
so `named_parameters()`, `state_dict()`, `train()`/`eval()` and `zero_grad()` find it. micrograd's
scalar classes (`glassgrad.nn.scalar`) keep their Values in lists and list them by overriding
`parameters()`. This module needs only the standard library.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

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


def _is_parameter(value: Any) -> bool:
    """Whether `value` is an `nn.Parameter` (none can exist before glassgrad.nn.parameter is loaded)."""
    module = sys.modules.get("glassgrad.nn.parameter")
    return module is not None and isinstance(value, module.Parameter)


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """A neuron, a layer, a network: `forward` is what calling it computes; parameters, buffers and
    sub-modules assigned to its attributes are registered under their names."""

    training: bool

    def __new__(cls, *args: Any, **kwargs: Any) -> Module:
        self = super().__new__(cls)
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "training", True)
        return self

    def __init__(self) -> None:
        """Nothing to set up: the registries exist from `__new__`, so `super().__init__()` is optional."""

    def __setattr__(self, name: str, value: Any) -> None:
        if _is_parameter(value):
            self._forget(name, keep=self._parameters)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name, keep=self._modules)
            self._modules[name] = value
        elif name in self._buffers:
            self._buffers[name] = value
        elif name in self._parameters:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter '{name}' (nn.Parameter or None expected)"
                )
            self._parameters[name] = None
        elif name in self._modules:
            self._modules.pop(name)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._forget(name)
        object.__delattr__(self, name)

    def _forget(self, name: str, keep: dict | None = None) -> None:
        """Unregister `name` from every table but `keep` (where a reassignment keeps its place in the order)."""
        for table in (self._parameters, self._buffers, self._modules):
            if table is not keep:
                table.pop(name, None)
        self._non_persistent.discard(name)

    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Keep `tensor` as state that is not trained (running statistics): in `state_dict()` unless
        `persistent=False`, never in `parameters()`."""
        if "." in name or not name:
            raise KeyError(f'register_buffer: buffer name can\'t be empty or contain ".", got {name!r}')
        self._forget(name, keep=self._buffers)
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name: str, param: Any) -> None:
        """Register `param` (an nn.Parameter, or None for an absent one such as `bias=False`) as `name`."""
        if param is not None and not _is_parameter(param):
            raise TypeError(f"register_parameter: cannot assign {type(param).__name__} as parameter {name!r}")
        self._forget(name, keep=self._parameters)
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        """Register `module` as a child called `name` (a new name, or a child's: not another attribute's)."""
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not name or "." in name:
            raise KeyError(f'module name can\'t be empty or contain ".", got: {name!r}')
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._forget(name, keep=self._modules)
        self._modules[name] = module
        object.__setattr__(self, name, module)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # The registered contents, each walked in the order it was assigned.
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for each direct sub-module."""
        for name, module in self._modules.items():
            if module is not None:
                yield name, module

    def children(self) -> Iterator[Module]:
        """Each direct sub-module."""
        return (module for _, module in self.named_children())

    def named_modules(self, prefix: str = "", remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module (named `prefix`) and every module inside it: each once, or
        under each of its names when a module is shared and not `remove_duplicate` (as PyTorch)."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if remove_duplicate and id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            inner = [(f"{name}.{child}" if name else child, m) for child, m in module.named_children()]
            stack.extend(reversed(inner))

    def modules(self) -> Iterator[Module]:
        """This module and every module inside it."""
        return (module for _, module in self.named_modules())

    def _named(self, table: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for name, module in modules:
            for key, value in getattr(module, table).items():
                if value is not None and id(value) not in seen:
                    seen.add(id(value))
                    yield (f"{name}.{key}" if name else key), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Any]]:
        """(dotted name, parameter) for every parameter, each once: `'0.weight'`, `'0.bias'`, ..."""
        return self._named("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> list:
        """Every trainable parameter, in a fixed order (a list; PyTorch gives a generator of the same)."""
        return [p for _, p in self.named_parameters(recurse=recurse)]

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Any]]:
        """(dotted name, buffer) for every buffer: running statistics and the like."""
        return self._named("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Any]:
        return (b for _, b in self.named_buffers(recurse=recurse))

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter's gradient before the next backward pass (to None for a Tensor; to
        zeros with `set_to_none=False`)."""
        zero_grads(self.parameters(), set_to_none)

    def train(self, mode: bool = True) -> Module:
        """Set training mode (`training = mode`) here and in every sub-module; returns self."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode: `train(False)` (BatchNorm then uses its running statistics)."""
        return self.train(False)

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """PyTorch's `to`: `to('cpu')` (any other device is an error, glassgrad runs on the CPU) or
        `to(dtype)`, which converts every floating parameter and buffer (and gradient) in place, keeping
        the Parameter objects, so an optimizer made before still holds them. Returns self."""
        from glassgrad._tensor.devices import target_dtype

        dtype = target_dtype(args, kwargs, "Module.to")
        if dtype is not None and dtype.kind != "f":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        if dtype is not None:
            for module in self.modules():
                for tensor in (*module._parameters.values(), *module._buffers.values()):
                    if tensor is not None and tensor.dtype.kind == "f":
                        tensor._data = tensor._data.astype(dtype, copy=False)
                        if tensor.grad is not None:
                            tensor.grad._data = tensor.grad._data.astype(dtype, copy=False)
        return self

    def cpu(self) -> Module:
        """Self: a glassgrad model is always on the CPU."""
        return self

    def float(self) -> Module:
        """Floating parameters and buffers as float32, in place; returns self."""
        return self.to("float32")

    def double(self) -> Module:
        """Floating parameters and buffers as float64, in place; returns self."""
        return self.to("float64")

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Let every parameter require a gradient (or freeze them all, with False); returns self."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every sub-module, deepest first, then on self (as PyTorch: to initialise weights)."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def state_dict(self) -> OrderedDict[str, Any]:
        """Every parameter and persistent buffer by dotted name, detached (sharing their arrays): the same
        keys, shapes and layouts as the PyTorch twin of this model (a shared module under each of its names)."""
        state: OrderedDict[str, Any] = OrderedDict()
        for name, module in self.named_modules(remove_duplicate=False):
            prefix = f"{name}." if name else ""
            for key, p in module._parameters.items():
                if p is not None:
                    state[prefix + key] = p.detach()
            for key, b in module._buffers.items():
                if b is not None and key not in module._non_persistent:
                    state[prefix + key] = b.detach()
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy the arrays of `state_dict` (Tensors, numpy or torch arrays) into this model's parameters
        and buffers, in place; with `strict`, its keys must be exactly this model's."""
        import numpy as np  # here, not at the top: a scalar model never needs it

        from glassgrad._tensor.printing import Size

        own = self.state_dict()
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        errors = (
            [f"missing keys: {missing}, unexpected keys: {unexpected}"] if strict and (missing or unexpected) else []
        )
        arrays = {}
        for key, target in own.items():
            if key in state_dict:
                value = state_dict[key]
                arrays[key] = np.asarray(value.detach().cpu().numpy() if hasattr(value, "cpu") else value)
                if arrays[key].shape != target.shape:
                    errors.append(
                        f"size mismatch for {key}: copying a param with shape {Size(arrays[key].shape)} from the "
                        f"state_dict, the shape in the current model is {target.shape}"
                    )
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}: " + "; ".join(errors))
        for key, array in arrays.items():
            own[key]._data[...] = array
        return IncompatibleKeys(missing, unexpected)

    def __repr__(self) -> str:
        extra = self.extra_repr()
        children = [f"({name}): {module!r}".replace("\n", "\n  ") for name, module in self.named_children()]
        if not children:
            return f"{type(self).__name__}({extra})"
        lines = ([extra] if extra else []) + children
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def extra_repr(self) -> str:
        """What the repr shows between the parentheses besides the children."""
        return ""
