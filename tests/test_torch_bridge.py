"""to_torch/from_torch: same weights, outputs and gradients to 1e-12, round trips, errors; glassgrad without torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import glassgrad
from glassgrad import nn
from glassgrad._tensor.tensor import Tensor
from glassgrad.nn import Linear, ReLU, Sequential, Sigmoid, Tanh
from glassgrad.nn import TensorMLP as MLP

X = np.random.default_rng(0).normal(size=(16, 3))


def _kinds(module):
    return [type(m).__name__ for m in module]


@pytest.mark.parametrize(
    "model, kinds",
    [
        (
            nn.MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh", seed=0),
            ["Linear", "Tanh", "Linear", "Tanh", "Linear", "Tanh"],
        ),
        (nn.MLP(3, [8, 2], seed=1), ["Linear", "ReLU", "Linear"]),
        (
            nn.MLP(3, [5, 1], activation="sigmoid", output_activation="sigmoid", seed=2),
            ["Linear", "Sigmoid", "Linear", "Sigmoid"],
        ),
    ],
)
def test_scalar_mlp_to_torch_matches_to_1e_12(model, kinds):
    module = glassgrad.to_torch(model)
    assert isinstance(module, torch.nn.Sequential) and _kinds(module) == kinds
    assert all(p.dtype == torch.float64 for p in module.parameters())
    weights = [p.data for p in model.parameters()]
    torch_weights = [x for lin in module if isinstance(lin, torch.nn.Linear) for x in _neuron_major(lin)]
    assert torch_weights == weights
    out = module(torch.tensor(X)).detach().numpy()
    for x, row in zip(X, out):
        got = model(list(x))
        got = [got] if isinstance(got, glassgrad.Value) else got
        assert np.abs(np.array([v.data for v in got]) - row).max() <= 1e-12


def _neuron_major(linear):
    """A torch Linear's numbers in glassgrad's scalar order: each neuron's weights, then its bias."""
    return [x for w, b in zip(linear.weight.tolist(), linear.bias.tolist()) for x in [*w, b]]


@pytest.mark.parametrize(
    "model",
    [
        MLP(3, [16, 16, 4], activation="tanh", output_activation="sigmoid", seed=0, dtype=np.float64),
        MLP(3, [8, 1], seed=1, dtype=np.float64),
        Sequential(
            Linear(3, 5, bias=False, seed=2, dtype=np.float64), Sigmoid(), Linear(5, 2, seed=3, dtype=np.float64),
            ReLU(), Tanh(),
        ),
    ],
    ids=repr,
)
def test_tensor_model_to_torch_matches_outputs_and_gradients_to_1e_12(model):
    module = glassgrad.to_torch(model)
    assert isinstance(module, torch.nn.Sequential) and _kinds(module) == [type(m).__name__ for m in model]
    for p, q in zip(model.parameters(), module.parameters(), strict=True):
        assert q.dtype == torch.float64 and np.array_equal(p.data, q.detach().numpy())
    out = model(Tensor(X))
    torch_out = module(torch.tensor(X))
    assert np.abs(out.data - torch_out.detach().numpy()).max() <= 1e-12
    (out * out).sum().backward()
    (torch_out * torch_out).sum().backward()
    for p, q in zip(model.parameters(), module.parameters(), strict=True):
        assert np.abs(p.grad - q.grad.numpy()).max() <= 1e-12


def test_float32_model_gives_float32_module_and_mixed_gives_float64():
    model = MLP(3, [6, 2], activation="tanh", seed=0, dtype=np.float32)
    module = glassgrad.to_torch(model)
    assert all(p.dtype == torch.float32 for p in module.parameters())
    for p, q in zip(model.parameters(), module.parameters(), strict=True):
        assert np.array_equal(p.data, q.detach().numpy())
    x = X.astype(np.float32)
    np.testing.assert_allclose(module(torch.tensor(x)).detach().numpy(), model(x).data, rtol=1e-6, atol=1e-6)
    mixed = Sequential(Linear(3, 2, seed=0, dtype=np.float32), Linear(2, 1, seed=1, dtype=np.float64))
    assert [p.dtype for p in glassgrad.to_torch(mixed).parameters()] == [torch.float64] * 4


def test_a_lone_linear_becomes_a_torch_linear():
    layer = Linear(3, 2, bias=False, seed=0, dtype=np.float64)
    module = glassgrad.to_torch(layer)
    assert type(module) is torch.nn.Linear and module.bias is None
    assert np.array_equal(module.weight.detach().numpy(), layer.weight.data)
    assert np.abs(module(torch.tensor(X)).detach().numpy() - layer(X).data).max() <= 1e-12


