"""The lecture series' training steps on glassgrad and on PyTorch (CPU), side by side in one run.

    python benchmarks/series_vs_torch.py [--steps N] [--rounds R] [--only NAME ...] [--threads T]
                                         [--clock wall|cpu] [--write] [--readme]

Workloads, each a training step (forward, backward, the optimizer's update) from the same initial
weights and the same batches in both libraries, float32 (PyTorch's default) unless noted:
- makemore.py's models over names (`benchmarks/series_models.py`): Bigram, MLP, RNN, GRU, BoW,
  Transformer (4 layers, 4 heads, width 64; and 4x: width 128), batch 32, AdamW as makemore sets it;
- the GPT of "Let's build GPT" (batch 32, block 8, width 32, 4 heads, 3 layers, AdamW; and 4x:
  width 64) and a tiny nanoGPT (nanoGPT's CPU "baby GPT": batch 12, block 64, width 128, 4 layers),
  character-level on the names as one text;
- the five makemore notebooks' loops as `examples/makemore/` writes them (minibatches of 32, SGD
  by hand): 1 the bigram net (every bigram at once; float64, as the script converts its one-hot
  input with `.double()`), 2 the MLP, 3 the deep BatchNorm MLP of layers, 4 the MLP trained with
  hand-written gradients (no autograd), 5 the WaveNet.

torch and numpy's BLAS (what glassgrad multiplies matrices with) run on `--threads` threads (2).
Before timing, the first steps' losses of the two libraries are checked to agree. Then the libraries
take turns, `--steps` steps each per round, for `--rounds` rounds; a figure is the median over the
rounds of the time per step (wall-clock, or with `--clock cpu` the process's CPU time, which on a
shared machine leaves out the time other processes took: use it with `--threads 1`), the range is
over the rounds' glassgrad/torch ratios. `--write`
puts the table into benchmarks/README.md (a section per --threads and --clock, with the machine);
`--readme` copies its 1-thread CPU-time table into the project's README.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

import glassgrad

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples" / "makemore"
sys.path.insert(0, str(EXAMPLES))
from backends import load  # noqa: E402
from names_data import load_words  # noqa: E402

sys.path.remove(str(EXAMPLES))

LIBRARIES = {"glassgrad": glassgrad, "torch": torch}


@dataclass
class Workload:
    """A training step to race: `prepare(library name)` gives `run(n)`, which trains n steps and
    returns their losses; `dtype` is what it computes in."""

    name: str
    prepare: Callable[[str], Callable[[int], list[float]]]
    dtype: str = "float32"


def set_dtype(dtype: str) -> None:
    for lib in LIBRARIES.values():
        lib.set_default_dtype(getattr(lib, dtype))


# The data: makemore's padded names, and the names as one text for the GPTs.
def makemore_batches(words: list[str], steps: int, batch: int = 32) -> tuple[list, int]:
    """makemore's CharDataset rows, `batch` random names a step: x starts with the token 0, y ends
    with 0 and is padded with -1 (no loss there). Also the block size, the longest name + 1."""
    stoi = {ch: i + 1 for i, ch in enumerate(sorted(set("".join(words))))}
    T = max(map(len, words)) + 1
    rows = np.zeros((len(words), 2, T), dtype=np.int64)
    for i, w in enumerate(words):
        ix = [stoi[ch] for ch in w]
        rows[i, 0, 1 : 1 + len(ix)] = ix
        rows[i, 1, : len(ix)] = ix
        rows[i, 1, len(ix) + 1 :] = -1
    rng = np.random.default_rng(0)
    picks = [rows[rng.integers(0, len(words), batch)] for _ in range(steps)]
    return [(p[:, 0], p[:, 1]) for p in picks], T


def text_batches(words: list[str], steps: int, batch: int, block: int) -> tuple[list, int]:
    """The lecture's get_batch: `batch` random windows of `block` characters and the next characters."""
    text = "\n".join(words)
    stoi = {ch: i for i, ch in enumerate(sorted(set(text)))}
    data = np.array([stoi[ch] for ch in text], dtype=np.int64)
    rng = np.random.default_rng(0)
    out = []
    for _ in range(steps):
        ix = rng.integers(0, len(data) - block, batch)
        out.append((np.stack([data[i : i + block] for i in ix]), np.stack([data[i + 1 : i + block + 1] for i in ix])))
    return out, len(stoi)


