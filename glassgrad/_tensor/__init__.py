"""The Tensor engine: the `Tensor` class (private module, as PyTorch's `torch._tensor`), dtypes, making
tensors, random numbers and the `glassgrad.*` functions of tensors. `glassgrad.Tensor` and
`glassgrad.tensor(data)` are the public names."""

# The class first, whichever of this package's modules is asked for: its parts (arguments, conversions,
# shapes, reductions, inplace, functional) read the class and its node makers only when called.
from glassgrad._tensor import tensor as _tensor  # noqa: F401
