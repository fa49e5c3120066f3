"""The Tensor engine against PyTorch 2.13.0 (CPU), side by side in one run on the same threads.

    python benchmarks/tensor_vs_torch.py [--quick]

Workloads (the same initial weights and data in both libraries):
1. the moons demo step: 100x2 batch, MLP 2-16-16-1 ReLU, hinge loss mean(relu(1 - y * score)) +
   1e-4 * sum of squared parameters, forward + backward + SGD update (float64); also the scalar
   glassgrad engine (`glassgrad.nn.MLP` of Values) on the same step, and the Tensor/scalar speed-up;
2. one epoch of the digits MLP 64-128-64-10 (ReLU, cross-entropy, batch 32, 1437 training rows of
   scikit-learn's digits, float64) with Adam (`glassgrad.optim.Adam` against `torch.optim.Adam`);
3. one step of a large MLP 784-1024-1024-10, batch 256, float32, random data, cross-entropy, SGD;
   with the achieved GFLOP/s of the step and numpy's own matmul GFLOP/s on this machine.

Each figure is the best of several rounds, the two libraries taking turns, so that both see the
same machine load. torch runs on as many threads as numpy's BLAS.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_info

from glassgrad import nn
from glassgrad._tensor.tensor import Tensor
from glassgrad.apps import training
from glassgrad.autograd import no_grad
from glassgrad.engine import Value
from glassgrad.nn import Linear
from glassgrad.nn import TensorMLP as MLP
from glassgrad.nn.functional import cross_entropy
from glassgrad.optim import Adam


def blas_threads() -> int:
    """The number of threads numpy's BLAS uses."""
    return max((pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"), default=1)


def best_time(step: Callable[[], object], repeats: int, rounds: int) -> list[float]:
    """Seconds per call of `step`, one figure per round (call `repeats` times per round)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            step()
        times.append((time.perf_counter() - start) / repeats)
    return times


def race(ours: Callable[[], object], theirs: Callable[[], object], repeats: int, rounds: int) -> tuple[float, float]:
    """Best seconds per call of each, rounds interleaved, after a warm-up."""
    ours(), theirs()
    mine, other = [], []
    for _ in range(rounds):
        mine += best_time(ours, repeats, 1)
        other += best_time(theirs, repeats, 1)
    return min(mine), min(other)


def torch_copy(model: MLP, dtype: torch.dtype) -> torch.nn.Sequential:
    """The same network in torch, with glassgrad's initial weights."""
    modules: list[torch.nn.Module] = []
    for m in model:
        if isinstance(m, Linear):
            layer = torch.nn.Linear(m.nin, m.nout, dtype=dtype)
            with torch.no_grad():
                layer.weight.copy_(torch.from_numpy(m.weight.numpy()))
                layer.bias.copy_(torch.from_numpy(m.bias.numpy()))
            modules.append(layer)
        else:
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def sgd(params: list[Tensor], lr: float) -> None:
    with no_grad():
        for p in params:
            p.data -= lr * p.grad


def torch_sgd_step(loss: torch.Tensor, params: list[torch.Tensor], lr: float = 0.01) -> None:
    """The reference's step, written as glassgrad's `sgd`: backward, then p -= lr * grad."""
    for p in params:
        p.grad = None
    loss.backward()
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad


def moons(rounds: int) -> list[tuple[str, float, float]]:
    points, _, signs = training.moons_data()
    x, y = np.array(points), np.array(signs).reshape(-1, 1)
    model = MLP(2, [16, 16, 1], seed=0)
    params = model.parameters()
    xt, yt = Tensor(x), Tensor(y)
    reference = torch_copy(model, torch.float64)
    tparams = list(reference.parameters())
    xr, yr = torch.from_numpy(x), torch.from_numpy(y)

    def ours() -> None:
        loss = (1 - yt * model(xt)).relu().mean() + 1e-4 * sum((p * p).sum() for p in params)
        model.zero_grad()
        loss.backward()
        sgd(params, 0.01)

    def theirs() -> None:
        torch_sgd_step((1 - yr * reference(xr)).relu().mean() + 1e-4 * sum((p * p).sum() for p in tparams), tparams)

    scalar_model = nn.MLP(2, [16, 16, 1], seed=0)

    def scalar() -> None:
        loss, _ = training.moons_scalar_loss(scalar_model, points, signs)
        scalar_model.zero_grad()
        loss.backward()
        for p in scalar_model.parameters():
            p.data -= 0.01 * p.grad

    mine, other = race(ours, theirs, repeats=200, rounds=rounds)
    slow = min(best_time(scalar, repeats=1, rounds=max(3, rounds // 2)))
    assert isinstance(scalar_model.parameters()[0], Value)
    return [("moons step (2-16-16-1, batch 100)", mine, other), ("  scalar glassgrad engine, same step", slow, mine)]


def digits(rounds: int) -> list[tuple[str, float, float]]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x, _, y, _ = train_test_split(data.data / 16.0, data.target, test_size=0.2, random_state=0)
    assert len(x) == 1437
    order = np.random.default_rng(0).permutation(len(x))
    batches = [order[i : i + 32] for i in range(0, len(x), 32)]
    model = MLP(64, [128, 64, 10], seed=0)
    reference = torch_copy(model, torch.float64)
    optimizer = Adam(model.parameters(), lr=1e-3)
    toptimizer = torch.optim.Adam(reference.parameters(), lr=1e-3)

    def ours() -> None:
        for idx in batches:
            loss = cross_entropy(model(Tensor(x[idx])), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def theirs() -> None:
        for idx in batches:
            loss = F.cross_entropy(reference(torch.from_numpy(x[idx])), torch.from_numpy(y[idx]))
            toptimizer.zero_grad()
            loss.backward()
            toptimizer.step()

    mine, other = race(ours, theirs, repeats=3, rounds=rounds)
    return [(f"digits epoch (64-128-64-10, {len(batches)} batches of 32, Adam)", mine, other)]


def large(rounds: int) -> tuple[list[tuple[str, float, float]], float, float]:
    rng = np.random.default_rng(0)
    batch, sizes = 256, [784, 1024, 1024, 10]
    x = rng.normal(size=(batch, 784)).astype(np.float32)
    y = rng.integers(0, 10, size=batch)
    model = MLP(784, sizes[1:], seed=0, dtype=np.float32)
    params = model.parameters()
    reference = torch_copy(model, torch.float32)
    tparams = list(reference.parameters())
    xr, yr = torch.from_numpy(x), torch.from_numpy(y)

    def ours() -> None:
        loss = cross_entropy(model(Tensor(x)), y)
        model.zero_grad()
        loss.backward()
        sgd(params, 0.01)
        assert params[0].grad.dtype == np.float32

    def theirs() -> None:
        torch_sgd_step(F.cross_entropy(reference(xr), yr), tparams)

    mine, other = race(ours, theirs, repeats=5, rounds=rounds)
    # forward: every layer's product; backward: every weight gradient, and the input gradient
    # of every layer but the first (the data needs none)
    layer_flops = [2 * batch * a * b for a, b in zip(sizes, sizes[1:], strict=False)]
    flops = 2 * sum(layer_flops) + sum(layer_flops[1:])
    a = rng.normal(size=(batch, 1024)).astype(np.float32)
    b = rng.normal(size=(1024, 1024)).astype(np.float32)
    matmul = min(best_time(lambda: a @ b, repeats=20, rounds=rounds))
    rows = [("large step (784-1024-1024-10, batch 256, float32)", mine, other)]
    return rows, flops / mine / 1e9, 2 * batch * 1024 * 1024 / matmul / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (noisier figures)")
    rounds = 3 if parser.parse_args().quick else 10
    threads = blas_threads()
    torch.set_num_threads(threads)
    print(f"numpy {np.__version__}, torch {torch.__version__}, {threads} thread(s) for both")
    rows = moons(rounds) + digits(rounds)
    large_rows, achieved, peak = large(rounds)
    rows += large_rows
    print(f"\n{'workload':<62} {'glassgrad':>11} {'torch':>11} {'ratio':>7}")
    for name, mine, other in rows:
        if name.startswith("  scalar"):
            print(f"{name:<62} {mine * 1e3:>9.1f}ms {'':>11} {mine / other:>6.0f}x slower than Tensor")
        else:
            print(f"{name:<62} {mine * 1e3:>9.3f}ms {other * 1e3:>9.3f}ms {mine / other:>7.2f}")
    print(
        f"\nlarge step: glassgrad achieves {achieved:.1f} GFLOP/s; numpy's own matmul "
        f"(256x1024 @ 1024x1024, float32) {peak:.1f} GFLOP/s"
    )


if __name__ == "__main__":
    main()
