"""Bad arguments outside the engine core (losses, optimizers, schedules, data, training, the command line,
the PyTorch bridge) get a clear error naming the value; and every loss's gradient matches PyTorch's at its
kinks and boundaries."""

from __future__ import annotations

import math

import numpy as np  # noqa: F401 (the cases below are code strings)
import pytest
import torch
import torch.nn.functional as F

from glassgrad import Tensor, Value, from_torch, losses  # noqa: F401
from glassgrad.apps.cli import main
from glassgrad.apps.digits import run_digits  # noqa: F401
from glassgrad.apps.training import run_moons  # noqa: F401
from glassgrad.data import make_moons  # noqa: F401
from glassgrad.optim import SGD, Adam, AdamW, CosineAnnealingLR, LambdaLR, StepLR  # noqa: F401

NAN, INF = float("nan"), float("inf")


def v() -> Value:
    return Value(1.0)


BAD = [  # (code, error type, what the message says)
    ("losses.hinge([Value(1.0)], [Value(1.0)])", TypeError, "hinge: labels must be numbers -1 or +1, got Value"),
    ("losses.hinge([v(), v()], [1, 'a'])", TypeError, "hinge: labels must be numbers -1 or +1, got str 'a'"),
    ("losses.hinge([v(), v()], [1, 0])", ValueError, "hinge: labels must be -1 or +1, got 0 (label 1)"),
    ("losses.hinge([v()], [NAN])", ValueError, "hinge: labels must be -1 or +1, got nan (label 0)"),
    ("losses.bce_with_logits([v()], [Value(0.5)])", TypeError, "targets must be numbers in [0, 1], got Value"),
    ("losses.bce_with_logits([v(), v()], [0, 'a'])", TypeError, "got str 'a'"),
    ("losses.bce_with_logits([v(), v()], [0, 2])", ValueError, "targets must lie in [0, 1], got 2 (target 1)"),
    ("losses.bce_with_logits([v()], [NAN])", ValueError, "targets must lie in [0, 1], got nan (target 0)"),
    ("Adam([v()], betas=(0.9,))", ValueError, "Adam betas: got (0.9,); expected two numbers (beta1, beta2)"),
    ("Adam([v()], betas=(0.9, 0.99, 0.5))", ValueError, "expected two numbers (beta1, beta2)"),
    ("Adam([v()], betas=0.9)", ValueError, "Adam betas: got 0.9; expected two numbers"),
    ("AdamW([v()], betas=(0.9, NAN))", ValueError, "AdamW betas[1]: got nan; expected a value in [0, 1)"),
    ("Adam([v()], eps=INF)", ValueError, "Adam eps: got inf; expected a finite eps >= 0"),
    ("Adam([v()], lr='0.1')", TypeError, "Adam lr: got str '0.1'; expected a real number"),
    ("SGD([v()], lr=NAN)", ValueError, "SGD lr: got nan; expected a finite learning rate >= 0"),
    ("SGD([v()], lr=INF)", ValueError, "SGD lr: got inf"),
    ("SGD([v()], lr=True)", TypeError, "SGD lr: got bool True; expected a real number"),
    ("SGD([v()], lr=0.1, momentum=INF)", ValueError, "SGD momentum: got inf"),
    ("SGD([v()], lr=0.1, dampening=NAN)", ValueError, "SGD dampening: got nan"),
    ("SGD([v()], lr=0.1, weight_decay=-1)", ValueError, "SGD weight_decay: got -1"),
    ("SGD([v()], lr=0.1, momentum=0.9, nesterov='yes')", TypeError, "SGD nesterov: got str 'yes'"),
    ("SGD([w, w], lr=0.1)", ValueError, "SGD: parameter 1 is parameter 0 again"),
    ("SGD([w, v(), w], lr=0.1)", ValueError, "SGD: parameter 2 is parameter 0 again"),
    ("SGD(w, lr=0.1)", TypeError, "SGD: params should be an iterable of Values or Tensors, got a Value; pass [w]"),
    ("Adam(Tensor(np.ones((3, 2)), requires_grad=True))", TypeError, "got a Tensor; pass [w]"),
    ("SGD([1.0, 2.0], lr=0.1)", TypeError, "SGD: parameter 0 is float 1.0, not a Value or Tensor"),
    ("StepLR(SGD([v()], lr=1.0), step_size=True)", ValueError, "StepLR step_size: got True; expected a positive int"),
    ("StepLR(SGD([v()], lr=1.0), step_size=2, gamma=NAN)", ValueError, "StepLR gamma: got nan"),
    ("CosineAnnealingLR(SGD([v()], lr=1.0), T_max=10, eta_min=NAN)", ValueError, "CosineAnnealingLR eta_min: got nan"),
    ("LambdaLR(SGD([v()], lr=1.0), lambda k: NAN)", ValueError, "LambdaLR: the learning rate for epoch 0 is nan"),
    ("StepLR('optimizer', step_size=2)", TypeError, "StepLR: expected an optimizer, got str"),
    ("make_moons(noise=NAN)", ValueError, "make_moons noise: got nan; expected a finite number >= 0"),
    ("make_moons(noise=INF)", ValueError, "make_moons noise: got inf"),
    ("make_moons(n=10.5)", TypeError, "make_moons n: got float 10.5; expected a whole number >= 2"),
    ("make_moons(n=True)", TypeError, "make_moons n: got bool True"),
    ("make_moons(seed=1.5)", TypeError, "make_moons seed: got float 1.5; expected an int or None"),
    ("run_moons(tmp, steps=0)", ValueError, "steps: got 0; expected a whole number from 1 to 1000000"),
    ("run_moons(tmp, steps=10**23)", ValueError, "steps: got 100000000000000000000000"),
    ("run_moons(tmp, engine='gpu')", ValueError, "engine: got 'gpu'; expected 'scalar' or 'tensor'"),
    ("run_digits(tmp, lr=NAN)", ValueError, "lr: got nan; expected a finite number > 0"),
    ("run_digits(tmp, batch_size=0)", ValueError, "batch_size: got 0"),
    ("run_digits(tmp, seed=-1)", ValueError, "seed: got -1; expected a whole number >= 0"),
]


