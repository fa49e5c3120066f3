"""OneCycleLR, CyclicLR and CosineAnnealingWarmRestarts against torch.optim.lr_scheduler (float64):
generated argument combinations, every group's learning rate and momentum (or Adam's beta1) and the
parameters at every step, `step(epoch)` (fractional for the warm restarts), state dicts, and errors."""

from __future__ import annotations

import itertools
import math
import random
import warnings

import numpy as np
import pytest
import torch

import glassgrad

LIBS = {"torch": torch, "glassgrad": glassgrad}
OPTIMIZERS = {
    "SGD momentum": lambda L, groups: L.optim.SGD(groups, lr=0.1, momentum=0.9),
    "SGD": lambda L, groups: L.optim.SGD(groups, lr=0.1),
    "Adam": lambda L, groups: L.optim.Adam(groups, lr=0.1, betas=(0.9, 0.99)),
    "AdamW": lambda L, groups: L.optim.AdamW(groups, lr=0.1, weight_decay=0.05),
    "RMSprop": lambda L, groups: L.optim.RMSprop(groups, lr=0.01, momentum=0.5),
}
W0, B0 = np.random.default_rng(0).normal(size=(2, 3)), np.random.default_rng(1).normal(size=(3,))


def optimizer(L, name):
    """Two groups (the second with its own lr) over a weight and a bias."""
    w, b = (L.tensor(a.copy(), dtype=L.float64, requires_grad=True) for a in (W0, B0))
    return OPTIMIZERS[name](L, [{"params": [w]}, {"params": [b], "lr": 0.02}]), (w, b)


def loss(L, w, b):
    return ((w * w).sum() * 0.5 + (b.sin() * L.tensor([1.0, -2.0, 0.5], dtype=L.float64)).sum() + (w.sum() * b).sum())


def observe(opt, schedule, params):
    """What a step leaves: each group's lr, momentum and betas, get_last_lr(), the parameters."""
    groups = [(g["lr"], g.get("momentum"), *g.get("betas", (None, None))) for g in opt.param_groups]
    return groups, schedule.get_last_lr(), [p.detach().numpy().copy() for p in params]


def run(L, make, opt_name, steps, moves=None):
    """Train for `steps` batches under the schedule `make(lr_scheduler, optimizer)`, stepping it after
    each (or as `moves[k]` says: an epoch for step(epoch)); every step's observation."""
    opt, params = optimizer(L, opt_name)
    schedule = make(L.optim.lr_scheduler, opt)
    seen = [observe(opt, schedule, params)]
    for k in range(steps):
        opt.zero_grad()
        loss(L, *params).backward()
        opt.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch deprecates step(epoch) (not for the warm restarts)
            schedule.step(None if moves is None else moves[k])
        seen.append(observe(opt, schedule, params))
    return seen, schedule, opt


def same_runs(make, opt_name, steps, moves=None):
    (ours, schedule, _), (theirs, their_schedule, _) = (run(L, make, opt_name, steps, moves)
                                                        for L in (glassgrad, torch))
    for k, ((groups, last, params), (t_groups, t_last, t_params)) in enumerate(zip(ours, theirs)):
        for g, t in zip(groups, t_groups):
            assert [v is None for v in g] == [v is None for v in t], f"step {k}: {g} vs torch {t}"
            np.testing.assert_allclose([v for v in g if v is not None], [v for v in t if v is not None],
                                       rtol=1e-12, atol=1e-15, err_msg=f"step {k}: lr, momentum, betas")
        np.testing.assert_allclose(last, t_last, rtol=1e-12, atol=1e-15, err_msg=f"step {k}: get_last_lr")
        for p, t in zip(params, t_params):
            np.testing.assert_allclose(p, t, rtol=1e-11, atol=1e-13, err_msg=f"step {k}: parameters")
    assert schedule.last_epoch == their_schedule.last_epoch


