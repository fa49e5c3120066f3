"""Small datasets: two interleaving half-moons, and the lecture's four examples."""

from __future__ import annotations

import math
import random

# The lecture's tiny dataset: four inputs of three numbers and their desired outputs.
LECTURE_XS = [
    [2.0, 3.0, -1.0],
    [3.0, -1.0, 0.5],
    [0.5, 1.0, 1.0],
    [1.0, 1.0, -1.0],
]
LECTURE_YS = [1.0, -1.0, -1.0, 1.0]


def make_moons(n: int = 100, noise: float = 0.1, seed: int | None = 1) -> tuple[list[list[float]], list[int]]:
    """`n` points on two interleaving half circles with Gaussian noise; labels 0 (upper) and 1 (lower).

    The same construction as scikit-learn's `make_moons`, without needing scikit-learn.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"make_moons n: got {type(n).__name__} {n!r}; expected a whole number >= 2")
    if n < 2:
        raise ValueError(f"make_moons n: got {n}; expected a whole number >= 2")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)):
        raise TypeError(f"make_moons noise: got {type(noise).__name__} {noise!r}; expected a finite number >= 0")
    if not (math.isfinite(noise) and noise >= 0):
        raise ValueError(f"make_moons noise: got {noise!r}; expected a finite number >= 0")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(f"make_moons seed: got {type(seed).__name__} {seed!r}; expected an int or None")
    rng = random.Random(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    points: list[list[float]] = []
    labels: list[int] = []
    for i in range(n_upper):
        t = math.pi * i / (n_upper - 1) if n_upper > 1 else 0.0
        points.append([math.cos(t), math.sin(t)])
        labels.append(0)
    for i in range(n_lower):
        t = math.pi * i / (n_lower - 1) if n_lower > 1 else 0.0
        points.append([1.0 - math.cos(t), 0.5 - math.sin(t)])
        labels.append(1)
    order = list(range(n))
    rng.shuffle(order)
    points = [[x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)] for x, y in (points[i] for i in order)]
    labels = [labels[i] for i in order]
    return points, labels
