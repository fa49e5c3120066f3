"""Optimizers with `torch.optim`'s update formulas, parameter groups and state.

An optimizer holds `param_groups`: dicts of a `params` list and the options that apply to them
(`lr`, `weight_decay`, ...), each option defaulting to the optimizer's `defaults`. A step reads
them each time, so `group['lr'] = x` takes effect at the next step, as in PyTorch; `state[p]` is a
parameter's running statistics. A parameter has `data` and `grad`: a float for a scalar `Value`,
a numpy array for a `Tensor`. The updates are plain arithmetic, so the same lines serve both; a
parameter whose `grad` is None (a Tensor not reached by backward) is skipped, as in PyTorch.
Updates change `data` only, under `no_grad`, so they record no graph.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from typing import Any

from glassgrad.autograd import Node, data_of, enable_grad, no_grad, zero_grads, zeros_like


def _sqrt(x: Any) -> Any:
    """Square root of a float or an array (numpy computes `array ** 0.5` with its sqrt)."""
    return math.sqrt(x) if type(x) is float else x**0.5


def _maximum(a: Any, b: Any) -> Any:
    """The larger of two floats, or elementwise of two arrays."""
    if type(a) is float:
        return max(a, b)
    import numpy as np  # only arrays need it

    return np.maximum(a, b)


def _check(name: str, value: Any, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(f"{name}: got {value!r}; expected {expected}")


def _real(name: str, value: Any, expected: str, ok: Callable[[float], bool] = lambda x: x >= 0.0) -> float:
    """`value` as a float if it is a finite real number that `ok` accepts; else TypeError or ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: got {type(value).__name__} {value!r}; expected a real number")
    _check(name, value, math.isfinite(value) and ok(value), expected)
    return float(value)


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name}: got {type(value).__name__} {value!r}; expected True or False")
    return value


def _is_parameter(p: Any) -> bool:
    """Something an optimizer can update: a Value or a Tensor (whose numbers it changes in its slot `_data`)."""
    return isinstance(p, Node)


