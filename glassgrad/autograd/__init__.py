"""The node core shared by `Value` and `Tensor`: making results, grad modes, and the backward pass.

- `node.py`: `Node`, a result that remembers its inputs and its operation's derivative rule, made
  by one factory (`Node.result`);
- `backward.py`: the backward pass (topological order, then each rule in reverse), entered by
  `backward()` and `grad()` alike. The plain pass calls rules with raw numbers; `create_graph=True`
  calls the very same rules with nodes, so the gradient is itself recorded as a graph;
- `modes.py`: per-thread `no_grad`, `enable_grad`, `detect_anomaly`, `record_origins`, as in PyTorch;
  `anomaly.py` the checks, `origins.py` where the user's code made each node;
- `gradcheck.py`: derivatives against finite differences (needs numpy; imported on use).

Standard library only: numpy is imported where an array is met.
"""

from glassgrad.autograd.backward import backpropagate, grad, run_backward, topological_order, zero_grads
from glassgrad.autograd.modes import changes as _changes  # noqa: F401 (tests read it)
from glassgrad.autograd.modes import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    mode,
    no_grad,
    record_origins,
)
from glassgrad.autograd.node import MANY, Node, data_of, slots, zeros_like

__all__ = [
    "MANY", "Node", "backpropagate", "data_of", "detect_anomaly", "enable_grad", "grad", "is_anomaly_enabled",
    "is_grad_enabled", "mode", "no_grad", "record_origins", "run_backward", "slots", "topological_order",
    "zero_grads", "zeros_like",
]
