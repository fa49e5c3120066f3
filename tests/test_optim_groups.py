"""Parameter groups, per-group options, amsgrad, maximize, zero_grad(set_to_none=), state dicts and
every learning-rate schedule, against torch.optim (float64): the same trajectories over many steps."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch

import glassgrad
import glassgrad.nn as gnn
import glassgrad.optim as goptim
from glassgrad.optim import lr_scheduler as gsched

tsched = torch.optim.lr_scheduler
RNG = np.random.default_rng(0)
W0, B0, G0, X, Y = (RNG.normal(size=s) for s in ((3, 2), (2,), (2,), (6, 3), (6, 2)))


def model(lib):
    """A weight matrix, a bias and a LayerNorm-like gain: nanoGPT's kinds of parameters."""
    return [lib.tensor(a.copy(), dtype=lib.float64, requires_grad=True) for a in (W0, B0, G0)]


def loss(lib, w, b, g):
    x, y = lib.tensor(X, dtype=lib.float64), lib.tensor(Y, dtype=lib.float64)
    return ((((x @ w + b).tanh() * g) - y) ** 2).mean()


def trajectory(lib, make, steps=15, each_step=None):
    ps = model(lib)
    opt = make(lib, ps)
    seq = []
    for step in range(steps):
        if each_step is not None:
            each_step(opt, step)
        opt.zero_grad()
        loss(lib, *ps).backward()
        opt.step()
        seq.append([p.detach().numpy().copy() for p in ps])
    return seq, opt, ps


def same_trajectory(make, **options):
    ours, _, _ = trajectory(glassgrad, make, **options)
    theirs, _, _ = trajectory(torch, make, **options)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for x, y in zip(a, b):
            np.testing.assert_allclose(x, y, rtol=1e-11, atol=1e-13, err_msg=f"step {step + 1}")


