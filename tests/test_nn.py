"""The scalar neural-net library: structure, defaults, errors, and losses against PyTorch."""

from __future__ import annotations

import math
import random
import re

import pytest
import torch
from lecture_loop import lecture_loop

from glassgrad import Value, losses
from glassgrad.autograd import topological_order
from glassgrad.data import LECTURE_XS, LECTURE_YS, make_moons
from glassgrad.nn import MLP, Layer, Neuron

pytestmark = pytest.mark.usefixtures("torch_float64")  # PyTorch float64 for these tests only


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
    from glassgrad import nn
    from glassgrad.nn import layers

    assert nn.Linear is layers.Linear and nn.Sequential is layers.Sequential and nn.TensorMLP is layers.MLP
    model = nn.Sequential(nn.Linear(2, 3, seed=0), nn.ReLU(), nn.Linear(3, 1, seed=1))
    assert model([[1.0, 2.0]]).shape == (1, 1) and len(model.parameters()) == 4


def test_every_parameter_has_a_unique_label_by_layer_neuron_and_position():
    model = MLP(3, [4, 4, 1], seed=0)
    labels = [p.label for p in model.parameters()]
    assert len(set(labels)) == len(labels) == 41
    assert labels[:5] == ["L0.N0.w1", "L0.N0.w2", "L0.N0.w3", "L0.N0.b", "L0.N1.w1"]
    assert labels[-5:] == ["L2.N0.w1", "L2.N0.w2", "L2.N0.w3", "L2.N0.w4", "L2.N0.b"]
    assert [p.label for p in Layer(2, 1, seed=0).parameters()] == ["N0.w1", "N0.w2", "N0.b"]
    assert [p.label for p in Neuron(2, seed=0).parameters()] == ["w1", "w2", "b"]


def test_inputs_and_results_are_named_unless_the_user_named_them():
    model = MLP(2, [2, 1], activation="tanh", seed=0)
    mine = Value(0.5, label="mine")
    unnamed = Value(-1.0)
    model.layers[0].neurons[1].b.label = "my bias"
    out = model([mine, unnamed])
    assert (mine.label, unnamed.label) == ("mine", "x2")
    assert model.parameters()[5].label == "my bias"
    assert out.label == "L1.N0.n"  # a linear output neuron: its weighted sum is its output
    hidden = out._prev[2]  # the linear node's inputs are (w1, w2, x1, x2, b): x1 is neuron 0's output
    assert (hidden.label, hidden._prev[0].label) == ("L0.N0.o", "L0.N0.n")
    first = model([1.0, 2.0])._prev[2]._prev[0]._prev  # numbers become leaves named x1, x2
    assert [(x.label, x.data) for x in first[2:4]] == [("x1", 1.0), ("x2", 2.0)]


@pytest.mark.slow
def test_the_lecture_network_learns_the_lecture_data_on_almost_every_seed():
    assert MLP.lecture(seed=0).layers[-1].neurons[0].activation == "tanh"
    converged = [seed for seed in range(20) if min(lecture_loop(MLP.lecture(seed=seed), 50)) < 0.05]
    assert len(converged) >= 19
    stalled = lecture_loop(MLP(3, [4, 4, 1], seed=0), 50)  # micrograd's ReLU/linear default: dead ReLUs
    assert stalled[-1] > 3.99


def test_unfused_neurons_are_micrographs_graph_with_the_same_numbers_to_the_last_bit():
    fused, unfused = MLP.lecture(seed=3), MLP.lecture(seed=3, fused=False)
    assert lecture_loop(fused, 10) == lecture_loop(unfused, 10)
    assert [p.data for p in fused.parameters()] == [p.data for p in unfused.parameters()]
    out = unfused([Value(x) for x in LECTURE_XS[0]])
    assert [v._op for v in topological_order(out)].count("*") == 3 * 4 + 4 * 4 + 4
    assert not any(v._op == "linear" for v in topological_order(out))


def test_unfused_mlp_matches_micrograd_node_for_node_and_bit_for_bit():
    """micrograd's own MLP (ReLU hidden layers, linear output) given glassgrad's initial weights."""
    from collections import Counter

    micrograd_nn = pytest.importorskip("micrograd.nn")
    micrograd_engine = pytest.importorskip("micrograd.engine")
    ours, theirs = MLP(3, [4, 4, 1], seed=1, fused=False), micrograd_nn.MLP(3, [4, 4, 1])
    for mine, their in zip(ours.parameters(), theirs.parameters(), strict=True):
        their.data = mine.data
    out = sum(ours([Value(v) for v in x]) for x in LECTURE_XS)
    their_out = sum(theirs([micrograd_engine.Value(v) for v in x]) for x in LECTURE_XS)
    out.backward()
    their_out.backward()
    assert out.data == their_out.data
    assert [p.grad for p in ours.parameters()] == [p.grad for p in theirs.parameters()]

    def nodes(root) -> Counter:
        """Each node as (op, result, its inputs' results): equal multisets mean the same graph."""
        seen, stack, shape = set(), [root], Counter()
        while stack:
            v = stack.pop()
            if id(v) not in seen:
                seen.add(id(v))
                shape[v._op.lower(), v.data, tuple(sorted(c.data for c in v._prev))] += 1
                stack.extend(v._prev)
        return shape

    assert nodes(out) == nodes(their_out) and sum(nodes(out).values()) == 346
