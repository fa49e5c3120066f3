"""Optimizers and schedules against torch.optim (float64): the same parameter sequence to 1e-9."""

from __future__ import annotations

import pytest
import torch

from glassgrad import Value
from glassgrad.optim import SGD, Adam, AdamW, CosineAnnealingLR, LambdaLR, StepLR

START = [0.5, -1.5, 2.0, 0.25]
TARGET = [1.0, 0.5, -0.5, 2.0]

CONFIGS = [
    (SGD, torch.optim.SGD, dict(lr=0.1)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    (Adam, torch.optim.Adam, dict(lr=0.1)),
    (Adam, torch.optim.Adam, dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    (AdamW, torch.optim.AdamW, dict(lr=0.1)),
    (AdamW, torch.optim.AdamW, dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.3)),
]
IDS = [f"{ours.__name__}-{i}" for i, (ours, _, _) in enumerate(CONFIGS)]


def loss_of(ps):
    """A loss with curvature and coupling, written once for Values and torch tensors alike."""
    loss = 0.0
    for p, t in zip(ps, TARGET, strict=True):
        loss = loss + (p - t) ** 2
    return loss + (ps[0] * ps[1]).tanh() + (ps[2] * 0.5).exp() * ps[3] ** 2 * 0.1


def torch_sequence(torch_opt, hyper, steps=20):
    ps = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in START]
    opt = torch_opt(ps, **hyper)
    seq = []
    for _ in range(steps):
        opt.zero_grad()
        loss_of(ps).backward()
        opt.step()
        seq.append([p.item() for p in ps])
    return seq


@pytest.mark.parametrize(("ours", "theirs", "hyper"), CONFIGS, ids=IDS)
def test_value_parameters_follow_torch(ours, theirs, hyper):
    ps = [Value(x) for x in START]
    opt = ours(ps, **hyper)
    expected = torch_sequence(theirs, hyper)
    for step in range(20):
        opt.zero_grad()
        loss_of(ps).backward()
        opt.step()
        assert [p.data for p in ps] == pytest.approx(expected[step], abs=1e-9, rel=0), f"step {step + 1}"
        assert all(type(p.data) is float and p._prev == () for p in ps)


@pytest.mark.parametrize(("ours", "theirs", "hyper"), CONFIGS, ids=IDS)
def test_tensor_parameters_follow_torch(ours, theirs, hyper):
    import numpy as np

    from glassgrad import Tensor

    rng = np.random.default_rng(0)
    w0, b0, x, y = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    unused0 = rng.normal(size=4)

    def run(const, param, opt_cls, read):
        xs, ys = const(x), const(y)
        w, b, unused = param(w0), param(b0), param(unused0)
        opt = opt_cls([w, b, unused], **hyper)
        seq = []
        for _ in range(20):
            opt.zero_grad()
            (((xs @ w + b).tanh() - ys) ** 2).mean().backward()
            opt.step()
            seq.append([read(w), read(b), read(unused)])
        return seq

    ours_seq = run(Tensor, lambda a: Tensor(a, requires_grad=True), ours, lambda t: t.numpy().copy())
    theirs_seq = run(
        torch.tensor, lambda a: torch.tensor(a, requires_grad=True), theirs, lambda t: t.detach().numpy().copy()
    )
    for step, (mine, ref) in enumerate(zip(ours_seq, theirs_seq, strict=True)):
        for a, r in zip(mine, ref, strict=True):
            np.testing.assert_allclose(a, r, atol=1e-9, rtol=0, err_msg=f"step {step + 1}")
    np.testing.assert_array_equal(ours_seq[-1][2], unused0)  # grad None: skipped, like torch


def test_float32_tensor_parameters_stay_float32():
    import numpy as np

    from glassgrad import Tensor

    w = Tensor(np.ones(3), requires_grad=True, dtype=np.float32)
    opt = Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.data.dtype == np.float32
    np.testing.assert_allclose(w.data, 0.9, rtol=1e-6)