def nanogpt_groups(ps, weight_decay):
    decay = [p for p in ps if p.dim() >= 2]
    nodecay = [p for p in ps if p.dim() < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": nodecay, "weight_decay": 0.0}]


OPTIMIZERS = {
    "AdamW nanoGPT groups": lambda t, ps: t.optim.AdamW(nanogpt_groups(ps, 0.1), lr=0.05, betas=(0.9, 0.95)),
    "Adam per-group lr": lambda t, ps: t.optim.Adam([{"params": ps[:1], "lr": 0.2}, {"params": ps[1:]}], lr=0.01),
    "SGD per-group momentum": lambda t, ps: t.optim.SGD(
        [{"params": ps[:2], "momentum": 0.9, "nesterov": True}, {"params": ps[2:], "lr": 0.3}], lr=0.1),
    "Adam amsgrad": lambda t, ps: t.optim.Adam(ps, lr=0.05, amsgrad=True, weight_decay=0.01),
    "AdamW amsgrad": lambda t, ps: t.optim.AdamW(ps, lr=0.05, amsgrad=True),
    "Adam decoupled": lambda t, ps: t.optim.Adam(ps, lr=0.05, weight_decay=0.2, decoupled_weight_decay=True),
    "SGD maximize": lambda t, ps: t.optim.SGD(ps, lr=0.1, momentum=0.5, weight_decay=0.01, maximize=True),
    "Adam maximize": lambda t, ps: t.optim.Adam(ps, lr=0.02, maximize=True),
    "AdamW maximize amsgrad": lambda t, ps: t.optim.AdamW(ps, lr=0.02, maximize=True, amsgrad=True),
    "RMSprop maximize": lambda t, ps: t.optim.RMSprop(ps, lr=0.01, momentum=0.3, centered=True, maximize=True),
    "RMSprop groups": lambda t, ps: t.optim.RMSprop([{"params": ps[:1], "alpha": 0.9}, {"params": ps[1:]}]),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_trajectories_with_groups_and_options_equal_torchs(name):
    same_trajectory(OPTIMIZERS[name])


def test_changing_a_groups_lr_takes_effect_as_in_nanogpt():
    def warmup_then_cosine(opt, step):
        lr = 0.1 * (step + 1) / 5 if step < 5 else 0.01 + 0.5 * (1 + math.cos(math.pi * (step - 5) / 10)) * 0.09
        for group in opt.param_groups:
            group["lr"] = lr

    same_trajectory(OPTIMIZERS["AdamW nanoGPT groups"], each_step=warmup_then_cosine, steps=20)
    same_trajectory(lambda t, ps: t.optim.SGD(ps, lr=0.1, momentum=0.9), each_step=warmup_then_cosine)


def test_a_group_added_later_as_torch():
    def make(t, ps):
        opt = t.optim.Adam(ps[:2], lr=0.05)
        opt.add_param_group({"params": ps[2], "lr": 0.3, "betas": (0.5, 0.9)})
        return opt

    same_trajectory(make)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop"])
def test_groups_and_defaults_hold_torchs_options(name):
    ours = getattr(goptim, name)(model(glassgrad), lr=0.01)
    theirs = getattr(torch.optim, name)(model(torch), lr=0.01)
    assert ours.defaults == theirs.defaults
    assert [{k: v for k, v in g.items() if k != "params"} for g in ours.param_groups] == [
        {k: v for k, v in g.items() if k != "params"} for g in theirs.param_groups]
    assert "fused" in inspect.signature(getattr(goptim, name)).parameters or name == "RMSprop"


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad_set_to_none_as_torch(set_to_none):
    for lib, nn in ((glassgrad, gnn), (torch, torch.nn)):
        layer = nn.Linear(3, 2).double()
        opt = lib.optim.SGD(layer.parameters(), lr=0.1)
        for zero in (opt.zero_grad, layer.zero_grad):
            layer(lib.ones(4, 3, dtype=lib.float64)).sum().backward()
            zero(set_to_none=set_to_none)
            for p in layer.parameters():
                if set_to_none:
                    assert p.grad is None
                else:
                    assert p.grad.shape == p.shape and not p.grad.numpy().any() and not p.grad.requires_grad


def test_step_with_a_closure_returns_its_loss():
    for lib in (glassgrad, torch):
        ps = model(lib)
        opt = lib.optim.SGD(ps, lr=0.1)

        def closure(lib=lib, ps=ps, opt=opt):
            opt.zero_grad()
            value = loss(lib, *ps)
            value.backward()
            return value

        assert opt.step(closure).item() == pytest.approx(loss(torch, *model(torch)).item(), rel=1e-14)


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda t, ps: t.optim.SGD([{"params": ps}, {"params": ps[:1]}], lr=0.1), ValueError),
        (lambda t, ps: t.optim.SGD([{"params": ps}, 3], lr=0.1), TypeError),
        (lambda t, ps: t.optim.SGD([{"params": set(ps)}], lr=0.1), TypeError),
        (lambda t, ps: t.optim.SGD(ps, lr=-1.0), ValueError),
        (lambda t, ps: t.optim.Adam(ps, betas=(1.5, 0.9)), ValueError),
    ],
)
def test_bad_groups_are_refused_as_by_torch(make, error):
    with pytest.raises(error):
        make(torch, model(torch))
    with pytest.raises(error):
        make(glassgrad, model(glassgrad))
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        ps = model(glassgrad)
        goptim.SGD([{"params": ps}, {"params": ps[:1]}], lr=0.1)
    # each group's options are checked too (PyTorch checks only the defaults)
    with pytest.raises(ValueError, match="SGD lr: got -1.0"):
        goptim.SGD([{"params": model(glassgrad), "lr": -1.0}], lr=0.1)
    with pytest.raises(ValueError, match=r"Adam betas\[0\]: got 1.5"):
        goptim.Adam([{"params": model(glassgrad), "betas": (1.5, 0.9)}])


def _plain_state(sd):
    state = {i: {k: np.asarray(v.detach().numpy() if hasattr(v, "detach") else v).tolist() for k, v in s.items()}
             for i, s in sd["state"].items()}
    return state, sd["param_groups"]


@pytest.mark.parametrize("name", ["AdamW nanoGPT groups", "SGD per-group momentum", "Adam amsgrad", "RMSprop groups"])
def test_state_dicts_are_torchs(name):
    _, ours, _ = trajectory(glassgrad, OPTIMIZERS[name], steps=4)
    _, theirs, _ = trajectory(torch, OPTIMIZERS[name], steps=4)
    (our_state, our_groups), (their_state, their_groups) = _plain_state(ours.state_dict()), _plain_state(
        theirs.state_dict())
    assert our_groups == their_groups
    assert our_state.keys() == their_state.keys()
    for i in our_state:
        assert our_state[i].keys() == their_state[i].keys()
        for key in our_state[i]:
            np.testing.assert_allclose(our_state[i][key], their_state[i][key], rtol=1e-11, atol=1e-14)


