"""The makemore lectures' training steps on glassgrad and on PyTorch 2.13.0 (CPU), side by side in one run.

    python benchmarks/makemore_vs_torch.py [--steps N] [--rounds R]

1. lecture 2's MLP: batch 32, block 3, embedding 10, hidden 200 (tanh), 27 classes, F.cross_entropy;
2. lecture 5's WaveNet: batch 32, block 8, embedding 24, hidden 128, BatchNorm1d, three fused levels.

A step is forward, backward and the update `p.data += -lr * p.grad`, written once in the example
scripts (examples/makemore/) and loaded with each library, from the same initial weights and
minibatches, in float64. torch runs on 2 threads. Each figure is the median over rounds of the
mean time per step, the libraries taking turns after a warm-up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

import glassgrad

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "makemore"
sys.path.insert(0, str(EXAMPLES))
from backends import load  # noqa: E402

sys.path.remove(str(EXAMPLES))




def race(example: str, steps: int, rounds: int) -> tuple[float, float]:
    """Median seconds per training step of the example on glassgrad and on torch, same weights and batches."""
    ours, theirs = load(example, "glassgrad"), load(example, "torch")
    (X, Y), _, _ = ours.datasets()
    (tX, tY), _, _ = theirs.datasets()
    index = [np.random.default_rng(0).integers(0, X.shape[0], 32) for _ in range(steps)]
    ix, tix = [glassgrad.tensor(i) for i in index], [torch.tensor(i) for i in index]
    if example == "mlp":
        params = ours.init_params(glassgrad.Generator().manual_seed(1))
        tparams = [torch.tensor(np.array(p.data), requires_grad=True) for p in params]

        def run_ours(n):
            ours.train(params, X, Y, n, None, batches=ix)

        def run_theirs(n):
            theirs.train(tparams, tX, tY, n, None, batches=tix)

    else:
        model, params = ours.make_model(glassgrad.Generator().manual_seed(1))
        tmodel, tparams = theirs.make_model(torch.Generator().manual_seed(1))
        with torch.no_grad():
            for p, tp in zip(params, tparams):
                tp.copy_(torch.from_numpy(np.array(p.data)))

        def run_ours(n):
            ours.train(model, params, X, Y, n, None, batches=ix)

        def run_theirs(n):
            theirs.train(tmodel, tparams, tX, tY, n, None, batches=tix)

    run_ours(5), run_theirs(5)  # warm-up
    mine, other = [], []
    for _ in range(rounds):
        mine += median_step(run_ours, steps, 1)
        other += median_step(run_theirs, steps, 1)
    return statistics.median(mine), statistics.median(other)


def median_step(run, steps: int, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        run(steps)
        times.append((time.perf_counter() - start) / steps)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=50, help="steps per round")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(2)
    torch.set_default_dtype(torch.float64)
    rows = {}
    for example in ("mlp", "wavenet"):
        rows[example] = race(example, args.steps, args.rounds)
    print(f"{'training step (batch 32, float64)':40s} {'glassgrad':>12s} {'torch':>12s} {'ratio':>8s}")
    names = {
        "mlp": "lecture 2 MLP (block 3, emb 10, hidden 200)",
        "wavenet": "lecture 5 WaveNet (block 8, emb 24, 128, BN)",
    }
    for example, (mine, other) in rows.items():
        print(f"{names[example]:40s} {mine * 1e3:9.3f} ms {other * 1e3:9.3f} ms {mine / other:7.2f}x")


if __name__ == "__main__":
    main()