@pytest.mark.parametrize("code, error, message", BAD, ids=[c for c, *_ in BAD])
def test_a_bad_argument_gets_a_clear_error(tmp_path, code, error, message):
    names = {**globals(), "w": Value(2.0), "tmp": tmp_path}
    with pytest.raises(error) as caught:
        eval(code, names)
    assert message in str(caught.value)
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


def test_from_torch_refuses_nan_weights():
    linear = torch.nn.Linear(2, 3, dtype=torch.float64)
    with torch.no_grad():
        linear.bias[1] = NAN
    with pytest.raises(ValueError, match="from_torch: layer 2: bias contains NaN or inf"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), linear))
    lone = torch.nn.Linear(2, 2)
    with torch.no_grad():
        lone.weight[0, 1] = INF
    with pytest.raises(ValueError, match="from_torch: weight contains NaN or inf"):
        from_torch(lone)


def test_a_duplicate_free_optimizer_still_steps_each_parameter_once():
    a, b = Value(1.0), Value(2.0)
    a.grad, b.grad = 1.0, 1.0
    SGD([a, b], lr=0.5).step()
    assert (a.data, b.data) == (0.5, 1.5)
    assert Adam(p for p in [a, b]).param_groups[0]["params"] == [a, b]  # any iterable, as in PyTorch


CLI = [
    (["demo", "--steps", "99999999999999999999999"], "--steps: expected a whole number from 1 to 1000000"),
    (["train", "moons", "--steps", "1000001"], "--steps: expected a whole number from 1 to 1000000"),
    (["train", "digits", "--epochs", "99999999999999999999"], "--epochs: expected a whole number from 1 to 100000"),
    (["train", "digits", "--batch-size", "-3"], "--batch-size: expected a whole number from 1 to 1000000"),
    (["train", "digits", "--lr", "nan"], "--lr: expected a finite number > 0, got nan"),
    (["train", "digits", "--lr", "inf"], "--lr: expected a finite number > 0, got inf"),
    (["train", "digits", "--lr", "0"], "--lr: expected a finite number > 0, got 0"),
    (["train", "digits", "--seed", "-1"], "--seed: expected a whole number >= 0, got -1"),
    (["demo", "--seed", "1.5"], "--seed: expected a whole number >= 0, got '1.5'"),
    (["train", "moons", "--seed", "nan"], "--seed: expected a whole number >= 0, got 'nan'"),
]