def test_step_uses_a_gradient_recorded_with_create_graph():
    x = Value(3.0)
    (x * x).backward(create_graph=True)  # x.grad is the Value 6
    assert isinstance(x.grad, Value)
    SGD([x], lr=0.5).step()
    assert x.data == 0.0 and type(x.data) is float


def test_zero_grad_resets_value_gradients():
    a, b = Value(1.0), Value(2.0)
    (a * b).backward()
    opt = SGD([a, b], lr=0.1)
    opt.zero_grad()
    assert (a.grad, b.grad) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: SGD(p, lr=-0.1), "SGD lr: got -0.1; expected a finite learning rate >= 0"),
        (lambda p: SGD(p, lr=0.1, momentum=-1), "SGD momentum: got -1; expected a finite momentum >= 0"),
        (lambda p: SGD(p, lr=0.1, nesterov=True), "SGD nesterov=True: got momentum=0.0, dampening=0.0"),
        (lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "momentum > 0 and dampening = 0"),
        (lambda p: Adam(p, betas=(1.0, 0.999)), "Adam betas[0]: got 1.0; expected a value in [0, 1)"),
        (lambda p: AdamW(p, betas=(0.9, -0.1)), "AdamW betas[1]: got -0.1; expected a value in [0, 1)"),
        (lambda p: Adam(p, eps=-1e-8), "Adam eps: got -1e-08; expected a finite eps >= 0"),
        (lambda p: AdamW(p, weight_decay=-0.01), "AdamW weight_decay: got -0.01; expected a finite weight_decay >= 0"),
        (lambda p: Adam([]), "Adam: got an empty parameter list"),
        (lambda p: StepLR(SGD(p, lr=0.1), step_size=0), "StepLR step_size: got 0; expected a positive int"),
        (lambda p: CosineAnnealingLR(SGD(p, lr=0.1), T_max=0), "CosineAnnealingLR T_max: got 0"),
    ],
)
def test_bad_hyperparameters_are_named(make, message):
    with pytest.raises(ValueError) as info:
        make([Value(1.0)])
    assert message in str(info.value)


def test_passing_the_model_instead_of_its_parameters():
    from glassgrad.nn import MLP

    with pytest.raises(TypeError, match=r"pass model.parameters\(\)"):
        SGD(MLP(2, [3, 1]), lr=0.1)


def lr_sequence(opt, sched, epochs=25):
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda o: StepLR(o, step_size=3, gamma=0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 3, gamma=0.5)),
        (lambda o: CosineAnnealingLR(o, T_max=10), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 10)),
        (
            lambda o: CosineAnnealingLR(o, T_max=7, eta_min=0.01),
            lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 7, eta_min=0.01),
        ),
        (
            lambda o: LambdaLR(o, lambda k: 1.0 - 0.9 * k / 100),
            lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda k: 1.0 - 0.9 * k / 100),
        ),
    ],
    ids=["step", "cosine", "cosine-eta_min", "lambda-moons"],
)
def test_schedules_match_torch(ours, theirs):
    opt = SGD([Value(1.0)], lr=0.3)
    mine = lr_sequence(opt, ours(opt))
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    ref = lr_sequence(topt, theirs(topt))
    assert mine == pytest.approx(ref, abs=1e-12, rel=1e-12)


def test_moons_schedule_values():
    opt = SGD([Value(1.0)], lr=1.0)
    sched = LambdaLR(opt, lambda k: 1.0 - 0.9 * k / 100)
    assert opt.param_groups[0]["lr"] == 1.0
    for _ in range(50):
        sched.step()
    assert sched.get_last_lr() == pytest.approx([0.55]) and sched.last_epoch == 50
    assert CosineAnnealingLR(SGD([Value(0.0)], lr=2.0), T_max=4).get_last_lr() == [2.0]