def module_workload(name: str, make: Callable, batches: list, optimizer: dict) -> Workload:
    """A model of series_models.py (`make(models module)`), trained by AdamW with `optimizer`'s settings."""
    models = {lib: load("series_models", lib, HERE) for lib in LIBRARIES}
    built: dict[str, object] = {}

    def prepare(lib_name: str) -> Callable[[int], list[float]]:
        lib = LIBRARIES[lib_name]
        model = make(models[lib_name])
        if lib_name == "glassgrad":
            built["weights"] = {k: np.array(v.numpy()) for k, v in model.state_dict().items()}
        else:  # the weights glassgrad's model started from
            model.load_state_dict({k: torch.from_numpy(v) for k, v in built["weights"].items()})
        opt = lib.optim.AdamW(model.parameters(), **optimizer)
        data = [(lib.tensor(x), lib.tensor(y)) for x, y in batches]
        position = [0]

        def run(n: int) -> list[float]:
            losses = []
            for _ in range(n):
                X, Y = data[position[0] % len(data)]
                position[0] += 1
                losses.append(train_step(model, opt, X, Y))
            return losses

        return run

    return Workload(name, prepare)


def train_step(model, optimizer, X, Y) -> float:
    """One step as makemore and the GPT lecture write it."""
    logits, loss = model(X, Y)
    model.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def series_workloads(steps: int) -> list[Workload]:
    words = load_words()
    mm, T = makemore_batches(words, steps)
    V = 27
    makemore_opt = dict(lr=5e-4, betas=(0.9, 0.99), weight_decay=0.01, eps=1e-8)
    gpt_data, gpt_vocab = text_batches(words, steps, batch=32, block=8)
    gpt4_data, _ = text_batches(words, steps, batch=32, block=8)
    nano_data, _ = text_batches(words, steps, batch=12, block=64)
    return [
        module_workload("makemore Bigram", lambda m: m.Bigram(V), mm, makemore_opt),
        module_workload("makemore MLP", lambda m: m.MLP(V, T), mm, makemore_opt),
        module_workload("makemore RNN", lambda m: m.RNN(V, "rnn"), mm, makemore_opt),
        module_workload("makemore GRU", lambda m: m.RNN(V, "gru"), mm, makemore_opt),
        module_workload("makemore BoW", lambda m: m.BoW(V, T), mm, makemore_opt),
        module_workload("makemore Transformer (width 64)", lambda m: m.Transformer(V, T), mm, makemore_opt),
        module_workload(
            "makemore Transformer 4x (width 128)", lambda m: m.Transformer(V, T, n_embd=128), mm, makemore_opt
        ),
        module_workload(
            "Let's build GPT (width 32, block 8)", lambda m: m.GPTLanguageModel(gpt_vocab, 8), gpt_data, dict(lr=1e-3)
        ),
        module_workload(
            "Let's build GPT 4x (width 64)",
            lambda m: m.GPTLanguageModel(gpt_vocab, 8, n_embd=64),
            gpt4_data,
            dict(lr=1e-3),
        ),
        module_workload(
            "nanoGPT tiny (width 128, block 64)",
            lambda m: m.NanoGPT(gpt_vocab, 64),
            nano_data,
            dict(lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1),
        ),
    ]


