"""The scalar engine against micrograd 0.1.0, side by side in one run.

    python benchmarks/scalar_vs_micrograd.py

Installs micrograd==0.1.0 from PyPI into this interpreter if it is missing. Workloads:
- one training step of micrograd's moons demo (100 points, MLP 2-16-16-1, hinge loss + L2
  1e-4, forward + backward + update), each library run as its users run it: micrograd's
  notebook loop, glassgrad's `training.train_moons_scalar`; default garbage collector;
- the same with the collector disabled for micrograd's steps only (its best case);
- glassgrad building the neuron from `*` and `+` as the lecture does (node for node micrograd's
  graph), to show what the engine alone gains;
- memory per node of a chain of binary operations, and of a whole moons step's graph;
- backward over chains of 1e4, 1e5 and 1e6 operations.
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable

try:
    import micrograd  # noqa: F401
except ImportError:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "micrograd==0.1.0"], check=True)

import micrograd.engine as mg_engine  # noqa: E402
import micrograd.nn as mg_nn  # noqa: E402

import glassgrad.nn as gg_nn  # noqa: E402
from glassgrad import Value  # noqa: E402
from glassgrad.training import moons_data, moons_lr, train_moons_scalar  # noqa: E402

STEPS = 8


def micrograd_run(model, points, signs, steps: int) -> None:
    """micrograd's demo notebook loop, verbatim in substance."""
    for k in range(steps):
        inputs = [list(map(mg_engine.Value, row)) for row in points]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(signs, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        _accuracy = sum((yi > 0) == (si.data > 0) for yi, si in zip(signs, scores)) / len(signs)
        model.zero_grad()
        total.backward()
        lr = moons_lr(k, steps)
        for p in model.parameters():
            p.data -= lr * p.grad


def lecture_mlp(seed: int) -> gg_nn.MLP:
    """glassgrad's MLP with the lecture's sums of products instead of the fused `linear` node."""
    return gg_nn.MLP(2, [16, 16, 1], seed=seed, fused=False)


def per_step(run: Callable[[int], None], steps: int = STEPS, repeats: int = 3) -> float:
    """Median over `repeats` of the mean time of one step in a run of `steps` steps."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(steps)
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def without_gc(run: Callable[[int], None]) -> Callable[[int], None]:
    def wrapped(steps: int) -> None:
        gc.disable()
        try:
            run(steps)
        finally:
            gc.enable()
            gc.collect()

    return wrapped


def graph_bytes(build: Callable[[], object], count: Callable[[object], int]) -> tuple[float, int]:
    """Bytes held by the graph `build()` returns, and its node count."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    root = build()
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    return used, count(root)


def count_nodes(root) -> int:
    seen, stack = {id(root)}, [root]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


def chain(value_cls, n: int):
    v = value_cls(0.5)
    for i in range(n):
        v = v * 1.0000001 if i % 2 else v + 0.001
    return v


def time_backward(value_cls, n: int) -> str:
    root = chain(value_cls, n)
    start = time.perf_counter()
    try:
        root.backward()
    except RecursionError:
        return "RecursionError"
    return f"{time.perf_counter() - start:.3f} s"


def main() -> None:
    points, _, signs = moons_data()
    rows = []

    mg_model = mg_nn.MLP(2, [16, 16, 1])
    gg_model = gg_nn.MLP(2, [16, 16, 1], seed=1)
    lecture = lecture_mlp(seed=1)

    def gg_run(steps: int) -> None:
        train_moons_scalar(gg_model, points, signs, steps, progress=False)

    def lecture_run(steps: int) -> None:
        train_moons_scalar(lecture, points, signs, steps, progress=False)

    def mg_run(steps: int) -> None:
        micrograd_run(mg_model, points, signs, steps)

    gg = per_step(gg_run)
    mg = per_step(mg_run)
    rows.append(("moons step, default gc (s)", gg, mg))
    mg_nogc = per_step(without_gc(mg_run))
    rows.append(("moons step, micrograd gc off (s)", gg, mg_nogc))
    lec = per_step(lecture_run)
    rows.append(("moons step, lecture neuron (* and +), default gc (s)", lec, mg))
    rows.append(("moons step, lecture neuron vs micrograd gc off (s)", lec, mg_nogc))

    n = 200_000
    gg_bytes, gg_nodes = graph_bytes(lambda: chain(Value, n), count_nodes)
    mg_bytes, mg_nodes = graph_bytes(lambda: chain(mg_engine.Value, n), count_nodes)
    rows.append(("bytes per node, chain of * and +", gg_bytes / gg_nodes, mg_bytes / mg_nodes))

    def gg_graph():
        from glassgrad.training import moons_scalar_loss

        return moons_scalar_loss(gg_model, points, signs)[0]

    def mg_graph():
        inputs = [list(map(mg_engine.Value, row)) for row in points]
        scores = list(map(mg_model, inputs))
        losses = [(1 + -yi * si).relu() for yi, si in zip(signs, scores)]
        return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in mg_model.parameters())

    gg_step_bytes, gg_step_nodes = graph_bytes(gg_graph, count_nodes)
    mg_step_bytes, mg_step_nodes = graph_bytes(mg_graph, count_nodes)
    rows.append(("moons step graph, MB", gg_step_bytes / 1e6, mg_step_bytes / 1e6))
    rows.append(("moons step graph, nodes", gg_step_nodes, mg_step_nodes))

    print(f"{'workload':<55} {'glassgrad':>12} {'micrograd':>12} {'ratio':>8}")
    for name, ours, theirs in rows:
        ratio = theirs / ours if "(s)" in name else ours / theirs
        label = "x faster" if "(s)" in name else "x"
        fmt = "{:>12.4f}" if isinstance(ours, float) else "{:>12d}"
        print(f"{name:<55} {fmt.format(ours)} {fmt.format(theirs)} {ratio:>7.2f}{label}")
    print("(ratio: micrograd time / glassgrad time for times; glassgrad / micrograd for sizes)")

    print(f"\n{'backward over a chain of n operations':<40} {'glassgrad':>14} {'micrograd':>14}")
    for n in (10_000, 100_000, 1_000_000):
        ours = time_backward(Value, n)
        theirs = time_backward(mg_engine.Value, n) if n <= 100_000 else "(not run)"
        print(f"{f'n = {n:,}':<40} {ours:>14} {theirs:>14}")
    print("micrograd's recursive topological sort exceeds Python's default recursion limit (1000).")


if __name__ == "__main__":
    main()
