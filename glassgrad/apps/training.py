"""Training runs behind the `glassgrad demo` and `glassgrad train` commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from tqdm import tqdm

from glassgrad import losses
from glassgrad.autograd import no_grad
from glassgrad.data import make_moons
from glassgrad.engine import Value
from glassgrad.nn import MLP
from glassgrad.optim import SGD, LambdaLR

MOONS_STEPS = 100
MOONS_ALPHA = 1e-4  # L2 regularisation strength, as in micrograd's demo
MOONS_SEED = 1


@dataclass
class History:
    """What a training run measured at each step."""

    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)


def moons_lr(k: int, steps: int = MOONS_STEPS) -> float:
    """micrograd's demo schedule: the learning rate falls linearly from 1.0 at step 0 towards 0.1 at `steps`."""
    return 1.0 - 0.9 * k / steps


def moons_data(seed: int = MOONS_SEED) -> tuple[list[list[float]], list[int], list[float]]:
    """100 noisy moon points, their 0/1 labels, and the labels as -1/+1 for the hinge loss."""
    points, labels = make_moons(100, noise=0.1, seed=seed)
    return points, labels, [2.0 * y - 1.0 for y in labels]


def moons_scalar_loss(model: MLP, points: list[list[float]], signs: list[float]) -> tuple[Value, float]:
    """The demo's loss (hinge + L2) on the whole batch, and the accuracy of the scores."""
    scores = [model(p) for p in points]
    loss = losses.hinge(scores, signs) + losses.l2(model.parameters(), MOONS_ALPHA)
    accuracy = sum((s.data > 0) == (y > 0) for s, y in zip(scores, signs)) / len(signs)
    return loss, accuracy


def train_moons_scalar(
    model: MLP, points: list[list[float]], signs: list[float], steps: int = MOONS_STEPS, progress: bool = True
) -> History:
    """micrograd's demo: full-batch SGD on the hinge loss with a decaying learning rate."""
    optimizer = SGD(model.parameters(), lr=1.0)
    schedule = LambdaLR(optimizer, partial(moons_lr, steps=steps))
    history = History()
    bar = tqdm(range(steps), desc="moons", disable=not progress)
    for _ in bar:
        loss, accuracy = moons_scalar_loss(model, points, signs)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        history.losses.append(loss.data)
        history.accuracies.append(accuracy)
        bar.set_postfix(loss=f"{loss.data:.4f}", acc=f"{accuracy:.0%}")
    return history


def train_moons_tensor(model, points: list[list[float]], signs: list[float], steps: int = MOONS_STEPS,
                       progress: bool = True) -> History:
    """The demo's training with the Tensor engine: the whole batch in a few array operations."""
    from glassgrad._tensor.tensor import Tensor

    dtype = model.parameters()[0].dtype  # float64, or float32 for a model made (or saved) so
    x, y = Tensor(points, dtype=dtype), Tensor(signs, dtype=dtype).reshape(-1, 1)
    optimizer = SGD(model.parameters(), lr=1.0)
    schedule = LambdaLR(optimizer, partial(moons_lr, steps=steps))
    history = History()
    bar = tqdm(range(steps), desc="moons (tensor)", disable=not progress)
    for _ in bar:
        scores = model(x)
        loss = (1 - y * scores).relu().mean() + MOONS_ALPHA * sum((p * p).sum() for p in model.parameters())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        accuracy = float(((scores.numpy() > 0) == (y.numpy() > 0)).mean())
        history.losses.append(loss.item())
        history.accuracies.append(accuracy)
        bar.set_postfix(loss=f"{loss.item():.4f}", acc=f"{accuracy:.0%}")
    return history


def run_moons(out: Path, engine: str = "scalar", steps: int = MOONS_STEPS, seed: int = MOONS_SEED,
              resume: Path | None = None, progress: bool = True) -> History:
    """Train the moons MLP with either engine and write the model and two pictures into `out`."""
    from glassgrad.apps import plots
    from glassgrad.io import serialization

    check_whole("steps", steps, 1, MAX_STEPS)
    check_whole("seed", seed, 0)
    if engine not in ("scalar", "tensor"):
        raise ValueError(f"engine: got {engine!r}; expected 'scalar' or 'tensor'")
    from glassgrad.nn.layers import check_model_shape, mlp_from_scalar

    out.mkdir(parents=True, exist_ok=True)
    points, labels, signs = moons_data(seed)
    model = serialization.load(resume) if resume else MLP(2, [16, 16, 1], seed=seed)
    if resume:  # a scalar model is checked through its Tensor twin: one check for both kinds
        check_model_shape(mlp_from_scalar(model) if isinstance(model, MLP) else model, 2, 1, f"--resume {resume}")
    if engine == "tensor":
        if isinstance(model, MLP):
            model = mlp_from_scalar(model)
        history = train_moons_tensor(model, points, signs, steps, progress)
        model_path = serialization.save(model, out / "moons_model.npz")
    else:
        if not isinstance(model, MLP):
            raise ValueError(f"--resume {resume}: a tensor model; train it with --engine tensor")
        history = train_moons_scalar(model, points, signs, steps, progress)
        model_path = serialization.save(model, out / "moons_model.json")
    twin = mlp_from_scalar(model) if isinstance(model, MLP) else model  # the same network, a whole grid at once

    def score(grid):
        with no_grad():
            return twin(grid).numpy()[:, 0]  # a layer converts an array to its own dtype

    boundary = plots.save_figure(
        plots.decision_boundary(score, points, labels, f"moons ({engine} engine): decision boundary",
                                class_names=("upper moon (label 0)", "lower moon (label 1)")),
        out / "moons_boundary.png",
    )
    curves = plots.save_figure(
        plots.learning_curves(history.losses, {"train accuracy": history.accuracies}, "moons: training"),
        out / "moons_curves.png",
    )
    print(f"final loss {history.losses[-1]:.4f}, training accuracy {history.accuracies[-1]:.0%}")
    for what, path in (("model", model_path), ("decision boundary", boundary), ("curves", curves)):
        print(f"{what}: {path}")
    return history


def run_demo(out: Path, steps: int = MOONS_STEPS, seed: int = MOONS_SEED, progress: bool = True) -> History:
    """The main job: micrograd's moons demo with the scalar engine."""
    return run_moons(out, "scalar", steps, seed, progress=progress)


MAX_STEPS = 1_000_000  # bounds on what the commands accept: far beyond any useful run, within every counter
MAX_EPOCHS = 100_000
MAX_BATCH_SIZE = 1_000_000


def expected_whole(low: int, high: int | None) -> str:
    """How an argument error names the whole numbers from `low` to `high` (no upper bound if None)."""
    return f"a whole number from {low} to {high}" if high is not None else f"a whole number >= {low}"


def check_whole(name: str, value: object, low: int, high: int | None = None) -> int:
    """`value` if it is an int from `low` to `high`; else TypeError or ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: got {type(value).__name__} {value!r}; expected {expected_whole(low, high)}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name}: got {value}; expected {expected_whole(low, high)}")
    return value


def check_positive(name: str, value: object) -> float:
    """`value` as a float if it is a finite real number > 0; else TypeError or ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name}: got {type(value).__name__} {value!r}; expected a finite number > 0")
    if not 0.0 < value < float("inf"):
        raise ValueError(f"{name}: got {value!r}; expected a finite number > 0")
    return float(value)
