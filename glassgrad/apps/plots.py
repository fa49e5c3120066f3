"""Pictures of training: a classifier's decision boundary, and its loss and accuracy curves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no window, works without a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from glassgrad.io.storage import atomic_write  # noqa: E402


def save_figure(fig: plt.Figure, path: str | Path) -> Path:
    """Write `fig` as PNG atomically (`storage.atomic_write`) and close it."""
    try:
        return atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=110, bbox_inches="tight"))
    finally:
        plt.close(fig)


def decision_boundary(
    score: Callable[[np.ndarray], np.ndarray],
    points: Sequence[Sequence[float]],
    labels: Sequence[int],
    title: str,
    step: float = 0.05,
    class_names: Sequence[str] = ("class 0", "class 1"),
) -> plt.Figure:
    """The regions where `score(grid) > 0`, with the data points coloured by label (0 or 1) and a
    legend naming the two classes `class_names`."""
    xy = np.asarray(points, dtype=float)
    x_min, y_min = xy.min(axis=0) - 1.0
    x_max, y_max = xy.max(axis=0) + 1.0
    xx, yy = np.meshgrid(np.arange(x_min, x_max, step), np.arange(y_min, y_max, step))
    grid = np.c_[xx.ravel(), yy.ravel()]
    zz = (np.asarray(score(grid)) > 0).reshape(xx.shape)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.contourf(xx, yy, zz, cmap=plt.cm.Spectral, alpha=0.8)
    classes = np.asarray(labels)
    for label, name in enumerate(class_names):
        points_of = xy[classes == label]
        color = plt.cm.Spectral(float(label))
        ax.scatter(points_of[:, 0], points_of[:, 1], color=color, s=30, edgecolors="k", label=name)
    ax.set(xlim=(xx.min(), xx.max()), ylim=(yy.min(), yy.max()), title=title, xlabel="x1 (first input)",
           ylabel="x2 (second input)")
    ax.legend(loc="upper right", framealpha=0.9)
    return fig


def learning_curves(
    losses: Sequence[float],
    accuracies: dict[str, Sequence[float]],
    title: str,
    unit: str = "step",
    length: float | None = None,
) -> plt.Figure:
    """Loss (left axis) and one or more accuracy curves (right axis) against training time: an x
    axis of `length` `unit`s (by default one step per loss); each curve is spread evenly over it."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    length = length or len(losses)

    def times(values: Sequence[float]) -> np.ndarray:
        return np.arange(1, len(values) + 1) * length / max(len(values), 1)

    ax.plot(times(losses), losses, color="tab:red", label="loss")
    ax.set(xlabel=unit, ylabel="loss", title=title)
    ax2 = ax.twinx()
    for (name, acc), color in zip(accuracies.items(), ("tab:blue", "tab:green", "tab:purple")):
        ax2.plot(times(acc), acc, color=color, label=name)
    ax2.set(ylabel="accuracy", ylim=(0, 1.05))
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="center right")
    return fig


def misclassified(images: np.ndarray, truth: np.ndarray, predicted: np.ndarray, limit: int = 40) -> plt.Figure:
    """A grid of the 8x8 images the model got wrong, each titled 'true -> predicted'."""
    wrong = np.flatnonzero(truth != predicted)[:limit]
    cols = 8
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.3 + 0.5), squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong):
        ax.imshow(images[i].reshape(8, 8), cmap="gray_r")
        ax.set_title(f"{truth[i]} -> {predicted[i]}", fontsize=9, color="tab:red")
    fig.suptitle(f"misclassified test digits ({int((truth != predicted).sum())}): true -> predicted")
    return fig
