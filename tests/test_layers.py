"""Tensor layers: PyTorch's initialisation and shapes, and training steps that match torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import glassgrad
from glassgrad._tensor.tensor import Tensor
from glassgrad.autograd import no_grad
from glassgrad.nn import Linear, ReLU, Sequential, Sigmoid, Tanh
from glassgrad.nn import TensorMLP as MLP
from glassgrad.nn.functional import cross_entropy


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fan_in, fan_out", [(400, 30), (3, 4), (27, 200), (7, 1)])
def test_linear_and_embedding_start_from_pytorchs_numbers(fan_in, fan_out, dtype):
    for seed in (0, 2147483647):
        glassgrad.manual_seed(seed)
        torch.manual_seed(seed)
        ours = [Linear(fan_in, fan_out, dtype=dtype), glassgrad.nn.Embedding(fan_in, fan_out, dtype=dtype)]
        kind = getattr(torch, dtype)
        theirs = [torch.nn.Linear(fan_in, fan_out, dtype=kind), torch.nn.Embedding(fan_in, fan_out, dtype=kind)]
        for layer, twin in zip(ours, theirs, strict=True):
            for (name, p), (twin_name, q) in zip(layer.named_parameters(), twin.named_parameters(), strict=True):
                assert name == twin_name and p.dtype == np.dtype(dtype)
                np.testing.assert_array_equal(p.data, q.detach().numpy())


def test_linear_shapes_and_parameters():
    layer = Linear(400, 30, seed=0)
    assert layer.weight.shape == (30, 400) and layer.bias.shape == (30,)
    assert layer.weight.requires_grad and layer.bias.requires_grad
    assert layer.parameters() == [layer.weight, layer.bias]
    assert Linear(3, 2, bias=False).parameters()[0].shape == (2, 3) and len(Linear(3, 2, bias=False).parameters()) == 1


def test_linear_computes_x_w_transpose_plus_b():
    layer = Linear(3, 2, seed=1, dtype=np.float64)
    x = np.arange(12.0).reshape(4, 3)
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data.T + layer.bias.data, rtol=1e-15)
    assert layer(Tensor(x[0])).shape == (2,)
    assert layer(Tensor(np.ones((5, 4, 3)))).shape == (5, 4, 2)


def test_seeded_models_are_reproducible_and_leave_global_random_state_alone():
    state = np.random.get_state()[1].copy()
    a, b, c = MLP(3, [5, 2], seed=7), MLP(3, [5, 2], seed=7), MLP(3, [5, 2], seed=8)
    assert np.array_equal(np.random.get_state()[1], state)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    assert not np.array_equal(a.parameters()[0].data, c.parameters()[0].data)


def test_mlp_structure_parameter_order_and_dtype():
    model = MLP(4, [8, 6, 3], activation="tanh", output_activation="sigmoid", seed=0, dtype=np.float32)
    kinds = [type(m) for m in model]
    assert kinds == [Linear, Tanh, Linear, Tanh, Linear, Sigmoid]
    shapes = [p.shape for p in model.parameters()]
    assert shapes == [(8, 4), (8,), (6, 8), (6,), (3, 6), (3,)]
    assert all(p.dtype == np.float32 for p in model.parameters())
    out = model(np.ones((2, 4), dtype=np.float32))
    assert out.dtype == np.float32 and out.shape == (2, 3) and ((out.data > 0) & (out.data < 1)).all()
    assert [type(m) for m in MLP(2, [3, 1], seed=0)] == [Linear, ReLU, Linear]
    assert repr(MLP(2, [3, 1], seed=0)) == "MLP(Linear(2, 3), ReLU(), Linear(3, 1))"


def test_sequential_applies_modules_in_order():
    first, second = Linear(2, 3, seed=0), Linear(3, 1, seed=1)
    net = Sequential(first, Tanh(), second)
    x = Tensor([[0.5, -1.0]])
    np.testing.assert_allclose(net(x).data, second(first(x).tanh()).data, rtol=1e-15)
    assert len(net) == 3 and net[0] is first
    assert net.parameters() == first.parameters() + second.parameters()


def test_zero_grad_clears_tensor_gradients():
    model = MLP(2, [3, 1], seed=0)
    model(Tensor([[1.0, 2.0]])).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_errors_name_both_numbers():
    with pytest.raises(ValueError, match="width 3, got width 5"):
        Linear(3, 2)(np.ones((4, 5)))
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        MLP(2, [2], activation="gelu")


def _torch_copy(model: MLP) -> torch.nn.Sequential:
    acts = {ReLU: torch.nn.ReLU, Tanh: torch.nn.Tanh, Sigmoid: torch.nn.Sigmoid}
    modules = []
    for m in model:
        if isinstance(m, Linear):
            layer = torch.nn.Linear(m.nin, m.nout, dtype=torch.float64)
            with torch.no_grad():
                layer.weight.copy_(torch.tensor(m.weight.numpy()))
                layer.bias.copy_(torch.tensor(m.bias.numpy()))
            modules.append(layer)
        else:
            modules.append(acts[type(m)]())
    return torch.nn.Sequential(*modules)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_training_steps_with_cross_entropy_and_sgd_match_torch(activation):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(32, 5)), rng.integers(0, 4, size=32)
    model = MLP(5, [16, 12, 4], activation=activation, seed=11, dtype=np.float64)
    reference = _torch_copy(model)
    lr = 0.5
    for step in range(6):
        batch = slice(8 * (step % 4), 8 * (step % 4) + 8)
        loss = cross_entropy(model(x[batch]), y[batch])
        model.zero_grad()
        loss.backward()
        with no_grad():
            for p in model.parameters():
                p.data -= lr * p.grad
        ref_loss = F.cross_entropy(reference(torch.tensor(x[batch])), torch.tensor(y[batch]))
        reference.zero_grad()
        ref_loss.backward()
        with torch.no_grad():
            for p in reference.parameters():
                p -= lr * p.grad
        assert loss.item() == pytest.approx(ref_loss.item(), rel=1e-12)
    for p, q in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=0, atol=1e-9)
    assert not np.allclose(
        model.parameters()[0].data,
        MLP(5, [16, 12, 4], activation=activation, seed=11, dtype=np.float64).parameters()[0].data,
    )


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Linear(0, 3), r"Linear: in_features must be a positive integer \(the number of inputs\), got 0"),
        (lambda: Linear(-1, 3), r"Linear: in_features must be a positive integer \(the number of inputs\), got -1"),
        (lambda: Linear(2, 0), r"Linear: out_features must be a positive integer \(a number of neurons\), got 0"),
        (lambda: Linear(2.5, 3), r"Linear: in_features must be a positive integer .*, got 2.5"),
        (lambda: Linear(True, 3), r"Linear: in_features must be a positive integer .*, got True"),
        (lambda: MLP(2, []), r"MLP: nouts must list the size of each layer, at least one layer, got \[\]"),
        (lambda: MLP(2, 3), r"MLP: nouts must list the size of each layer, at least one layer, got 3"),
        (lambda: MLP(2, [0, 1]), r"MLP: nouts\[0\] must be a positive integer \(a number of neurons\), got 0"),
        (lambda: MLP(2, [4, -2]), r"MLP: nouts\[1\] must be a positive integer .*, got -2"),
        (lambda: MLP(0, [4]), r"MLP: nin must be a positive integer \(the number of inputs\), got 0"),
    ],
)
def test_bad_sizes_are_refused_with_what_is_expected(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_numpy_integer_sizes_are_accepted():
    assert repr(MLP(np.int64(2), [np.int32(3)], seed=0)) == "MLP(Linear(2, 3))"


def test_a_layer_converts_arrays_and_lists_to_its_dtype_and_refuses_a_tensor_of_another():
    model = MLP(3, [5, 2], dtype=np.float32, seed=0)
    x = np.random.default_rng(0).normal(size=(4, 3))
    assert model(x).dtype == np.float32 and model(x.tolist()).dtype == np.float32
    assert model(x.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError) as error:
        model(Tensor(x))
    message = str(error.value)
    assert "glassgrad.float32 weights but got a glassgrad.float64 Tensor" in message
    assert "x.astype(np.float32)" in message
    assert "dtype=np.float64" in message
    with pytest.raises(ValueError, match="float64 weights but got a glassgrad.float32 Tensor"):
        MLP(3, [2], seed=0, dtype=np.float64)(Tensor(x, dtype=np.float32))
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.nn.Linear(3, 2, dtype=torch.float32)(torch.tensor(x))  # PyTorch refuses too
    out = model(Tensor(x).astype(np.float32))
    assert out.dtype == np.float32
    out.sum().backward()
    assert all(p.grad.dtype == np.float32 for p in model.parameters())


def test_float32_parameter_grads_stay_float32_after_mixing_with_float64():
    w = Tensor(np.ones(3), requires_grad=True, dtype=np.float32)
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True, dtype=np.float64)
    y = (w * x + x @ w + w / x).sum()
    assert y.dtype == np.float64  # as PyTorch: float32 with float64 gives float64
    y.backward()
    assert w.grad.dtype == np.float32 and x.grad.dtype == np.float64
    np.testing.assert_allclose(w.grad, 4 * x.data + 1 / x.data, rtol=1e-6)  # x@w is added to all 3
    np.testing.assert_allclose(x.grad, 4 - 1 / x.data**2, rtol=1e-15)
    w.grad = x.grad = None
    (w * x + w / x).sum().backward()
    tw = torch.ones(3, dtype=torch.float32, requires_grad=True)
    tx = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    (tw * tx + tw / tx).sum().backward()  # (torch's @ refuses mixed dtypes; its elementwise ops promote)
    assert tw.grad.dtype == torch.float32
    np.testing.assert_allclose(w.grad, tw.grad.numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-15)
    (gw,) = glassgrad.grad((w * x).sum(), [w], create_graph=True)  # recorded gradients too
    assert gw.dtype == np.float32 and isinstance(gw, Tensor)


def test_an_mlps_linear_layers_label_their_parameters_by_position():
    model = MLP(3, [4, 4, 1], activation="tanh", seed=0)
    assert [p.label for p in model.parameters()] == [
        "L0.weight", "L0.bias", "L1.weight", "L1.bias", "L2.weight", "L2.bias"
    ]
    assert [p.label for p in Linear(2, 3).parameters()] == ["weight", "bias"]