# The notebooks: the example scripts' own loops, loaded with each library.
def notebook_workloads(steps: int) -> list[Workload]:
    scripts = {
        name: {lib: load(name, lib) for lib in LIBRARIES}
        for name in ("bigram", "mlp", "batchnorm", "backprop", "wavenet")
    }
    index = [np.random.default_rng(0).integers(0, 20000, 32) for _ in range(steps)]

    def loop(name: str, setup: Callable) -> Callable[[str], Callable[[int], list[float]]]:
        """`setup(script, lib, batches)` gives the weights and `train(n)`; glassgrad's initial weights go to torch."""
        shared: dict[str, list] = {}

        def prepare(lib_name: str) -> Callable[[int], list[float]]:
            lib, script = LIBRARIES[lib_name], scripts[name][lib_name]
            params, train = setup(script, lib, [lib.tensor(i) for i in index])
            if lib_name == "glassgrad":
                shared["weights"] = [np.array(p.data) for p in params]
            else:
                with torch.no_grad():
                    for p, w in zip(params, shared["weights"], strict=True):
                        p.copy_(torch.from_numpy(w))
            return train

        return prepare

    def bigram(script, lib, _):
        words = script.splits(script.load_words())[0]
        xs, ys = script.bigrams(words)
        W = lib.randn((27, 27), generator=lib.Generator().manual_seed(1), dtype=lib.float64, requires_grad=True)
        return [W], lambda n: script.train_net(W, xs, ys, n)

    def mlp(script, lib, batches):  # notebook 2's MLP, and notebook 4's (same init_params and train)
        (X, Y), _, _ = script.datasets()
        params = script.init_params(lib.Generator().manual_seed(1))
        return params, cycling(lambda n, b: script.train(params, X, Y, n, None, batches=b), batches)

    def layers(script, lib, batches):
        (X, Y), _, _ = script.datasets()
        C, layers_, params = script.init_layers(lib.Generator().manual_seed(1))
        return params, cycling(lambda n, b: script.train_layers(C, layers_, params, X, Y, n, None, batches=b), batches)

    def wavenet(script, lib, batches):
        (X, Y), _, _ = script.datasets()
        model, params = script.make_model(lib.Generator().manual_seed(1))
        return params, cycling(lambda n, b: script.train(model, params, X, Y, n, None, batches=b), batches)

    return [
        Workload("notebook 1: bigram net (all 29k bigrams)", loop("bigram", bigram), "float64"),
        Workload("notebook 2: MLP", loop("mlp", mlp)),
        Workload("notebook 3: BatchNorm MLP of layers", loop("batchnorm", layers)),
        Workload("notebook 4: backprop by hand", loop("backprop", mlp)),
        Workload("notebook 5: WaveNet", loop("wavenet", wavenet)),
    ]


def cycling(train: Callable[[int, list], list[float]], batches: list) -> Callable[[int], list[float]]:
    """`train(n, batches)` fed the next n of `batches`, round and round."""
    position = [0]

    def run(n: int) -> list[float]:
        picked = [batches[(position[0] + i) % len(batches)] for i in range(n)]
        position[0] += n
        return train(n, picked)

    return run


# The race.
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}  # CPU time: not the time others' processes took


@dataclass
class Result:
    name: str
    dtype: str
    ours: float  # median seconds per step
    theirs: float
    low: float  # the range of the rounds' ratios
    high: float
    loss_gap: float  # the largest relative difference of the checked losses


def race(
    work: Workload, steps: int, rounds: int, clock: Callable[[], float] = time.perf_counter, check: int = 3
) -> Result:
    set_dtype(work.dtype)
    ours, theirs = work.prepare("glassgrad"), work.prepare("torch")
    a, b = ours(check), theirs(check)
    gap = max(abs(x - y) / max(abs(y), 1e-12) for x, y in zip(a, b, strict=True))
    tolerance = 1e-4 if work.dtype == "float32" else 1e-9
    if gap > tolerance:
        raise AssertionError(f"{work.name}: the losses differ: glassgrad {a}, torch {b}")
    mine, other = [], []
    for _ in range(rounds):
        for run, times in ((ours, mine), (theirs, other)):
            start = clock()
            run(steps)
            times.append((clock() - start) / steps)
    ratios = [m / o for m, o in zip(mine, other, strict=True)]
    return Result(
        work.name, work.dtype, statistics.median(mine), statistics.median(other), min(ratios), max(ratios), gap
    )


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
            if line.startswith("Model name")
        ),
        "unknown",
    )
    numpy_libs = Path(np.__file__).parent.parent / "numpy.libs"  # numpy's own BLAS (scipy's is another)
    blas = max(
        (
            pool["num_threads"]
            for pool in threadpool_info()
            if pool["user_api"] == "blas" and pool["filepath"].startswith(str(numpy_libs))
        ),
        default=1,
    )
    threads = torch.get_num_threads()
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, numpy {np.__version__} "
        f"(its BLAS on {blas} thread{'s' * (blas > 1)}), torch {torch.__version__} on {threads} "
        f"thread{'s' * (threads > 1)}"
    )


