"""Training runs behind the `glassgrad demo` and `glassgrad train` commands."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
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


def moons_lr(k: int) -> float:
    """micrograd's demo schedule: the learning rate falls linearly from 1.0 to 0.1."""
    return 1.0 - 0.9 * k / MOONS_STEPS


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
    schedule = LambdaLR(optimizer, moons_lr)
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


def scalar_scores(model: MLP, grid) -> list[float]:
    """The model's score for each row of `grid`, without building a graph."""
    with no_grad():
        return [model(list(map(float, row))).data for row in grid]


def run_demo(out: Path, steps: int = MOONS_STEPS, seed: int = MOONS_SEED, progress: bool = True) -> History:
    """Train the moons MLP with the scalar engine and write the model and two pictures into `out`."""
    from glassgrad import plots, serialization

    out.mkdir(parents=True, exist_ok=True)
    points, labels, signs = moons_data(seed)
    model = MLP(2, [16, 16, 1], seed=seed)
    history = train_moons_scalar(model, points, signs, steps, progress)
    model_path = serialization.save(model, out / "moons_model.json")
    boundary = plots.save_figure(
        plots.decision_boundary(lambda grid: scalar_scores(model, grid), points, labels, "moons: decision boundary"),
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


def _demo_command(args: argparse.Namespace) -> int:
    run_demo(Path(args.out), steps=args.steps, seed=args.seed)
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Register `demo` and `train` on the command line."""
    demo = commands.add_parser("demo", help="train micrograd's moons MLP with the scalar engine")
    demo.add_argument("--out", default="glassgrad-out", help="folder for the model and pictures")
    demo.add_argument("--steps", type=int, default=MOONS_STEPS, help="training steps (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=MOONS_SEED, help="data and initialisation seed")
    demo.set_defaults(run=_demo_command)