def one_cycle_cases():
    """(kwargs, optimizer, steps) for a sample of the combinations of OneCycleLR's options."""
    grid = itertools.product(("cos", "linear"), (False, True), (0.3, 0.25, 0.5, 0.1), ("total", "epochs"),
                             (True, False), ("one", "per group"), ((25.0, 1e4), (10.0, 100.0)))
    cases = []
    for k, (anneal, three, pct, spec, cycle, max_lr, (div, final)) in enumerate(
            random.Random(0).sample(list(grid), 24)):
        kwargs = dict(max_lr=0.5 if max_lr == "one" else [0.5, 0.08], pct_start=pct, anneal_strategy=anneal,
                      three_phase=three, cycle_momentum=cycle, div_factor=div, final_div_factor=final)
        if k % 3 == 0:
            kwargs.update(base_momentum=[0.8, 0.7], max_momentum=0.95)
        steps = 12 + k % 17
        kwargs.update(total_steps=steps) if spec == "total" else kwargs.update(epochs=steps // 4 or 1,
                                                                              steps_per_epoch=4)
        total = kwargs.get("total_steps") or kwargs["epochs"] * 4
        cases.append((kwargs, list(OPTIMIZERS)[k % len(OPTIMIZERS)], total - 1))
    return cases


@pytest.mark.parametrize("kwargs, opt_name, steps", one_cycle_cases())
def test_one_cycle_equals_torchs(kwargs, opt_name, steps):
    same_runs(lambda s, o: s.OneCycleLR(o, **kwargs), opt_name, steps)


def cyclic_cases():
    scale_fns = [None, ("cycle", lambda x: 1 / (x + 1)), ("iterations", lambda x: 0.99**x)]
    grid = itertools.product(("triangular", "triangular2", "exp_range"), ((4, None), (3, 7), (5, 2), (2.5, 1.5)),
                             range(len(scale_fns)), (True, False), ("one", "per group"))
    cases = []
    for k, (mode, (up, down), fn, cycle, lrs) in enumerate(random.Random(1).sample(list(grid), 24)):
        kwargs = dict(base_lr=0.01 if lrs == "one" else [0.01, 0.002], max_lr=0.2 if lrs == "one" else [0.2, 0.05],
                      step_size_up=up, step_size_down=down, mode=mode, gamma=0.95, cycle_momentum=cycle)
        if scale_fns[fn] is not None:
            kwargs["scale_mode"], kwargs["scale_fn"] = scale_fns[fn]
        if k % 4 == 0:
            kwargs.update(base_momentum=0.7, max_momentum=[0.95, 0.9])
        cases.append((kwargs, list(OPTIMIZERS)[k % len(OPTIMIZERS)]))
    return cases


@pytest.mark.parametrize("kwargs, opt_name", cyclic_cases())
def test_cyclic_equals_torchs(kwargs, opt_name):
    same_runs(lambda s, o: s.CyclicLR(o, **kwargs), opt_name, 30)


WARM = [dict(T_0=T_0, T_mult=T_mult, eta_min=0.001 * ((T_0 + T_mult) % 2)) for T_0, T_mult in
        itertools.product((1, 3, 5), (1, 2, 3))]


def fractional_epochs(batches: int, epochs: int) -> list:
    """`epoch + i / batches` for each batch (the documented use), then whole steps, a jump back and on."""
    moves = [epoch + i / batches for epoch in range(epochs) for i in range(batches)]
    return moves + [None, None, 26, None, 2.5, None, 0, 13.75, None]


@pytest.mark.parametrize("kwargs", WARM, ids=str)
@pytest.mark.parametrize("how", ["step()", "step(epoch + i / batches)"])
def test_warm_restarts_equal_torchs(kwargs, how):
    moves = None if how == "step()" else fractional_epochs(3, 8)
    opt_name = list(OPTIMIZERS)[WARM.index(kwargs) % len(OPTIMIZERS)]
    same_runs(lambda s, o: s.CosineAnnealingWarmRestarts(o, **kwargs), opt_name,
              30 if moves is None else len(moves), moves)