def table(results: list[Result]) -> list[str]:
    lines = [
        "| training step | dtype | glassgrad | torch | ratio (median) | ratio range | losses agree to |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.dtype} | {r.ours * 1e3:.3f} ms | {r.theirs * 1e3:.3f} ms | "
            f"{r.ours / r.theirs:.2f}x | {r.low:.2f}-{r.high:.2f}x | {r.loss_gap:.0e} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="steps per library per round")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--only", nargs="*", help="run only the workloads whose name contains one of these")
    parser.add_argument("--write", action="store_true", help="write benchmarks/README.md")
    parser.add_argument("--threads", type=int, default=2, help="threads for torch and for numpy's BLAS")
    parser.add_argument("--clock", choices=CLOCKS, default="wall", help="cpu: the process's CPU time (one thread)")
    parser.add_argument("--readme", action="store_true", help="copy the 1-thread CPU-time table into README.md, only")
    args = parser.parse_args()
    if args.readme:
        copy_table_to_readme()
        return
    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads, user_api="blas")
    works = series_workloads(args.steps * (args.rounds + 1) + 3) + notebook_workloads(64)
    if args.only:
        works = [w for w in works if any(word.lower() in w.name.lower() for word in args.only)]
    results = []
    for work in works:
        result = race(work, args.steps, args.rounds, CLOCKS[args.clock])
        results.append(result)
        print(table([result])[-1], flush=True)
    lines = table(results)
    print("\n".join(lines))
    if args.write:
        clock = "wall-clock time" if args.clock == "wall" else "CPU time"
        write_section(
            f"The series against torch, {args.threads} thread{'s' * (args.threads > 1)}, {clock}",
            f"python benchmarks/series_vs_torch.py --steps {args.steps} --rounds {args.rounds} "
            f"--threads {args.threads} --clock {args.clock} --write",
            "A figure is the median time of one training step over the rounds; the ratio is glassgrad's time over "
            "torch's (below 1 is faster); the range is over the rounds, the two libraries taking turns."
            + (
                " On a loaded machine the wall-clock time of two threads mostly measures waiting for the other "
                "processes (torch's OpenMP threads, numpy's BLAS threads): read the load average." * (args.threads > 1)
            ),
            lines,
        )


README_TABLE = "The series against torch, 1 thread, CPU time"  # the section README.md shows


def copy_table_to_readme() -> None:
    """The table of benchmarks/README.md's section README_TABLE, put between README.md's markers."""
    section = (HERE / "README.md").read_text().split(f"\n## {README_TABLE}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    readme = HERE.parent / "README.md"
    text = readme.read_text()
    start = text.index("\n", text.index("<!-- series table")) + 1
    end = text.index("<!-- end of series table -->")
    readme.write_text(text[:start] + "\n".join(rows) + "\n" + text[end:])


def write_section(title: str, command: str, intro: str, lines: list[str]) -> None:
    """Put a run's table into benchmarks/README.md under `title`, replacing that section's last run."""
    path = HERE / "README.md"
    old = path.read_text().split("\n## ") if path.exists() else []
    sections = {part.split("\n", 1)[0]: part for part in old[1:]}
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    stamp = f"{datetime.date.today().isoformat()}, {machine()}; load average {load} at the end"
    sections[title] = "\n".join([title, "", f"`{command}` ({stamp}). {intro}", "", *lines, ""])
    head = "# Benchmarks\n\nEach section is the last run of the command it names, with the date and the machine.\n"
    path.write_text("\n## ".join([head, *sections.values()]))


if __name__ == "__main__":
    main()