def test_a_saved_optimizer_resumes_the_same_trajectory(tmp_path):
    make = OPTIMIZERS["AdamW nanoGPT groups"]
    straight, _, _ = trajectory(glassgrad, make, steps=10)
    _, opt, ps = trajectory(glassgrad, make, steps=5)
    glassgrad.save({"model": [p.detach() for p in ps], "optimizer": opt.state_dict(), "iter_num": 5},
                   tmp_path / "ckpt.pt")
    checkpoint = glassgrad.load(tmp_path / "ckpt.pt")
    resumed = [glassgrad.tensor(p.numpy(), requires_grad=True) for p in checkpoint["model"]]
    opt2 = make(glassgrad, resumed)
    opt2.load_state_dict(checkpoint["optimizer"])
    for step in range(5, 10):
        opt2.zero_grad()
        loss(glassgrad, *resumed).backward()
        opt2.step()
        for p, expected in zip(resumed, straight[step]):
            np.testing.assert_array_equal(p.numpy(), expected)


def test_load_state_dict_checks_the_groups():
    _, opt, _ = trajectory(glassgrad, OPTIMIZERS["AdamW nanoGPT groups"], steps=1)
    one_group = goptim.AdamW(model(glassgrad))
    with pytest.raises(ValueError, match="different number of parameter groups"):
        one_group.load_state_dict(opt.state_dict())
    other = goptim.AdamW([{"params": model(glassgrad)[:1]}, {"params": model(glassgrad)}])
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        other.load_state_dict(opt.state_dict())


SCHEDULES = {
    "LambdaLR": lambda s, o: s.LambdaLR(o, lambda k: 0.95**k),
    "LambdaLR per group": lambda s, o: s.LambdaLR(o, [lambda k: 1 / (k + 1), lambda k: 0.5]),
    "MultiplicativeLR": lambda s, o: s.MultiplicativeLR(o, lambda k: 0.9),
    "StepLR": lambda s, o: s.StepLR(o, step_size=4, gamma=0.5),
    "MultiStepLR": lambda s, o: s.MultiStepLR(o, milestones=[3, 7, 7, 20], gamma=0.3),
    "ConstantLR": lambda s, o: s.ConstantLR(o, factor=0.25, total_iters=6),
    "LinearLR": lambda s, o: s.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=12),
    "ExponentialLR": lambda s, o: s.ExponentialLR(o, gamma=0.9),
    "PolynomialLR": lambda s, o: s.PolynomialLR(o, total_iters=15, power=2.0),
    "CosineAnnealingLR": lambda s, o: s.CosineAnnealingLR(o, T_max=8, eta_min=0.001),
    "SequentialLR warmup then cosine": lambda s, o: s.SequentialLR(
        o, [s.LinearLR(o, start_factor=0.1, total_iters=5), s.CosineAnnealingLR(o, T_max=12, eta_min=0.001)], [5]),
    "SequentialLR of three": lambda s, o: s.SequentialLR(
        o, [s.ConstantLR(o, factor=0.5, total_iters=4), s.ExponentialLR(o, gamma=0.8), s.StepLR(o, 3, 0.5)], [3, 11]),
    "SequentialLR of one": lambda s, o: s.SequentialLR(o, [s.MultiStepLR(o, [2, 9], 0.3)], []),
    "ChainedScheduler": lambda s, o: s.ChainedScheduler([s.ConstantLR(o, factor=0.1, total_iters=2),
                                                         s.ExponentialLR(o, gamma=0.9)]),
}


def lrs(lib, sched_module, make, epochs=30, poke=None):
    opt = lib.optim.SGD([{"params": [lib.zeros(1, requires_grad=True)]},
                         {"params": [lib.zeros(1, requires_grad=True)], "lr": 0.02}], lr=0.1)
    schedule = make(sched_module, opt)
    seen = [schedule.get_last_lr() + [g["lr"] for g in opt.param_groups]]
    for epoch in range(epochs):
        opt.step()
        schedule.step()
        if poke is not None and epoch == 10:
            opt.param_groups[0]["lr"] *= 3  # a rate changed by hand: the chainable forms carry on from it
        seen.append(schedule.get_last_lr() + [g["lr"] for g in opt.param_groups])
    return seen, schedule


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("poke", [False, True])
def test_schedules_equal_torchs(name, poke):
    ours, schedule = lrs(glassgrad, gsched, SCHEDULES[name], poke=poke)
    theirs, their_schedule = lrs(torch, tsched, SCHEDULES[name], poke=poke)
    assert isinstance(schedule.get_last_lr(), list) and len(schedule.get_last_lr()) == 2
    np.testing.assert_allclose(np.array(ours), np.array(theirs), rtol=1e-12, atol=1e-15)
    for attribute in ("last_epoch", "base_lrs"):  # the combinations have neither or only last_epoch, as torch's
        assert getattr(schedule, attribute, None) == getattr(their_schedule, attribute, None)


@pytest.mark.parametrize("name", [n for n in SCHEDULES if n not in ("LambdaLR per group", "MultiplicativeLR")
                                  and not n.startswith(("SequentialLR", "ChainedScheduler"))])
