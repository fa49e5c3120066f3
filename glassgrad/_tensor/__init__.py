"""The Tensor engine: the `Tensor` class (private module, as PyTorch's `torch._tensor`), dtypes, making
tensors, random numbers and the `glassgrad.*` functions of tensors. `glassgrad.Tensor` and
`glassgrad.tensor(data)` are the public names."""
