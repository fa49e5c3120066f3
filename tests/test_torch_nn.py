"""PyTorch's nn surface on glassgrad: Module registration, state_dict both ways, Embedding, BatchNorm1d,
LayerNorm, Flatten, the losses, nn.functional and RMSprop, each against torch in float64 (1e-9)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import glassgrad
import glassgrad.nn as nn
import glassgrad.nn.functional as F
from glassgrad.optim import RMSprop


def as_torch(state: dict) -> dict:
    return {key: torch.from_numpy(np.array(value.numpy())) for key, value in state.items()}


def model_pair():
    ours = nn.Sequential(
        nn.Embedding(27, 4),
        nn.Flatten(),
        nn.Linear(12, 16, bias=False),
        nn.BatchNorm1d(16),
        nn.Tanh(),
        nn.Linear(16, 27),
    ).double()
    theirs = torch.nn.Sequential(
        torch.nn.Embedding(27, 4),
        torch.nn.Flatten(),
        torch.nn.Linear(12, 16, bias=False),
        torch.nn.BatchNorm1d(16),
        torch.nn.Tanh(),
        torch.nn.Linear(16, 27),
    ).double()
    return ours, theirs


def test_state_dict_has_torchs_keys_shapes_and_moves_both_ways():
    ours, theirs = model_pair()
    mine = ours.state_dict()
    assert list(mine) == list(theirs.state_dict())
    assert all(mine[k].shape == tuple(v.shape) for k, v in theirs.state_dict().items())
    ours.load_state_dict(theirs.state_dict())  # torch tensors in, arrays copied
    X = np.random.default_rng(0).integers(0, 27, (10, 3))
    np.testing.assert_allclose(ours(glassgrad.tensor(X)).data, theirs(torch.tensor(X)).detach().numpy(), atol=1e-12)
    for key, value in theirs.state_dict().items():  # the training forward moved the running statistics alike
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), atol=1e-12)
    assert int(ours.state_dict()["3.num_batches_tracked"].data) == 1
    theirs.load_state_dict(as_torch(ours.state_dict()))
    ours.eval(), theirs.eval()
    assert not ours[3].training
    np.testing.assert_allclose(ours(glassgrad.tensor(X)).data, theirs(torch.tensor(X)).detach().numpy(), atol=1e-12)


def test_module_registration_as_pytorch():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(3, 4)
            self.scale = nn.Parameter(np.ones(4))
            self.register_buffer("count", glassgrad.zeros(1))
            self.not_a_parameter = glassgrad.ones(2)

        def forward(self, x):
            return self.hidden(x).tanh() * self.scale

    net = Net()
    assert [name for name, _ in net.named_parameters()] == [
        "scale",
        "hidden.weight",
        "hidden.bias",
    ]  # own first, as torch
    assert list(net.state_dict()) == ["scale", "count", "hidden.weight", "hidden.bias"]
    assert [name for name, _ in net.named_modules()] == ["", "hidden"]
    assert net(np.ones((2, 3))).shape == (2, 4)
    net.hidden = nn.Linear(3, 4)  # reassigned: registered again in its place
    assert len(net.parameters()) == 3
    assert net.eval() is net and not net.hidden.training
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)
    with pytest.raises(RuntimeError, match=r"size mismatch for hidden.weight: .*Size\(\[5, 3\]\).*Size\(\[4, 3\]\)"):
        net.load_state_dict({**net.state_dict(), "hidden.weight": np.zeros((5, 3))})
    with pytest.raises(RuntimeError, match=r"missing keys: \['count'\]"):
        net.load_state_dict({k: v for k, v in net.state_dict().items() if k != "count"})


def test_sequential_children_are_named_by_position_and_micrograd_classes_still_work():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    assert [name for name, _ in seq.named_children()] == ["0", "1"]
    assert isinstance(seq[0:1], nn.Sequential) and len(seq[0:1]) == 1
    scalar = nn.MLP(2, [3, 1], seed=0)
    assert len(scalar.parameters()) == 13
    scalar.zero_grad()


@pytest.mark.parametrize("shape", [(6, 5), (6, 5, 4)])
def test_batchnorm1d_matches_torch_in_training_and_evaluation(shape):
    x = np.random.default_rng(1).normal(size=shape) * 3 + 1
    ours, theirs = nn.BatchNorm1d(5, momentum=0.2).double(), torch.nn.BatchNorm1d(5, momentum=0.2).double()
    theirs.weight.data.uniform_(), theirs.bias.data.uniform_()
    ours.load_state_dict(theirs.state_dict())
    xt = torch.tensor(x, requires_grad=True)
    xg = glassgrad.tensor(x, requires_grad=True)
    for _ in range(2):
        out, out_t = ours(xg), theirs(xt)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-12)
    (out * out).sum().backward(), (out_t * out_t).sum().backward()
    np.testing.assert_allclose(xg.grad, xt.grad.numpy(), atol=1e-9)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), atol=1e-9)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.numpy(), atol=1e-12)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(xg[:1]).data, theirs(xt[:1]).detach().numpy(), atol=1e-12)
    with pytest.raises(
        ValueError, match=r"BatchNorm1d\(5\): expected input of shape \(N, 5\) or \(N, 5, L\), got \(6, 4\)"
    ):
        ours(glassgrad.zeros(6, 4))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        ours.train()(glassgrad.zeros(1, 5))


def test_layernorm_matches_torch():
    x = np.random.default_rng(2).normal(size=(3, 4, 5))
    ours, theirs = nn.LayerNorm(5).double(), torch.nn.LayerNorm(5).double()
    theirs.weight.data.uniform_()
    ours.load_state_dict(theirs.state_dict())
    xg, xt = glassgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, out_t = ours(xg), theirs(xt)
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), atol=1e-12)
    (out * out).sum().backward(), (out_t * out_t).sum().backward()
    np.testing.assert_allclose(xg.grad, xt.grad.numpy(), atol=1e-9)


def test_losses_and_functional_match_torch():
    rng = np.random.default_rng(3)
    logits, target = rng.normal(size=(6, 5)), np.array([0, 4, -100, 2, 2, 1])
    for reduction in ("mean", "sum", "none"):
        zg, zt = glassgrad.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
        ours = F.cross_entropy(zg, glassgrad.tensor(target), reduction=reduction)
        theirs = torch.nn.functional.cross_entropy(zt, torch.tensor(target), reduction=reduction)
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), atol=1e-12)
        ours.sum().backward(), theirs.sum().backward()
        np.testing.assert_allclose(zg.grad, zt.grad.numpy(), atol=1e-12)
    criterion = nn.CrossEntropyLoss()
    assert (
        abs(
            criterion(glassgrad.tensor(logits), glassgrad.tensor(np.abs(target) % 5)).item()
            - torch.nn.CrossEntropyLoss()(torch.tensor(logits), torch.tensor(np.abs(target) % 5)).item()
        )
        < 1e-12
    )
    y = rng.normal(size=(6, 5))
    assert (
        abs(
            nn.MSELoss()(glassgrad.tensor(logits), y).item()
            - torch.nn.MSELoss()(torch.tensor(logits), torch.tensor(y)).item()
        )
        < 1e-12
    )
    np.testing.assert_allclose(
        F.softmax(glassgrad.tensor(logits), dim=1).data, torch.tensor(logits).softmax(1).numpy(), atol=1e-15
    )
    np.testing.assert_allclose(
        F.log_softmax(glassgrad.tensor(logits), dim=0).data, torch.tensor(logits).log_softmax(0).numpy(), atol=1e-14
    )
    hot = F.one_hot(glassgrad.tensor([0, 3, 1]), num_classes=5)
    assert hot.dtype == glassgrad.int64 and np.array_equal(
        hot.data, torch.nn.functional.one_hot(torch.tensor([0, 3, 1]), 5).numpy()
    )


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: F.cross_entropy(glassgrad.zeros(2, 3), glassgrad.tensor([0, 3])),
            "target 3 is out of bounds for 3 classes",
        ),
        (
            lambda: F.cross_entropy(glassgrad.zeros(2, 3), glassgrad.tensor([0.0, 1.0])),
            r"integer class indices \(int64\), got dtype float32",
        ),
        (
            lambda: F.cross_entropy(glassgrad.zeros(2, 3), glassgrad.tensor([0, 1, 2])),
            r"input of shape \(N, C\) and target of shape \(N,\), got \(2, 3\) and \(3,\)",
        ),
        (
            lambda: F.mse_loss(glassgrad.zeros(2, 3), np.zeros(3)),
            r"input of shape \(2, 3\) and target of shape \(3,\) differ",
        ),
        (lambda: F.one_hot(glassgrad.tensor([0, 5]), 5), "class value 5 must be smaller than num_classes=5"),
        (lambda: F.softmax(glassgrad.zeros(2)), "give dim="),
        (lambda: nn.Embedding(5, 2)(glassgrad.tensor([5])), "index 5 is out of range for a table of 5 rows"),
        (lambda: nn.Embedding(5, 2)(glassgrad.tensor([1.0])), r"integer \(int64\) indices, got float32"),
    ],
)
def test_bad_input_says_what_was_wrong(make, message):
    with pytest.raises((ValueError, TypeError, IndexError), match=message):
        make()


@pytest.mark.parametrize(
    "hyper",
    [
        dict(),
        dict(lr=0.05, alpha=0.9, eps=1e-6, weight_decay=0.1),
        dict(lr=0.01, momentum=0.9),
        dict(lr=0.01, centered=True, momentum=0.5),
    ],
)
def test_rmsprop_matches_torch(hyper):
    start = np.random.default_rng(4).normal(size=(3, 2))
    ours = nn.Parameter(start.copy())
    theirs = torch.nn.Parameter(torch.tensor(start))
    opt, topt = RMSprop((p for p in [ours]), **hyper), torch.optim.RMSprop([theirs], **hyper)
    for _ in range(15):
        opt.zero_grad(), topt.zero_grad()
        ((ours * ours).tanh() * ours).sum().backward()
        ((theirs * theirs).tanh() * theirs).sum().backward()
        opt.step(), topt.step()
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), atol=1e-12)