def test_step_to_an_epoch_uses_torchs_closed_form(name):
    import warnings

    results = []
    for lib, module in ((glassgrad, gsched), (torch, tsched)):
        opt = lib.optim.SGD([lib.zeros(1, requires_grad=True)], lr=0.1)
        schedule = SCHEDULES[name](module, opt)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PyTorch deprecates step(epoch)
            for epoch in (5, 2, 17, 9):
                schedule.step(epoch)
                results.append(schedule.get_last_lr()[0])
    half = len(results) // 2
    np.testing.assert_allclose(results[:half], results[half:], rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda s, o: s.ConstantLR(o, factor=1.5),
        lambda s, o: s.LinearLR(o, start_factor=0.0),
        lambda s, o: s.LinearLR(o, end_factor=2.0),
        lambda s, o: s.LambdaLR(o, [lambda k: 1.0] * 3),
    ],
)
def test_schedule_errors_as_torchs(make):
    messages = []
    for lib, module in ((glassgrad, gsched), (torch, tsched)):
        with pytest.raises(ValueError) as info:
            make(module, lib.optim.SGD([{"params": [lib.zeros(1, requires_grad=True)]}], lr=0.1))
        messages.append(str(info.value))
    assert messages[0] == messages[1]


PLATEAUS = [dict(), dict(patience=2, factor=0.5), dict(mode="max", patience=1, threshold=0.05),
            dict(threshold_mode="abs", threshold=0.2, patience=1, cooldown=3, min_lr=[0.01, 0.004]),
            dict(mode="max", threshold_mode="abs", patience=0, factor=0.3, min_lr=0.005, eps=1e-3)]


@pytest.mark.parametrize("options", range(len(PLATEAUS)))
@pytest.mark.parametrize("seed", range(3))
def test_reduce_lr_on_plateau_equals_torchs(options, seed):
    metrics = np.random.default_rng(seed).normal(0, 1, 40).cumsum() * 0.3 + 5  # a wandering loss
    seen = []
    for lib, module in ((glassgrad, gsched), (torch, tsched)):
        opt = lib.optim.SGD([{"params": [lib.zeros(1, requires_grad=True)]},
                             {"params": [lib.zeros(1, requires_grad=True)], "lr": 0.02}], lr=0.1)
        schedule = module.ReduceLROnPlateau(opt, **PLATEAUS[options])
        rates = [schedule.get_last_lr()]
        for k, metric in enumerate(metrics):
            schedule.step(lib.tensor(metric) if k % 2 else float(metric))  # a 0-d tensor or a number
            rates.append(schedule.get_last_lr() + [g["lr"] for g in opt.param_groups])
        seen.append((rates, schedule.best, schedule.num_bad_epochs, schedule.cooldown_counter, schedule.last_epoch))
    assert seen[0][1:] == seen[1][1:]
    for ours, theirs in zip(*(s[0] for s in seen)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)


@pytest.mark.parametrize(
    "make",
    [
        lambda s, o: s.ReduceLROnPlateau(o, factor=1.0),
        lambda s, o: s.ReduceLROnPlateau(o, mode="low"),
        lambda s, o: s.ReduceLROnPlateau(o, threshold_mode="relative"),
        lambda s, o: s.ReduceLROnPlateau(o, min_lr=[0.1, 0.2]),
        lambda s, o: s.SequentialLR(o, [], []),
        lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2)], [3]),
        lambda s, o: s.SequentialLR(o, [s.StepLR(o, 2), s.ReduceLROnPlateau(o)], [3]),
        lambda s, o: s.ChainedScheduler([]),
        lambda s, o: s.ChainedScheduler([s.ReduceLROnPlateau(o)]),
    ],
)
def test_plateau_and_combination_errors_as_torchs(make):
    messages = []
    for lib, module in ((glassgrad, gsched), (torch, tsched)):
        with pytest.raises((ValueError, IndexError)) as info:
            make(module, lib.optim.SGD([{"params": [lib.zeros(1, requires_grad=True)]}], lr=0.1))
        messages.append((type(info.value), str(info.value)))
    assert messages[0] == messages[1]


def test_lr_scheduler_imports_as_torchs():
    from glassgrad.optim.lr_scheduler import LRScheduler

    assert glassgrad.optim.lr_scheduler is gsched and issubclass(gsched.CosineAnnealingLR, LRScheduler)
    schedule = gsched.StepLR(goptim.SGD(model(glassgrad), lr=0.1), 2)
    assert set(schedule.state_dict()) >= {"last_epoch", "base_lrs", "step_size", "gamma", "_last_lr"}
