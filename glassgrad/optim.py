"""Optimizers and learning-rate schedules, with `torch.optim`'s update formulas.

An optimizer holds a list of parameters, each with `data` and `grad`: a float for a scalar
`Value`, a numpy array for a `Tensor`. The updates below are plain arithmetic, so the same
lines serve both; a parameter whose `grad` is None (a Tensor not reached by backward) is
skipped, as in PyTorch. Updates change `data` only, under `no_grad`, so they record no graph.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from typing import Any

from glassgrad.autograd import data_of, no_grad, zero_grads, zeros_like


def _sqrt(x: Any) -> Any:
    """Square root of a float or an array (numpy computes `array ** 0.5` with its sqrt)."""
    return math.sqrt(x) if type(x) is float else x**0.5


def _check(name: str, value: float, ok: bool, expected: str) -> None:
    if not ok:
        raise ValueError(f"{name}: got {value!r}; expected {expected}")


def _real(name: str, value: Any, expected: str, ok: Callable[[float], bool] = lambda x: x >= 0.0) -> float:
    """`value` as a float if it is a finite real number that `ok` accepts; else TypeError or ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: got {type(value).__name__} {value!r}; expected a real number")
    _check(name, value, math.isfinite(value) and ok(value), expected)
    return float(value)


def _is_parameter(p: Any) -> bool:
    """Something an optimizer can update: a Value or a Tensor, or anything else with `data` and `grad`."""
    return hasattr(p, "data") and hasattr(p, "grad")


class Optimizer:
    """Base class: the parameters, the learning rate `lr`, per-parameter `state`, `zero_grad()`."""

    def __init__(self, params: Iterable, lr: float) -> None:
        name = type(self).__name__
        if hasattr(params, "parameters"):
            raise TypeError(f"{name}: pass model.parameters(), not the model itself")
        if _is_parameter(params):  # PyTorch refuses it too: iterating a Tensor would give its rows
            raise TypeError(
                f"{name}: params should be an iterable of Values or Tensors, got a {type(params).__name__}; pass [w]"
            )
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{name}: got an empty parameter list")
        seen: dict[int, int] = {}
        for i, p in enumerate(self.params):
            if not _is_parameter(p):
                what = f"{type(p).__name__} {p!r}"
                raise TypeError(f"{name}: parameter {i} is {what}, not a Value or Tensor (no data and grad)")
            if id(p) in seen:  # it would be updated twice per step
                raise ValueError(f"{name}: parameter {i} is parameter {seen[id(p)]} again; give each parameter once")
            seen[id(p)] = i
        self.lr = _real(f"{name} lr", lr, "a finite learning rate >= 0")
        self.state: list[dict] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Forget the gradients before the next backward pass."""
        zero_grads(self.params)

    def step(self) -> None:
        """Update every parameter that has a gradient, without recording a graph."""
        with no_grad():
            for p, state in zip(self.params, self.state, strict=True):
                if p.grad is not None:
                    self._update(p, data_of(p.grad), state)

    def _update(self, p: Any, g: Any, state: dict) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    g = grad + weight_decay * p
    b = g on the first step, else momentum * b + (1 - dampening) * g
    p = p - lr * (g + momentum * b if nesterov else b)        (p - lr * g without momentum)
    """

    def __init__(
        self,
        params: Iterable,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        momentum = _real("SGD momentum", momentum, "a finite momentum >= 0")
        dampening = _real("SGD dampening", dampening, "a finite dampening", lambda x: True)
        weight_decay = _real("SGD weight_decay", weight_decay, "a finite weight_decay >= 0")
        if not isinstance(nesterov, bool):
            raise TypeError(f"SGD nesterov: got {type(nesterov).__name__} {nesterov!r}; expected True or False")
        if nesterov and (momentum <= 0.0 or dampening != 0.0):
            raise ValueError(
                f"SGD nesterov=True: got momentum={momentum!r}, dampening={dampening!r}; "
                "expected momentum > 0 and dampening = 0"
            )
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weight_decay = weight_decay

    def _update(self, p: Any, g: Any, state: dict) -> None:
        if self.weight_decay != 0.0:
            g = g + self.weight_decay * p.data
        if self.momentum != 0.0:
            b = state.get("momentum_buffer")
            b = copy.copy(g) if b is None else self.momentum * b + (1.0 - self.dampening) * g
            state["momentum_buffer"] = b
            g = g + self.momentum * b if self.nesterov else b
        p.data -= self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba): steps scaled by running averages of the gradient and its square.

    g = grad + weight_decay * p                                     (L2 penalty; AdamW differs)
    m = m + (1 - beta1) * (g - m)        i.e. beta1 * m + (1 - beta1) * g, PyTorch's `lerp`
    v = beta2 * v + (1 - beta2) * g^2
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)     at step t = 1, 2, ...
    """

    decoupled = False

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params, lr)
        name = type(self).__name__
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{name} betas: got {betas!r}; expected two numbers (beta1, beta2), each in [0, 1)")
        self.betas = tuple(
            _real(f"{name} betas[{i}]", beta, "a value in [0, 1)", lambda b: 0.0 <= b < 1.0)
            for i, beta in enumerate(betas)
        )
        self.eps = _real(f"{name} eps", eps, "a finite eps >= 0")
        self.weight_decay = _real(f"{name} weight_decay", weight_decay, "a finite weight_decay >= 0")

    def _update(self, p: Any, g: Any, state: dict) -> None:
        beta1, beta2 = self.betas
        t = state["step"] = state.get("step", 0) + 1
        if self.weight_decay != 0.0:
            if self.decoupled:
                p.data *= 1.0 - self.lr * self.weight_decay
            else:
                g = g + self.weight_decay * p.data
        if t == 1:
            state["exp_avg"], state["exp_avg_sq"] = zeros_like(g), zeros_like(g)
        # in place where they are arrays (a float is simply replaced): the same arithmetic, fewer temporaries
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m += (1.0 - beta1) * (g - m)
        v *= beta2
        v += (1.0 - beta2) * g * g
        state["exp_avg"], state["exp_avg_sq"] = m, v
        denominator = _sqrt(v)
        denominator /= math.sqrt(1.0 - beta2**t)
        denominator += self.eps
        update = m / denominator
        update *= self.lr / (1.0 - beta1**t)
        p.data -= update


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p = p * (1 - lr * weight_decay)
    before the Adam step, instead of adding weight_decay * p to the gradient."""

    decoupled = True

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


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
    ) -> None:
        super().__init__(params, lr)
        _check("RMSprop alpha", alpha, 0.0 <= alpha, "alpha >= 0")
        _check("RMSprop eps", eps, eps >= 0.0, "eps >= 0")
        _check("RMSprop weight_decay", weight_decay, weight_decay >= 0.0, "weight_decay >= 0")
        _check("RMSprop momentum", momentum, momentum >= 0.0, "momentum >= 0")
        self.alpha, self.eps, self.weight_decay = alpha, eps, weight_decay
        self.momentum, self.centered = momentum, centered

    def _update(self, p: Any, g: Any, state: dict) -> None:
        if self.weight_decay != 0.0:
            g = g + self.weight_decay * p.data
        v = state["square_avg"] = self.alpha * state.get("square_avg", 0.0) + (1.0 - self.alpha) * g * g
        if self.centered:
            m = state.get("grad_avg", 0.0)
            m = state["grad_avg"] = m + (1.0 - self.alpha) * (g - m)
            denominator = _sqrt(v - m * m) + self.eps
        else:
            denominator = _sqrt(v) + self.eps
        if self.momentum > 0.0:
            b = state["momentum_buffer"] = self.momentum * state.get("momentum_buffer", 0.0) + g / denominator
            p.data -= self.lr * b
        else:
            p.data -= self.lr * (g / denominator)