def test_to_torch_copies_weights_and_leaves_torch_random_state_alone():
    model = MLP(3, [4, 1], seed=0)
    before = model[0].weight.numpy().copy()
    state = torch.get_rng_state()
    module = glassgrad.to_torch(model)
    assert torch.equal(torch.get_rng_state(), state)
    with torch.no_grad():
        module[0].weight.fill_(7.0)
    assert np.array_equal(model[0].weight.data, before)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_from_torch_makes_an_mlp_with_the_same_weights_and_outputs(dtype):
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Linear(3, 8),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 8),
        torch.nn.Tanh(),
        torch.nn.Linear(8, 2),
        torch.nn.Sigmoid(),
    ).to(dtype)
    model = glassgrad.from_torch(module)
    assert type(model) is MLP and repr(model) == repr(MLP(3, [8, 8, 2], activation="tanh", output_activation="sigmoid"))
    for p, q in zip(model.parameters(), module.parameters(), strict=True):
        assert p.requires_grad and p.dtype == q.detach().numpy().dtype
        assert np.array_equal(p.data, q.detach().numpy())
    x = X.astype(p.dtype)
    tolerance = 1e-12 if dtype == torch.float64 else 1e-6
    assert np.abs(model(x).data - module(torch.tensor(x)).detach().numpy()).max() <= tolerance
    with torch.no_grad():
        module[0].weight.fill_(7.0)
    assert not (model[0].weight.data == 7.0).any()


def test_round_trips_keep_the_model():
    model = MLP(3, [5, 4, 1], activation="sigmoid", output_activation="tanh", seed=0)
    back = glassgrad.from_torch(glassgrad.to_torch(model))
    assert type(back) is MLP and repr(back) == repr(model)
    for p, q in zip(model.parameters(), back.parameters(), strict=True):
        assert np.array_equal(p.data, q.data) and p.data is not q.data
    linear = glassgrad.from_torch(glassgrad.to_torch(Linear(3, 2, bias=False, seed=1)))
    assert type(linear) is Linear and repr(linear) == "Linear(3, 2, bias=False)"
    scalar = nn.MLP(3, [4, 1], activation="tanh", seed=2)
    tensor_twin = glassgrad.from_torch(glassgrad.to_torch(scalar))
    assert repr(tensor_twin) == "MLP(Linear(3, 4), Tanh(), Linear(4, 1))"
    assert abs(tensor_twin(X[0]).item() - scalar(list(X[0])).data) <= 1e-12


def test_from_torch_gives_a_sequential_when_the_layers_are_no_mlp():
    module = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(3, 2, bias=False, dtype=torch.float64))
    model = glassgrad.from_torch(module)
    assert type(model) is Sequential and repr(model) == "Sequential(ReLU(), Linear(3, 2, bias=False))"
    assert np.abs(model(Tensor(X)).data - module(torch.tensor(X)).detach().numpy()).max() <= 1e-12


@pytest.mark.parametrize(
    "module, message",
    [
        (
            torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.GELU()),
            r"unsupported layer 1: GELU\(approximate='none'\)",
        ),
        (torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(3, 2))), "unsupported layer 0: Sequential"),
        (torch.nn.Sequential(torch.nn.Conv1d(1, 1, 3)), "unsupported layer 0: Conv1d"),
        (torch.nn.ModuleList([torch.nn.Linear(3, 2)]), "unsupported module ModuleList"),
        (torch.nn.Tanh(), "unsupported module Tanh"),
        (torch.nn.Linear(3, 2, dtype=torch.float16), "weights of dtype torch.float16"),
        ("not a module", "unsupported module str"),
    ],
)
def test_from_torch_rejects_what_it_cannot_convert(module, message):
    with pytest.raises(ValueError, match=message):
        glassgrad.from_torch(module)


class Custom(nn.Module):
    def __call__(self, x):
        return x


@pytest.mark.parametrize(
    "model, message",
    [
        (Sequential(Linear(3, 2), Custom()), "unsupported layer 1: Custom\\(\\)"),
        (nn.Layer(3, 2), "unsupported model Layer"),
        (Tensor([1.0]), "unsupported model Tensor"),
    ],
)
def test_to_torch_rejects_what_it_cannot_convert(model, message):
    with pytest.raises(ValueError, match=message):
        glassgrad.to_torch(model)


def test_to_torch_rejects_a_scalar_layer_mixing_activations():
    model = nn.MLP(3, [2, 1], activation="tanh", seed=0)
    model.layers[0].neurons[1].activation = "relu"
    with pytest.raises(ValueError, match=r"layer 0 mixes activations \['relu', 'tanh'\]"):
        glassgrad.to_torch(model)


def test_glassgrad_saves_and_loads_without_torch(tmp_path):
    code = f"""
import sys
sys.modules["torch"] = None  # any import of torch now fails
import numpy as np, glassgrad
from glassgrad.nn import TensorMLP as MLP
model = MLP(2, [3, 1], seed=0)
loaded = glassgrad.load(glassgrad.save(model, {str(tmp_path / "m.npz")!r}))
assert np.array_equal(loaded(np.ones((1, 2))).data, model(np.ones((1, 2))).data)
try:
    glassgrad.to_torch(model)
except ImportError as e:
    print(e)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "glassgrad.to_torch and glassgrad.from_torch need PyTorch: pip install torch"