@pytest.mark.parametrize("argv, message", CLI, ids=[" ".join(a) for a, _ in CLI])
def test_the_command_line_bounds_its_numbers(capsys, argv, message):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    err = capsys.readouterr().err
    assert caught.value.code == 2 and message in err and "Traceback" not in err, err


def torch_grad(loss, xs, ts):
    x = torch.tensor(xs, dtype=torch.float64, requires_grad=True)
    value = loss(x, torch.tensor(ts, dtype=torch.float64))
    value.backward()
    return value.item(), x.grad.tolist()


def glassgrad_grad(loss, xs, ts):
    x = [Value(a) for a in xs]
    value = loss(x, ts)
    value.backward()
    return value.data, [a.grad for a in x]


def same(a: float, b: float) -> bool:
    """Equal, both NaN, or a few ulps of 1 apart: log(1 + e^-|x|) is only that exact in either library."""
    return a == b or (math.isnan(a) and math.isnan(b)) or abs(a - b) <= 4e-15 * max(1.0, abs(b))


POINTS = [0.0, -0.0, 1e-300, -1e-300, 0.5, -0.5, 1.0, -1.0, 30.0, -30.0, 800.0, -800.0, INF, -INF]


@pytest.mark.parametrize("target", [0.0, 0.25, 0.5, 1.0])
@pytest.mark.parametrize("x", POINTS)
def test_bce_with_logits_matches_torch_at_zero_large_and_infinite_logits(x, target):
    want, (want_grad,) = torch_grad(F.binary_cross_entropy_with_logits, [x], [target])
    got, (got_grad,) = glassgrad_grad(losses.bce_with_logits, [x], [target])
    assert same(got_grad, want_grad), (got_grad, want_grad)
    if math.isfinite(want):  # at an infinite logit torch's loss is 0*inf = nan or inf; the gradient is what counts
        assert same(got, want), (got, want)


def torch_hinge(x, y):
    return torch.relu(1 - y * x).mean()


@pytest.mark.parametrize("label", [-1.0, 1.0])
@pytest.mark.parametrize("score", [*POINTS[:-2], 1.0 - 2**-53, 1.0 + 2**-52, -1.0 - 2**-52])
def test_hinge_matches_torch_at_its_margin_and_beyond(score, label):
    want, want_grad = torch_grad(torch_hinge, [score], [label])
    got, got_grad = glassgrad_grad(losses.hinge, [score], [label])
    assert same(got, want) and same(got_grad[0], want_grad[0]), (got, want, got_grad, want_grad)


@pytest.mark.parametrize("x", POINTS[:-2])
def test_mse_matches_torch_at_zero_error_and_large_errors(x):
    want, want_grad = torch_grad(F.mse_loss, [x, 0.0], [0.0, 0.0])
    got, got_grad = glassgrad_grad(losses.mse, [x, 0.0], [0.0, 0.0])
    assert same(got, want) and all(same(a, b) for a, b in zip(got_grad, want_grad)), (got, want, got_grad, want_grad)


def test_bce_with_logits_second_derivative_is_smooth_at_zero():
    import glassgrad

    for x0 in (0.0, 1e-12, -1e-12):
        x = Value(x0)
        (g,) = glassgrad.grad(losses.bce_with_logits([x], [1.0]), [x], create_graph=True)
        (h,) = glassgrad.grad(g, [x])
        assert abs(g.data - (1 / (1 + math.exp(-x0)) - 1.0)) < 1e-15 and abs(h - 0.25) < 1e-12