class LRScheduler:
    """Sets `optimizer.lr` from the epoch count: call `step()` once per epoch, after `optimizer.step()`.

    As in PyTorch, creating the schedule counts as epoch 0 and sets the learning rate for it.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.last_epoch = -1
        self.step()

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate for it (ValueError if not a finite rate >= 0)."""
        self.last_epoch += 1
        lr = self.lr_at(self.last_epoch)
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr >= 0.0):
            raise ValueError(f"{type(self).__name__}: the learning rate for epoch {self.last_epoch} is {lr!r}; "
                             "expected a finite number >= 0")
        self.optimizer.lr = lr

    def get_last_lr(self) -> float:
        """The learning rate the last `step()` set."""
        return self.optimizer.lr

    def lr_at(self, epoch: int) -> float:
        raise NotImplementedError


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): decay by `gamma` every `step_size` epochs."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        _check("StepLR step_size", step_size, type(step_size) is int and step_size > 0, "a positive int")
        self.step_size = step_size
        self.gamma = _real("StepLR gamma", gamma, "a finite gamma >= 0")
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2.

    The closed form of PyTorch's schedule (PyTorch computes it recursively, equal up to rounding);
    it falls from base_lr to eta_min over T_max epochs, then rises again.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:
        _check("CosineAnnealingLR T_max", T_max, type(T_max) is int and T_max > 0, "a positive int")
        self.T_max = T_max
        self.eta_min = _real("CosineAnnealingLR eta_min", eta_min, "a finite eta_min >= 0")
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.eta_min + (self.base_lr - self.eta_min) * (1.0 + math.cos(math.pi * epoch / self.T_max)) / 2.0


class LambdaLR(LRScheduler):
    """lr = base_lr * lr_lambda(epoch); the moons demo uses `lambda k: 1.0 - 0.9 * k / 100`."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float]) -> None:
        if not callable(lr_lambda):
            raise TypeError(f"LambdaLR lr_lambda: got {lr_lambda!r}; expected a function of the epoch")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def lr_at(self, epoch: int) -> float:
        return self.base_lr * self.lr_lambda(epoch)
