"""Devices as PyTorch names them: `device`, `tensor.device`, `.to(...)`, `device=`, `Module.to`, `cuda`.

glassgrad runs on the CPU: what PyTorch does on a machine without a GPU is the oracle, except
that asking for a GPU raises glassgrad's own RuntimeError saying so (PyTorch raises an
AssertionError "Torch not compiled with CUDA enabled").
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassgrad
import glassgrad.nn as gnn

SPECS = [("cpu",), ("cpu", 0), ("cpu:0",), ("cuda",), ("cuda", 1), ("cuda:2",), ("mps",), ("meta",), ("xla:3",)]


@pytest.mark.parametrize("spec", SPECS)
def test_device_objects_are_torchs(spec):
    ours, theirs = glassgrad.device(*spec), torch.device(*spec)
    assert (repr(ours), str(ours), ours.type, ours.index) == (repr(theirs), str(theirs), theirs.type, theirs.index)
    assert glassgrad.device(ours) == ours and hash(glassgrad.device(*spec)) == hash(ours)


def test_device_equality_as_torchs():
    pairs = [("cpu", "cpu"), ("cpu", "cpu:0"), ("cuda:1", "cuda:1"), ("cuda", "cpu"), ("cuda:0", "cuda:1")]
    for a, b in pairs:
        assert (glassgrad.device(a) == glassgrad.device(b)) == (torch.device(a) == torch.device(b))
    assert (glassgrad.device("cpu") == "cpu") == (torch.device("cpu") == "cpu")  # False in both


@pytest.mark.parametrize("bad", ["foo", "CPU", "cuda:x", "cpu:-1", ""])
def test_bad_device_strings_raise_torchs_error(bad):
    with pytest.raises(RuntimeError) as theirs:
        torch.device(bad)
    with pytest.raises(RuntimeError) as ours:
        glassgrad.device(bad)
    assert str(ours.value) == str(theirs.value)


def _both(make):
    return make(glassgrad), make(torch)


MAKERS = {
    "tensor": lambda t, d: t.tensor([1.0, 2.0], device=d),
    "zeros": lambda t, d: t.zeros(2, 3, device=d),
    "ones": lambda t, d: t.ones((2,), device=d),
    "empty": lambda t, d: t.empty(0, 2, device=d),
    "full": lambda t, d: t.full((2,), 7, device=d),
    "zeros_like": lambda t, d: t.zeros_like(t.ones(2), device=d),
    "ones_like": lambda t, d: t.ones_like(t.ones(2), device=d),
    "empty_like": lambda t, d: t.empty_like(t.ones(2), device=d).zero_(),
    "full_like": lambda t, d: t.full_like(t.ones(2), 3.0, device=d),
    "arange": lambda t, d: t.arange(0, 5, dtype=t.long, device=d),
    "linspace": lambda t, d: t.linspace(0, 1, 3, device=d),
    "randn": lambda t, d: t.randn(2, 3, device=d).shape,
    "rand": lambda t, d: t.rand(4, device=d).shape,
    "randint": lambda t, d: t.randint(0, 5, (3,), device=d).shape,
    "randperm": lambda t, d: sorted(t.randperm(4, device=d).tolist()),
    "randn_like": lambda t, d: t.randn_like(t.ones(2), device=d).shape,
    "rand_like": lambda t, d: t.rand_like(t.ones(2), device=d).shape,
    "Generator": lambda t, d: t.Generator(device=d).device,
}


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("where", ["cpu", "cpu:0", None, "device"])
def test_every_creation_function_takes_device_cpu(name, where):
    ours, theirs = _both(lambda t: MAKERS[name](t, t.device("cpu") if where == "device" else where))
    if name == "Generator":
        assert repr(ours) == repr(theirs)
    elif not isinstance(theirs, torch.Tensor):
        assert ours == (tuple(theirs) if isinstance(theirs, torch.Size) else theirs)
    else:
        assert repr(ours.device) == repr(theirs.device) and ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("where", ["cuda", "cuda:0", "mps", 0])
def test_every_creation_function_refuses_a_gpu_clearly(name, where):
    with pytest.raises(RuntimeError, match="glassgrad runs on the CPU only"):
        MAKERS[name](glassgrad, where)


@pytest.mark.parametrize(
    "call",
    [
        lambda t, x: x.to("cpu"),
        lambda t, x: x.to(t.device("cpu")),
        lambda t, x: x.to(t.float32),
        lambda t, x: x.to(t.float64),
        lambda t, x: x.to(t.long),
        lambda t, x: x.to("cpu", t.float32),
        lambda t, x: x.to(t.device("cpu"), t.int64),
        lambda t, x: x.to(device="cpu", dtype=t.float32),
        lambda t, x: x.to(dtype=t.bool),
        lambda t, x: x.to(t.zeros(1, dtype=t.int64)),
        lambda t, x: x.to("cpu", non_blocking=True),
        lambda t, x: x.to("cpu", copy=True),
        lambda t, x: x.cpu(),
    ],
)
def test_tensor_to_as_torchs(call):
    """Each way of calling `to`: the same dtype, values and device, and self exactly when torch returns self."""
    ours_x = glassgrad.tensor([[1.5, -2.0], [0.25, 3.0]])
    theirs_x = torch.tensor([[1.5, -2.0], [0.25, 3.0]])
    ours, theirs = call(glassgrad, ours_x), call(torch, theirs_x)
    assert repr(ours.dtype) == repr(theirs.dtype).replace("torch.", "glassgrad.")
    assert (ours is ours_x) == (theirs is theirs_x)
    assert repr(ours.device) == repr(theirs.device) == "device(type='cpu')"
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_to_takes_numpys_dtypes_too():
    x = glassgrad.tensor([1.5, 2.5])
    assert x.to(np.float32).dtype == x.to(np.dtype("float32")).dtype == x.to("float32").dtype == glassgrad.float32
    assert x.to(np.int64).tolist() == [1, 2]


def test_to_is_differentiable_and_keeps_the_graph():
    for t in (glassgrad, torch):
        x = t.tensor([1.0, 2.0], dtype=t.float64, requires_grad=True)
        (x.to("cpu", t.float32) * 3).sum().backward()
        assert x.grad.dtype == t.float64 and x.grad.tolist() == [3.0, 3.0]


@pytest.mark.parametrize(
    "call",
    [lambda x: x.to("cuda"), lambda x: x.to("mps"), lambda x: x.to("cuda:1", glassgrad.float32), lambda x: x.cuda(),
     lambda x: x.to(device="cuda"), lambda x: x.to(glassgrad.device("cuda"))],
)
def test_tensor_to_a_gpu_is_a_clear_error(call):
    with pytest.raises(RuntimeError, match=r"device '(cuda|mps)(:1)?' is not available: glassgrad runs on the CPU"):
        call(glassgrad.zeros(2))
    assert glassgrad.zeros(2).is_cuda is torch.zeros(2).is_cuda is False


@pytest.mark.parametrize(
    "bad, error",
    [(("foo",), RuntimeError), (("cpu", "cpu", "cpu"), TypeError), (("cpu", "cuda"), TypeError)],
)
def test_tensor_to_bad_arguments(bad, error):
    with pytest.raises(error):
        torch.zeros(2).to(*bad)
    with pytest.raises(error):
        glassgrad.zeros(2).to(*bad)
    with pytest.raises(TypeError, match="dtype=3.5 is not supported"):  # PyTorch returns the tensor unchanged
        glassgrad.zeros(2).to(3.5)
    with pytest.raises(TypeError, match="unexpected keyword argument 'devise'"):
        glassgrad.zeros(2).to(devise="cpu")


def _models(t, nn):
    t.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.BatchNorm1d(4), nn.Linear(4, 2))
    return model


@pytest.mark.parametrize(
    "convert",
    [lambda m, t: m.to("cpu"), lambda m, t: m.to(t.float32), lambda m, t: m.float(), lambda m, t: m.double(),
     lambda m, t: m.to("cpu", t.float32), lambda m, t: m.to(device="cpu", dtype=t.float64), lambda m, t: m.cpu(),
     lambda m, t: m.float().double()],
)
def test_module_to_converts_floating_state_in_place_as_torch(convert):
    ours, theirs = _models(glassgrad, gnn), _models(torch, torch.nn)  # the same numbers: the same random stream
    before = {name: p for name, p in ours.named_parameters()}
    assert convert(ours, glassgrad) is ours and convert(theirs, torch) is theirs
    for (name, p), (_, q) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        assert repr(p.dtype) == repr(q.dtype).replace("torch.", "glassgrad."), name
        np.testing.assert_array_equal(p.numpy(), q.numpy(), strict=True)
    assert all(before[name] is p for name, p in ours.named_parameters())  # the optimizer's parameters stay


def test_module_to_keeps_gradients_in_the_parameters_dtype():
    model = gnn.Linear(2, 1)
    model(glassgrad.ones(3, 2)).sum().backward()
    model.float()
    assert model.weight.dtype == model.weight.grad.dtype == glassgrad.float32


def test_module_to_refuses_integers_and_gpus():
    with pytest.raises(TypeError) as theirs:
        torch.nn.Linear(2, 2).to(torch.long)
    with pytest.raises(TypeError) as ours:
        gnn.Linear(2, 2).to(glassgrad.long)
    for error in (ours, theirs):  # glassgrad has no complex dtypes to mention
        assert str(error.value).startswith("nn.Module.to only accepts floating point") and "int64" in str(error.value)
    with pytest.raises(RuntimeError, match="glassgrad runs on the CPU only"):
        gnn.Linear(2, 2).to("cuda")


def test_module_requires_grad_freezes_and_unfreezes():
    ours, theirs = _models(glassgrad, gnn), _models(torch, torch.nn)
    for flag in (False, True, False):
        assert ours.requires_grad_(flag) is ours
        theirs.requires_grad_(flag)
        assert [p.requires_grad for p in ours.parameters()] == [p.requires_grad for p in theirs.parameters()]


def test_cuda_module_answers_as_torch_on_a_machine_without_gpu():
    assert glassgrad.cuda.is_available() is torch.cuda.is_available() is False
    assert glassgrad.cuda.device_count() == torch.cuda.device_count() == 0
    for seed in (0, 3407, 2**40):
        glassgrad.cuda.manual_seed_all(seed)
        glassgrad.cuda.manual_seed(seed)
    with pytest.raises(TypeError, match="expected an integer seed"):
        glassgrad.cuda.manual_seed_all(1.5)
    for call in (glassgrad.cuda.synchronize, glassgrad.cuda.current_device, lambda: glassgrad.cuda.set_device(0)):
        with pytest.raises(RuntimeError, match="glassgrad runs on the CPU only"):
            call()


def test_manual_seed_all_leaves_the_cpu_stream_alone():
    glassgrad.manual_seed(5)
    first = glassgrad.randn(3).tolist()
    glassgrad.manual_seed(5)
    glassgrad.cuda.manual_seed_all(5)
    assert glassgrad.randn(3).tolist() == first