SCHEDULES = {
    "OneCycleLR": lambda s, o: s.OneCycleLR(o, max_lr=[0.4, 0.1], total_steps=30, three_phase=True),
    "OneCycleLR linear": lambda s, o: s.OneCycleLR(o, 0.3, epochs=5, steps_per_epoch=6, anneal_strategy="linear"),
    "CyclicLR": lambda s, o: s.CyclicLR(o, 0.01, [0.3, 0.1], step_size_up=4, mode="triangular2"),
    "CyclicLR exp_range": lambda s, o: s.CyclicLR(o, 0.01, 0.2, 3, 5, mode="exp_range", gamma=0.9),
    "CosineAnnealingWarmRestarts": lambda s, o: s.CosineAnnealingWarmRestarts(o, 2, T_mult=2, eta_min=0.01),
}


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("opt_name", ["SGD momentum", "Adam"])
def test_step_to_an_epoch_as_torch(name, opt_name):
    same_runs(SCHEDULES[name], opt_name, 8, [4, 1, 9, 9, None, 17, 0, None])


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("opt_name", ["SGD momentum", "Adam", "RMSprop"])
@pytest.mark.parametrize("at", [1, 7])
def test_a_saved_schedule_resumes_as_torchs(name, opt_name, at):
    """Step `at` times, save the optimizer's and the schedule's state dicts, load them into new ones
    (the schedule made first, as torch advises): both go on as the original and as torch's."""
    goes_on = []
    for L in (glassgrad, torch):
        _, schedule, opt = run(L, SCHEDULES[name], opt_name, at)
        other_opt, _ = optimizer(L, opt_name)
        other = SCHEDULES[name](L.optim.lr_scheduler, other_opt)
        other_opt.load_state_dict(opt.state_dict())
        other.load_state_dict(schedule.state_dict())
        rates = []
        for _ in range(12):
            for o, s in ((opt, schedule), (other_opt, other)):
                o.step()
                s.step()
            original, restored = (observe(o, s, []) for o, s in ((opt, schedule), (other_opt, other)))
            assert original == restored
            rates.append(original[:2])
        goes_on.append(rates)
    for (groups, last), (t_groups, t_last) in zip(*goes_on):
        np.testing.assert_allclose(last, t_last, rtol=1e-12)
        np.testing.assert_allclose([[v for v in g if v is not None] for g in groups],
                                   [[v for v in g if v is not None] for g in t_groups], rtol=1e-12)


@pytest.mark.parametrize("name", SCHEDULES)
def test_the_state_dict_holds_torchs_entries(name):
    states = []
    for L in (glassgrad, torch):
        opt, _ = optimizer(L, "SGD momentum")
        schedule = SCHEDULES[name](L.optim.lr_scheduler, opt)
        for _ in range(5):
            opt.step()
            schedule.step()
        states.append(schedule.state_dict())
    ours, theirs = states
    for key in set(theirs) - {"_get_lr_called_within_step", "_scale_fn_ref", "_scale_fn_custom"}:
        assert key in ours, key
        a, b = ours[key], theirs[key]
        if isinstance(b, float) or isinstance(b, list) and all(isinstance(v, float) for v in b):
            np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=key)
        else:
            assert a == b, key


def test_one_cycle_refuses_a_step_past_its_end_as_torch():
    messages = []
    for L in (glassgrad, torch):
        opt, _ = optimizer(L, "SGD momentum")
        schedule = L.optim.lr_scheduler.OneCycleLR(opt, 0.5, total_steps=6)
        for _ in range(6):
            opt.step()
            schedule.step()
        with pytest.raises(ValueError) as info:
            schedule.step()
        messages.append(str(info.value))
    assert messages[0] == messages[1] == "Tried to step 7 times. The specified number of total steps is 6"


def test_one_cycle_sets_the_groups_bounds_as_torch():
    groups = []
    for L in (glassgrad, torch):
        opt, _ = optimizer(L, "Adam")
        L.optim.lr_scheduler.OneCycleLR(opt, [0.5, 0.2], total_steps=10, div_factor=20.0, final_div_factor=50.0,
                                        base_momentum=0.8, max_momentum=[0.9, 0.95])
        keys = ("initial_lr", "max_lr", "min_lr", "base_momentum", "max_momentum", "lr", "betas")
        groups.append([[g[k] for k in keys] for g in opt.param_groups])
    assert groups[0] == groups[1]


