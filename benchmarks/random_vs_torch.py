"""Drawing random numbers on glassgrad and on PyTorch 2.13.0 (CPU): the same numbers, how long each takes.

    python benchmarks/random_vs_torch.py [--n N] [--rounds R]

Each line draws N numbers (10**6 by default) from a generator seeded alike in both libraries,
checks that the two arrays are equal, and gives the best time over rounds for each library.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import glassgrad

DRAWS = {  # name -> draw(library, generator, n)
    "randn float32": lambda t, g, n: t.randn(n, generator=g),
    "randn float64": lambda t, g, n: t.randn(n, generator=g, dtype=t.float64),
    "rand float32": lambda t, g, n: t.rand(n, generator=g),
    "rand float64": lambda t, g, n: t.rand(n, generator=g, dtype=t.float64),
    "randint(0, 27)": lambda t, g, n: t.randint(0, 27, (n,), generator=g),
    "randperm": lambda t, g, n: t.randperm(n, generator=g),
    "multinomial (27 classes, n rows, 1 sample)": lambda t, g, n: t.multinomial(
        t.ones(n // 27, 27), 1, replacement=True, generator=g
    ),
}


def best(draw, library, n: int, rounds: int) -> tuple[float, np.ndarray]:
    times = []
    for _ in range(rounds):
        g = library.Generator().manual_seed(2147483647)
        start = time.perf_counter()
        out = draw(library, g, n)
        times.append(time.perf_counter() - start)
    return min(times), np.asarray(out.numpy())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10**6)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{'draw':45} {'glassgrad':>10} {'torch':>10}  same numbers")
    for name, draw in DRAWS.items():
        ours, mine = best(draw, glassgrad, args.n, args.rounds)
        theirs, expected = best(draw, torch, args.n, args.rounds)
        same = mine.dtype == expected.dtype and np.array_equal(mine, expected)
        print(f"{name:45} {ours * 1e3:8.1f}ms {theirs * 1e3:8.1f}ms  {same}")


if __name__ == "__main__":
    main()
