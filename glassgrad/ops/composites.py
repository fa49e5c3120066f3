"""The operations made of other operations, one registry entry each, by PyTorch's names.

A composite operation has no description of its own: its method (or function) is written by hand,
checking its arguments as PyTorch does, in `glassgrad._tensor.tensor` or
`glassgrad._tensor.tensor_methods`, and the nodes it makes are those of the operations it is made of
(the comment says which). Its entry names its surfaces, so that `glassgrad.<name>` exists exactly
where `torch.<name>` does, and gives the tests' case table its name.
"""

from __future__ import annotations

from glassgrad.ops.registry import Op, built_in


def composite(name: str, method: bool = True, function: bool = True) -> Op:
    """The entry of an operation made of others: its Tensor method `name` (unless `method` is False) and,
    with `function`, `glassgrad.<name>` too."""
    return built_in(Op(name, method=name if method else "", function=function))


MIN = composite("min")  # -max(-x)
AMAX = composite("amax")  # max over a tuple of axes: ties share the gradient
AMIN = composite("amin")  # -amax(-x)
ARGMAX = composite("argmax")  # constants
ARGMIN = composite("argmin")
TOPK = composite("topk")  # the order, then indexing
SORT = composite("sort")
ALL = composite("all")  # constants
ANY = composite("any")
ISCLOSE = composite("isclose")
ALLCLOSE = composite("allclose")
EQUAL = composite("equal")
HISTOGRAM = composite("histogram")
NUMEL = composite("numel")
DETACH = composite("detach")
VIEW = composite("view", function=False)  # reshape
VIEW_AS = composite("view_as", function=False)
FLATTEN = composite("flatten")
SQUEEZE = composite("squeeze")
UNSQUEEZE = composite("unsqueeze")
CONTIGUOUS = composite("contiguous", function=False)  # itself
TRANSPOSE = composite("transpose")  # permute
T = composite("t")  # permute, of at most 2 axes
RAVEL = composite("ravel")  # reshape
BROADCAST_TO = composite("broadcast_to")  # expand
EXPAND_AS = composite("expand_as", function=False)
REPEAT = composite("repeat", function=False)  # reshape, expand, reshape
UNBIND = composite("unbind")  # indexing
SPLIT = composite("split")
CHUNK = composite("chunk")
GATHER = composite("gather")
ROLL = composite("roll")
FLIP = composite("flip")
TRIL = composite("tril")  # masked_fill
TRIU = composite("triu")
STACK = composite("stack", method=False)  # unsqueeze and cat
COPY_ = composite("copy_", function=False)  # index_put, in place
NORMAL_ = composite("normal_", function=False)  # glassgrad.random's stream, in place
UNIFORM_ = composite("uniform_", function=False)