def _plain(L):
    """An optimizer with neither a momentum nor betas."""

    class Plain(L.optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

    return Plain


TORCH_ERRORS = [
    lambda s, o: s.OneCycleLR(o, 0.1),
    lambda s, o: s.OneCycleLR(o, 0.1, total_steps=0),
    lambda s, o: s.OneCycleLR(o, 0.1, total_steps=10.0),
    lambda s, o: s.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=3),
    lambda s, o: s.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=-3),
    lambda s, o: s.OneCycleLR(o, 0.1, epochs=2),
    lambda s, o: s.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5),
    lambda s, o: s.OneCycleLR(o, 0.1, total_steps=10, pct_start=1),
    lambda s, o: s.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="cosine"),
    lambda s, o: s.OneCycleLR(o, [0.1, 0.2, 0.3], total_steps=10),
    lambda s, o: s.OneCycleLR(o, 0.1, total_steps=10, base_momentum=[0.8]),
    lambda s, o: s.CyclicLR(o, 0.01, 0.1, mode="triangle"),
    lambda s, o: s.CyclicLR(o, [0.01], 0.1),
    lambda s, o: s.CyclicLR(o, 0.01, (0.1, 0.2, 0.3)),
    lambda s, o: s.CyclicLR(o, 0.01, 0.1, max_momentum=[0.9] * 3),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, 0),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, 2.0),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, 2, T_mult=0),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, 2, T_mult=1.5),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, 2, eta_min="0"),
    lambda s, o: s.CosineAnnealingWarmRestarts(o, 2).step(-1),
    lambda s, o: s.CyclicLR(_plain(o.__class__.__module__.startswith("torch") and torch or glassgrad)(
        o.param_groups[0]["params"]), 0.01, 0.1),
    lambda s, o: s.OneCycleLR(_plain(o.__class__.__module__.startswith("torch") and torch or glassgrad)(
        o.param_groups[0]["params"]), 0.1, total_steps=5),
]


@pytest.mark.parametrize("make", range(len(TORCH_ERRORS)))
def test_bad_arguments_are_refused_with_torchs_message(make):
    messages = []
    for L in (glassgrad, torch):
        opt, _ = optimizer(L, "SGD momentum")
        with pytest.raises(ValueError) as info:
            TORCH_ERRORS[make](L.optim.lr_scheduler, opt)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


# Where torch fails later with an unclear error (a ZeroDivisionError, a negative rate) or never:
# glassgrad refuses at once and names the argument.
CLEARER = [
    (lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_up=0), "step_size_up: got 0"),
    (lambda s, o: s.CyclicLR(o, 0.01, 0.1, step_size_down=-2), "step_size_down: got -2"),
    (lambda s, o: s.CyclicLR(o, 0.01, 0.1, scale_fn=lambda x: 1.0, scale_mode="cycles"), "scale_mode: got 'cycles'"),
    (lambda s, o: s.CyclicLR(o, -0.01, 0.1), "base_lr: got -0.01"),
    (lambda s, o: s.OneCycleLR(o, 0.1, total_steps=5, div_factor=0), "div_factor: got 0"),
    (lambda s, o: s.OneCycleLR(o, 0.1, total_steps=5, final_div_factor=-1.0), "final_div_factor: got -1.0"),
    (lambda s, o: s.OneCycleLR(o, 0.1, total_steps=5, max_momentum=-0.5), "max_momentum: got -0.5"),
]


@pytest.mark.parametrize("make, message", CLEARER)
def test_arguments_torch_takes_or_fails_on_later_are_refused_clearly(make, message):
    opt, _ = optimizer(glassgrad, "SGD momentum")
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make(glassgrad.optim.lr_scheduler, opt)


def test_the_warm_restarts_epoch_must_be_a_number():
    opt, _ = optimizer(glassgrad, "SGD")
    schedule = glassgrad.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, 3)
    with pytest.raises(TypeError, match="epoch: got str"):
        schedule.step("2")
    assert schedule.get_last_lr() == [0.1, 0.02] and math.isclose(opt.param_groups[0]["lr"], 0.1)
