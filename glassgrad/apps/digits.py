"""`glassgrad train digits`: an MLP learns scikit-learn's 8x8 handwritten digits with the Tensor engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from glassgrad.autograd import no_grad
from glassgrad.nn.functional import cross_entropy
from glassgrad.nn.layers import MLP, check_model_shape
from glassgrad.optim import Adam, CosineAnnealingLR

SIZES = [128, 64, 10]


@dataclass
class DigitsRun:
    """Per-epoch training loss and accuracy, test accuracy, and the final test accuracy."""

    losses: list[float] = field(default_factory=list)
    train_accuracies: list[float] = field(default_factory=list)
    test_accuracies: list[float] = field(default_factory=list)
    test_accuracy: float = 0.0


def load_split(seed: int = 0, test_fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 1,797 bundled images scaled to [0, 1], split train/test by a seeded permutation."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x, y = digits.data / 16.0, digits.target
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = round(len(x) * test_fraction)
    test, train = order[:n_test], order[n_test:]
    return x[train], y[train], x[test], y[test]


def predict(model: MLP, x: np.ndarray) -> np.ndarray:
    """The most likely class of each row, without building a graph."""
    with no_grad():
        return model(x).numpy().argmax(axis=1)


def train(
    model: MLP,
    data: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    progress: bool = True,
) -> DigitsRun:
    """Minibatch Adam on the cross-entropy loss, the learning rate annealed to 0 along a cosine;
    reports test accuracy after every epoch."""
    x_train, y_train, x_test, y_test = data
    optimizer = Adam(model.parameters(), lr=lr)
    schedule = CosineAnnealingLR(optimizer, T_max=epochs)
    rng = np.random.default_rng(seed)
    run = DigitsRun()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(x_train))
        total, correct = 0.0, 0
        batches = range(0, len(order), batch_size)
        bar = tqdm(batches, desc=f"epoch {epoch}/{epochs}", leave=False, disable=not progress)
        for start in bar:
            rows = order[start : start + batch_size]
            logits = model(x_train[rows])  # the first layer converts the batch to its dtype
            loss = cross_entropy(logits, y_train[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
            correct += int((logits.numpy().argmax(axis=1) == y_train[rows]).sum())
            bar.set_postfix(loss=f"{loss.item():.4f}")
        schedule.step()
        run.losses.append(total / len(order))
        run.train_accuracies.append(correct / len(order))
        run.test_accuracies.append(float((predict(model, x_test) == y_test).mean()))
        if progress:
            tqdm.write(
                f"epoch {epoch:3d}: loss {run.losses[-1]:.4f}, train accuracy {run.train_accuracies[-1]:.1%}, "
                f"test accuracy {run.test_accuracies[-1]:.1%}"
            )
    run.test_accuracy = run.test_accuracies[-1] if run.test_accuracies else float(
        (predict(model, x_test) == y_test).mean()
    )
    return run


def run_digits(
    out: Path,
    epochs: int = 40,
    batch_size: int = 32,
    lr: float = 2e-3,
    seed: int = 0,
    resume: Path | None = None,
    progress: bool = True,
) -> DigitsRun:
    """Train (or keep training a saved model), then write the model, learning curves and mistakes into `out`."""
    from glassgrad.apps import plots
    from glassgrad.apps.training import MAX_BATCH_SIZE, MAX_EPOCHS, check_positive, check_whole
    from glassgrad.io import serialization

    check_whole("epochs", epochs, 1, MAX_EPOCHS)
    check_whole("batch_size", batch_size, 1, MAX_BATCH_SIZE)
    check_positive("lr", lr)
    check_whole("seed", seed, 0)
    out.mkdir(parents=True, exist_ok=True)
    data = load_split(seed)
    if resume:
        model = serialization.load(resume)
        check_model_shape(model, 64, 10, f"--resume {resume}")
    else:
        model = MLP(64, SIZES, seed=seed)
    run = train(model, data, epochs, batch_size, lr, seed, progress)
    model_path = serialization.save(model, out / "digits_model.npz")
    curves = plots.save_figure(
        plots.learning_curves(
            run.losses,
            {"train accuracy": run.train_accuracies, "test accuracy": run.test_accuracies},
            "digits",
            unit="epoch",
            length=len(run.test_accuracies),
        ),
        out / "digits_curves.png",
    )
    x_test, y_test = data[2], data[3]
    mistakes = plots.save_figure(
        plots.misclassified(x_test, y_test, predict(model, x_test)), out / "digits_mistakes.png"
    )
    print(f"test accuracy {run.test_accuracy:.1%} on {len(y_test)} images")
    for what, path in (("model", model_path), ("curves", curves), ("misclassified digits", mistakes)):
        print(f"{what}: {path}")
    return run