class Optimizer:
    """Base class: `param_groups`, `defaults`, per-parameter `state`, `zero_grad()`, `step()`,
    `add_param_group()`, `state_dict()` and `load_state_dict()`."""

    def __init__(self, params: Iterable, defaults: dict[str, Any]) -> None:
        name = type(self).__name__
        if hasattr(params, "parameters"):
            raise TypeError(f"{name}: pass model.parameters(), not the model itself")
        if _is_parameter(params):  # PyTorch refuses it too: iterating a Tensor would give its rows
            raise TypeError(
                f"{name}: params should be an iterable of Values or Tensors, got a {type(params).__name__}; pass [w]"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Any, dict[str, Any]] = {}
        for group in groups if isinstance(groups[0], dict) else [{"params": groups}]:
            self.add_param_group(group)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group: a dict with `params` and any options that differ from `defaults`."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict with 'params', got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs 'params', got keys {sorted(param_group)}")
        params = param_group["params"]
        if isinstance(params, set):
            raise TypeError(f"{name}: parameters must be in an ordered collection (a list), not a set")
        params = [params] if _is_parameter(params) else list(params)
        seen: dict[int, int] = {}
        for i, p in enumerate(params):
            if not _is_parameter(p):
                what = f"{type(p).__name__} {p!r}"
                raise TypeError(f"{name}: parameter {i} is {what}, not a Value or Tensor")
            if id(p) in seen:  # it would be updated twice per step
                raise ValueError(f"{name}: parameter {i} is parameter {seen[id(p)]} again; give each parameter once")
            seen[id(p)] = i
        if any(id(p) in seen for group in self.param_groups for p in group["params"]):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")
        group = {**self.defaults, **param_group, "params": params}
        self._check(group)
        self.param_groups.append(group)

    def _check(self, group: dict[str, Any]) -> None:
        """ValueError or TypeError, naming the option, unless `group`'s options are valid."""
        group["lr"] = _real(f"{type(self).__name__} lr", group["lr"], "a finite learning rate >= 0")
        group["maximize"] = _flag(f"{type(self).__name__} maximize", group.get("maximize", False))

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients before the next backward pass: None for a Tensor (zeros, with
        `set_to_none=False`), 0.0 for a Value."""
        zero_grads([p for group in self.param_groups for p in group["params"]], set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient, without recording a graph; with `closure` (a
        function that computes the loss and backpropagates), call it first and return its loss."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        g = data_of(p.grad)
                        self._update(p, -g if group["maximize"] else g, self.state.setdefault(p, {}), group)
        return loss

    def _update(self, p: Any, g: Any, state: dict, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The state and the groups' options, parameters named by their position (0, 1, ... across the
        groups), as PyTorch's: `{'state': {0: {'step': ..., 'exp_avg': ...}}, 'param_groups': [...]}`.
        Arrays are given as Tensors, so `glassgrad.save` can write it."""
        from glassgrad._tensor.creation import wrap  # the Tensor layer, when a state is given out

        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {
            index[id(p)]: {k: wrap(v) if hasattr(v, "dtype") and hasattr(v, "shape") else v for k, v in s.items()}
            for p, s in self.state.items() if id(p) in index and s
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Take the state and options of `state_dict` (from `state_dict()` of an optimizer over
        parameters of the same shapes, in the same groups), copying its arrays."""
        name = type(self).__name__
        groups, saved = self.param_groups, state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if not isinstance(saved, list) or not isinstance(state_dict.get("state"), dict):
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'")
        if len(saved) != len(groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(s["params"]) != len(g["params"]) for s, g in zip(saved, groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        by_index = {i: p for s, g in zip(saved, groups) for i, p in zip(s["params"], g["params"])}
        self.state = {}
        for i, values in state_dict["state"].items():
            if i not in by_index:
                raise ValueError(f"{name}.load_state_dict: state for parameter {i}, which no group lists")
            p = by_index[i]
            self.state[p] = {k: _as_state(v, p, k, name) for k, v in values.items()}
        for s, g in zip(saved, groups):
            g.update({k: copy.deepcopy(v) for k, v in s.items() if k != "params"})

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {key}: {group[key]}" for key in sorted(group) if key != "params"]
        return "\n".join([*lines, ")"])


def _as_state(value: Any, p: Any, key: str, name: str) -> Any:
    """A saved state entry as the optimizer keeps it: an array of p's dtype and shape for a Tensor, a float
    for a Value, an int for a step; torch tensors too."""
    if hasattr(value, "detach"):  # a glassgrad or torch tensor
        value = value.detach().cpu().numpy() if hasattr(value, "cpu") else value.numpy()
    if key == "step":
        return int(value)
    if isinstance(p, Node) and hasattr(p._data, "shape"):
        import numpy as np

        array = np.array(value, dtype=p._data.dtype)
        if array.shape != p._data.shape:
            raise ValueError(f"{name}.load_state_dict: {key!r} has shape {array.shape}, the parameter {p._data.shape}")
        return array
    return float(value)


_TORCH_OPTIONS = {"foreach": None, "differentiable": False, "fused": None}  # accepted, as PyTorch's


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    g = grad + weight_decay * p
    b = g on the first step, else momentum * b + (1 - dampening) * g
    p = p - lr * (g + momentum * b if nesterov else b)        (p - lr * g without momentum)
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov, maximize=maximize, **_TORCH_OPTIONS))

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        group["momentum"] = _real("SGD momentum", group["momentum"], "a finite momentum >= 0")
        group["dampening"] = _real("SGD dampening", group["dampening"], "a finite dampening", lambda x: True)
        group["weight_decay"] = _real("SGD weight_decay", group["weight_decay"], "a finite weight_decay >= 0")
        nesterov = _flag("SGD nesterov", group["nesterov"])
        if nesterov and (group["momentum"] <= 0.0 or group["dampening"] != 0.0):
            raise ValueError(
                f"SGD nesterov=True: got momentum={group['momentum']!r}, dampening={group['dampening']!r}; "
                "expected momentum > 0 and dampening = 0"
            )

    def _update(self, p: Any, g: Any, state: dict, group: dict[str, Any]) -> None:
        if group["weight_decay"] != 0.0:
            g = g + group["weight_decay"] * p._data
        momentum = group["momentum"]
        if momentum != 0.0:
            b = state.get("momentum_buffer")
            b = copy.copy(g) if b is None else momentum * b + (1.0 - group["dampening"]) * g
            state["momentum_buffer"] = b
            g = g + momentum * b if group["nesterov"] else b
        p._data -= group["lr"] * g


class Adam(Optimizer):
    """Adam (Kingma & Ba): steps scaled by running averages of the gradient and its square.

    g = grad + weight_decay * p        (with decoupled_weight_decay, AdamW's: p = p * (1 - lr * weight_decay))
    m = m + (1 - beta1) * (g - m)        i.e. beta1 * m + (1 - beta1) * g, PyTorch's `lerp`
    v = beta2 * v + (1 - beta2) * g^2    (amsgrad: v_max = max(v_max, v), used in place of v below)
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)     at step t = 1, 2, ...
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, **_TORCH_OPTIONS))

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        name, betas = type(self).__name__, group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name} betas: got {betas!r}; expected two numbers (beta1, beta2), each in [0, 1)")
        group["betas"] = tuple(
            _real(f"{name} betas[{i}]", beta, "a value in [0, 1)", lambda b: 0.0 <= b < 1.0)
            for i, beta in enumerate(betas)
        )
        group["eps"] = _real(f"{name} eps", group["eps"], "a finite eps >= 0")
        group["weight_decay"] = _real(f"{name} weight_decay", group["weight_decay"], "a finite weight_decay >= 0")
        _flag(f"{name} amsgrad", group["amsgrad"])
        _flag(f"{name} decoupled_weight_decay", group["decoupled_weight_decay"])

    def _update(self, p: Any, g: Any, state: dict, group: dict[str, Any]) -> None:
        (beta1, beta2), lr, weight_decay = group["betas"], group["lr"], group["weight_decay"]
        t = state["step"] = state.get("step", 0) + 1
        if weight_decay != 0.0:
            if group["decoupled_weight_decay"]:
                p._data *= 1.0 - lr * weight_decay
            else:
                g = g + weight_decay * p._data
        if "exp_avg" not in state:
            state["exp_avg"], state["exp_avg_sq"] = zeros_like(g), zeros_like(g)
        # in place where they are arrays (a float is simply replaced): the same arithmetic, fewer temporaries
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1.0 - beta1) * (g - m)
        v *= beta2
        v += (1.0 - beta2) * g * g
        state["exp_avg"], state["exp_avg_sq"] = m, v
        if group["amsgrad"]:
            v = state["max_exp_avg_sq"] = _maximum(state.get("max_exp_avg_sq", v), v)
        denominator = _sqrt(v)
        denominator /= math.sqrt(1.0 - beta2**t)
        denominator += group["eps"]
        update = m / denominator
        update *= lr / (1.0 - beta1**t)
        p._data -= update


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p = p * (1 - lr * weight_decay)
    before the Adam step, instead of adding weight_decay * p to the gradient."""

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, capturable=capturable,
                         decoupled_weight_decay=True)


class RMSprop(Optimizer):
    """RMSprop (Hinton): steps divided by a running root mean square of the gradient.

    g = grad + weight_decay * p
    v = alpha * v + (1 - alpha) * g^2
    d = sqrt(v - m^2) + eps, m = m + (1 - alpha) * (g - m)  when centered, else sqrt(v) + eps
    b = momentum * b + g / d;  p = p - lr * b             (p = p - lr * g / d without momentum)
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, capturable=capturable, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable))

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        for key in ("alpha", "eps", "weight_decay", "momentum"):
            _check(f"RMSprop {key}", group[key], group[key] >= 0.0, f"{key} >= 0")
        _flag("RMSprop centered", group["centered"])

    def _update(self, p: Any, g: Any, state: dict, group: dict[str, Any]) -> None:
        alpha, eps = group["alpha"], group["eps"]
        state["step"] = state.get("step", 0) + 1
        if group["weight_decay"] != 0.0:
            g = g + group["weight_decay"] * p._data
        v = state["square_avg"] = alpha * state.get("square_avg", 0.0) + (1.0 - alpha) * g * g
        if group["centered"]:
            m = state.get("grad_avg", 0.0)
            m = state["grad_avg"] = m + (1.0 - alpha) * (g - m)
            denominator = _sqrt(v - m * m) + eps
        else:
            denominator = _sqrt(v) + eps
        if group["momentum"] > 0.0:
            b = state["momentum_buffer"] = group["momentum"] * state.get("momentum_buffer", 0.0) + g / denominator
            p._data -= group["lr"] * b
        else:
            p._data -= group["lr"] * (g / denominator)
