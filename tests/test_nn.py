"""The scalar neural-net library: structure, defaults, errors, and losses against PyTorch."""

from __future__ import annotations

import math
import random
import re

import pytest
import torch

from glassgrad import Value, losses
from glassgrad.data import LECTURE_XS, LECTURE_YS, make_moons
from glassgrad.nn import MLP, Layer, Neuron

torch.set_default_dtype(torch.float64)


def test_parameter_order_is_layer_neuron_weights_then_bias():
    model = MLP(2, [3, 1], seed=0)
    params = model.parameters()
    assert len(params) == (2 + 1) * 3 + (3 + 1) * 1
    first = model.layers[0].neurons[0]
    last = model.layers[1].neurons[0]
    assert params[:3] == [*first.w, first.b]
    assert params[-4:] == [*last.w, last.b]


def test_micrograd_defaults():
    model = MLP(2, [16, 16, 1])
    assert [n.activation for n in model.layers[0].neurons] == ["relu"] * 16
    assert model.layers[-1].neurons[0].activation is None
    assert Neuron(3, nonlin=False).activation is None
    assert all(p.data == 0.0 for p in (n.b for layer in model.layers for n in layer.neurons))
    assert all(-1 <= w.data <= 1 for n in model.layers[0].neurons for w in n.w)


def test_lecture_network_trains_on_lecture_data():
    model = MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh", seed=42)
    assert all(n.activation == "tanh" for layer in model.layers for n in layer.neurons)
    for _ in range(50):
        loss = losses.mse([model(x) for x in LECTURE_XS], LECTURE_YS)
        model.zero_grad()
        loss.backward()
        for p in model.parameters():
            p.data -= 0.1 * p.grad
    predictions = [model(x).data for x in LECTURE_XS]
    assert loss.data < 0.05
    assert [math.copysign(1, p) for p in predictions] == LECTURE_YS


def test_seeded_initialisation_is_reproducible_and_leaves_global_random_alone():
    random.seed(123)
    expected_next = random.random()
    random.seed(123)
    a = [p.data for p in MLP(2, [4, 1], seed=5).parameters()]
    b = [p.data for p in MLP(2, [4, 1], seed=5).parameters()]
    c = [p.data for p in MLP(2, [4, 1], seed=6).parameters()]
    assert a == b and a != c
    assert random.random() == expected_next


def test_unseeded_models_follow_global_random_as_in_micrograd():
    random.seed(1337)
    a = [p.data for p in MLP(2, [16, 16, 1]).parameters()]
    random.seed(1337)
    b = [p.data for p in MLP(2, [16, 16, 1]).parameters()]
    assert a == b


@pytest.mark.parametrize(
    "args, message",
    [((2, []), "at least one layer"), ((2, [0, 1]), "layer 0's size must be a whole number >= 1, got 0"),
     ((-1, [1]), "number of inputs must be a whole number >= 1, got -1"), ((2.5, [1]), "got 2.5")],
)
def test_bad_sizes(args, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        MLP(*args)


def test_single_neuron_layer_returns_value_and_width_one_hidden_layer_works():
    assert isinstance(Layer(2, 1, seed=0)([1.0, 2.0]), Value)
    assert isinstance(Layer(2, 3, seed=0)([1.0, 2.0]), list)
    out = MLP(2, [16, 1, 1], seed=0)([0.5, -0.5])
    assert isinstance(out, Value)
    out.backward()


def test_wrong_number_of_inputs_names_both_numbers():
    with pytest.raises(ValueError, match="takes 2 inputs, got 3"):
        MLP(2, [4, 1], seed=0)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="takes 3 inputs, got 1"):
        Neuron(3, seed=0)([1.0])


def test_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        MLP(2, [3], activation="gelu")


def test_zero_grad():
    model = MLP(2, [3, 1], seed=0)
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def _values(xs):
    return [Value(x) for x in xs]


@pytest.mark.parametrize("seed", range(3))
def test_losses_match_torch(seed):
    rng = random.Random(seed)
    xs = [rng.uniform(-3, 3) for _ in range(6)] + [40.0, -40.0, 800.0, -800.0]
    targets = [rng.choice([0.0, 1.0]) for _ in xs]
    signs = [2 * t - 1 for t in targets]
    cases = [
        (losses.mse, lambda t, y: torch.nn.functional.mse_loss(t, torch.tensor(y)), targets),
        (losses.hinge, lambda t, y: torch.relu(1 - torch.tensor(y) * t).mean(), signs),
        (
            losses.bce_with_logits,
            lambda t, y: torch.nn.functional.binary_cross_entropy_with_logits(t, torch.tensor(y)),
            targets,
        ),
    ]
    for mine, theirs, ys in cases:
        vs = _values(xs)
        loss = mine(vs, ys)
        loss.backward()
        t = torch.tensor(xs, requires_grad=True)
        want = theirs(t, ys)
        want.backward()
        assert loss.data == pytest.approx(want.item(), rel=1e-12)
        assert [v.grad for v in vs] == pytest.approx(t.grad.tolist(), rel=1e-10, abs=1e-15)


def test_l2_and_loss_errors():
    assert losses.l2([Value(1.0), Value(-2.0)], 0.5).data == 2.5
    with pytest.raises(ValueError, match="2 outputs but 3 targets"):
        losses.mse(_values([1, 2]), [1, 2, 3])
    with pytest.raises(ValueError, match="labels must be -1 or \\+1"):
        losses.hinge(_values([1, 2]), [0, 1])
    with pytest.raises(TypeError, match="mse: outputs must be Values .* got float 1.0"):
        losses.mse([1.0], [1.0])
    with pytest.raises(ValueError, match="targets must lie in"):
        losses.bce_with_logits(_values([1]), [2.0])


def test_make_moons():
    points, labels = make_moons(100, noise=0.1, seed=3)
    assert len(points) == 100 and sorted(set(labels)) == [0, 1] and labels.count(0) == 50
    assert make_moons(100, noise=0.1, seed=3) == (points, labels)
    assert make_moons(100, noise=0.1, seed=4) != (points, labels)
    clean, clean_labels = make_moons(10, noise=0.0, seed=0)
    for (x, y), label in zip(clean, clean_labels):
        centre = (0.0, 0.0) if label == 0 else (1.0, 0.5)
        assert math.hypot(x - centre[0], y - centre[1]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="make_moons n: got 1; expected a whole number >= 2"):
        make_moons(1)


def test_tensor_layers_are_reachable_from_nn():
    from glassgrad import layers, nn

    assert nn.Linear is layers.Linear and nn.Sequential is layers.Sequential and nn.TensorMLP is layers.MLP
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 1, seed=1))
    assert model([[1.0, 2.0]]).shape == (1, 1) and len(model.parameters()) == 4
