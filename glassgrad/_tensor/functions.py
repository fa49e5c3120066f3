"""PyTorch's free functions of tensors, made from the registry: `glassgrad.tanh(x)` is `x.tanh()`, and so on.

Every operation whose entry says `function` (as `torch.<name>` exists) is a function here: the
Tensor method of its name applied to the first argument (a number or an array becomes a constant
Tensor, in the dtype of a Tensor among the other arguments), or, for the functions of several
tensors (`cat`, `stack`, `where`), the function itself. They are differentiable wherever the
method is, because they are the method.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from glassgrad import ops
from glassgrad._tensor import tensor_methods
from glassgrad._tensor.creation import tensor
from glassgrad._tensor.tensor import Tensor, _operand


def _made_from(name: str) -> Callable[..., Any]:
    """`glassgrad.<name>(input, ...)`: `input.<name>(...)`."""
    method = getattr(Tensor, name)

    def function(input: Any, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(input, Tensor):
            like = next((a for a in args if isinstance(a, Tensor)), None)
            input = tensor(input) if like is None else _operand(input, like)
        return method(input, *args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = method.__doc__
    parameters = list(inspect.signature(method).parameters.values())
    function.__signature__ = inspect.Signature([parameters[0].replace(name="input"), *parameters[1:]])
    return function


FUNCTIONS = {
    name: _made_from(name) if of_a_tensor else getattr(tensor_methods, name)
    for name, of_a_tensor in ops.functions().items()
}
globals().update(FUNCTIONS)
__all__ = sorted(FUNCTIONS)
