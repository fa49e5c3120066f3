"""The scalar engine against micrograd 0.1.0, side by side in one run.

    python benchmarks/scalar_vs_micrograd.py

Installs micrograd==0.1.0 from PyPI into this interpreter if it is missing. Workloads, each a
training step of micrograd's moons demo (100 points, MLP 2-16-16-1, hinge loss + L2 1e-4,
forward + backward + update) in micrograd's own notebook loop:
- the lecture's graph: micrograd's own `nn.py` classes building glassgrad Values op by op (the
  same 65,818 nodes a step as micrograd), against micrograd with its garbage collector on (as
  users run it) and off (its best case); glassgrad always runs with the collector on;
- the fused model: glassgrad's own MLP, whose neuron is one `linear` node, as `glassgrad demo` runs it;
- memory per node of the lecture's graph and of a chain of binary operations;
- backward over chains of 1e4, 1e5 and 1e6 operations.
"""

from __future__ import annotations

import gc
import random
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
from glassgrad.apps.training import moons_data, moons_lr, train_moons_scalar  # noqa: E402

STEPS = 8


def micrograd_run(value_cls, model, points, signs, steps: int) -> None:
    """micrograd's demo notebook loop, verbatim in substance, with Values of `value_cls`."""
    for k in range(steps):
        inputs = [list(map(value_cls, row)) for row in points]
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


def micrograd_mlp(value_cls, seed: int):
    """micrograd's own nn.MLP(2, [16, 16, 1]) whose neurons make Values of `value_cls`."""
    random.seed(seed)
    mg_nn.Value = value_cls
    try:
        return mg_nn.MLP(2, [16, 16, 1])
    finally:
        mg_nn.Value = mg_engine.Value


def per_step(run: Callable[[int], None], steps: int = STEPS, repeats: int = 3) -> float:
    """Median over `repeats` of the mean time of one step in a run of `steps` steps."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(steps)
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def without_gc(run: Callable[[int], None]) -> Callable[[int], None]:
    """`run` with the collector off; the collection of the garbage it left (micrograd's graphs are
    cycles that only the collector frees) is part of its time, as it is part of what it costs."""
    def wrapped(steps: int) -> None:
        gc.disable()
        try:
            run(steps)
        finally:
            gc.enable()
            gc.collect()

    return wrapped


def without_gc_uncollected(run: Callable[[int], None], steps: int = STEPS, repeats: int = 3) -> float:
    """Like `per_step(without_gc(run))`, but the garbage is collected after the clock stops:
    micrograd's very best case, its graphs never freed while it runs."""
    times = []
    for _ in range(repeats):
        gc.disable()
        try:
            start = time.perf_counter()
            run(steps)
            times.append((time.perf_counter() - start) / steps)
        finally:
            gc.enable()
            gc.collect()
    return statistics.median(times)


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

    gg_lecture = micrograd_mlp(Value, seed=1)  # micrograd's classes, glassgrad's Values
    mg_model = micrograd_mlp(mg_engine.Value, seed=1)
    gg_fused = gg_nn.MLP(2, [16, 16, 1], seed=1)

    def lecture_run(steps: int) -> None:
        mg_nn.Value = Value  # the neurons' Value(0) and zero_grad are micrograd's code on glassgrad Values
        try:
            micrograd_run(Value, gg_lecture, points, signs, steps)
        finally:
            mg_nn.Value = mg_engine.Value

    def mg_run(steps: int) -> None:
        micrograd_run(mg_engine.Value, mg_model, points, signs, steps)

    def fused_run(steps: int) -> None:
        train_moons_scalar(gg_fused, points, signs, steps, progress=False)

    mg = per_step(mg_run)
    mg_nogc = per_step(without_gc(mg_run))
    mg_never = without_gc_uncollected(mg_run)
    lecture = per_step(lecture_run)
    fused = per_step(fused_run)
    rows.append(("lecture graph step vs micrograd, gc on (s)", lecture, mg))
    rows.append(("lecture graph step vs micrograd, gc off (s)", lecture, mg_nogc))
    rows.append(("  ... gc off, its garbage never collected (s)", lecture, mg_never))
    rows.append(("fused model step vs micrograd, gc on (s)", fused, mg))
    rows.append(("fused model step vs micrograd, gc off (s)", fused, mg_nogc))

    def lecture_graph(model, value_cls):
        def build():
            inputs = [list(map(value_cls, row)) for row in points]
            scores = list(map(model, inputs))
            losses = [(1 + -yi * si).relu() for yi, si in zip(signs, scores)]
            return sum(losses) * (1.0 / len(losses)) + 1e-4 * sum(p * p for p in model.parameters())

        return build

    gg_bytes, gg_nodes = graph_bytes(lecture_graph(gg_lecture, Value), count_nodes)
    mg_bytes, mg_nodes = graph_bytes(lecture_graph(mg_model, mg_engine.Value), count_nodes)
    rows.append(("lecture graph, bytes per node", gg_bytes / gg_nodes, mg_bytes / mg_nodes))
    rows.append(("lecture graph, nodes", gg_nodes, mg_nodes))
    n = 200_000
    gg_bytes, gg_nodes = graph_bytes(lambda: chain(Value, n), count_nodes)
    mg_bytes, mg_nodes = graph_bytes(lambda: chain(mg_engine.Value, n), count_nodes)
    rows.append(("chain of * and +, bytes per node", gg_bytes / gg_nodes, mg_bytes / mg_nodes))

    print(f"{'workload':<46} {'glassgrad':>12} {'micrograd':>12} {'ratio':>10}")
    for name, ours, theirs in rows:
        ratio = theirs / ours if "(s)" in name else ours / theirs
        label = "x faster" if "(s)" in name else "x"
        fmt = "{:>12.4f}" if isinstance(ours, float) else "{:>12d}"
        print(f"{name:<46} {fmt.format(ours)} {fmt.format(theirs)} {ratio:>7.2f}{label}")
    print("(ratio: micrograd time / glassgrad time for times; glassgrad / micrograd for sizes;")
    print(" glassgrad runs with Python's garbage collector on throughout)")

    print(f"\n{'backward over a chain of n operations':<40} {'glassgrad':>14} {'micrograd':>14}")
    for n in (10_000, 100_000, 1_000_000):
        ours = time_backward(Value, n)
        theirs = time_backward(mg_engine.Value, n) if n <= 100_000 else "(not run)"
        print(f"{f'n = {n:,}':<40} {ours:>14} {theirs:>14}")
    print("micrograd's recursive topological sort exceeds Python's default recursion limit (1000).")


if __name__ == "__main__":
    main()
