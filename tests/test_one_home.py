"""One home per fact, as PyTorch has it: whether a tensor may require a gradient is decided by one
check (`dtypes.check_requires_grad`), so every constructor and `requires_grad_` agree with torch."""

import pytest
import torch

import glassgrad

CONSTRUCTORS = {  # name -> (glassgrad's call, torch's call), each given a dtype and requires_grad
    "tensor": (lambda d, r: glassgrad.tensor([1, 2], dtype=d, requires_grad=r),
               lambda d, r: torch.tensor([1, 2], dtype=d, requires_grad=r)),
    "Tensor(dtype=)": (lambda d, r: glassgrad.Tensor([1, 2], dtype=d, requires_grad=r),
                       lambda d, r: torch.tensor([1, 2], dtype=d, requires_grad=r)),
    "zeros": (lambda d, r: glassgrad.zeros(2, dtype=d, requires_grad=r),
              lambda d, r: torch.zeros(2, dtype=d, requires_grad=r)),
    "ones": (lambda d, r: glassgrad.ones(2, 3, dtype=d, requires_grad=r),
             lambda d, r: torch.ones(2, 3, dtype=d, requires_grad=r)),
    "full": (lambda d, r: glassgrad.full((2,), 3, dtype=d, requires_grad=r),
             lambda d, r: torch.full((2,), 3, dtype=d, requires_grad=r)),
    "arange": (lambda d, r: glassgrad.arange(4, dtype=d, requires_grad=r),
               lambda d, r: torch.arange(4, dtype=d, requires_grad=r)),
    "empty": (lambda d, r: glassgrad.empty(2, dtype=d, requires_grad=r),
              lambda d, r: torch.empty(2, dtype=d, requires_grad=r)),
    "requires_grad_": (lambda d, r: glassgrad.tensor([1, 2], dtype=d).requires_grad_(r),
                       lambda d, r: torch.tensor([1, 2], dtype=d).requires_grad_(r)),
}
DTYPES = ["float32", "float64", "int64", "bool"]
CASES = [(n, d) for n in CONSTRUCTORS for d in DTYPES if (n, d) != ("arange", "bool")]  # torch has no bool arange


@pytest.mark.parametrize(("name", "dtype"), CASES)
def test_only_floating_tensors_can_require_gradients_whatever_makes_them(name, dtype):
    ours, theirs = CONSTRUCTORS[name]
    try:
        expected = theirs(getattr(torch, dtype), True)
    except RuntimeError as error:
        assert "floating point" in str(error)
        with pytest.raises(RuntimeError, match="only floating tensors can require gradients, got dtype " + dtype):
            ours(getattr(glassgrad, dtype), True)
    else:
        got = ours(getattr(glassgrad, dtype), True)
        assert got.requires_grad and expected.requires_grad
        assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    assert not ours(getattr(glassgrad, dtype), False).requires_grad  # any dtype may not require one
