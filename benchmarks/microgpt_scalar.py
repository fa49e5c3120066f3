"""A GPT trained on scalar Values, in the style of microgpt: glassgrad's `Value` against a
micrograd-style pure-Python Value written here, side by side in one run.

    python benchmarks/microgpt_scalar.py [--steps N] [--rounds R]

The model, written once for any Value class: token and position tables, RMSNorm, one block of
4-head causal self-attention with a cache of keys and values, a ReLU MLP, the head; 16-wide,
block 16, the names' 27 characters. A step trains on one name: the forward pass over its
characters, the mean cross-entropy, backward, Adam. Both start from the same weights and see the
same names; their losses are checked to agree before timing. The baseline `Value` is micrograd's
idea as microgpt writes it: each result keeps its inputs and their local derivatives, and
backward walks a recursive topological sort.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import time

from series_vs_torch import load_words, write_section  # the benchmark beside this one

import glassgrad


class Value:
    """The baseline: a number, its gradient, its inputs and d(self)/d(input) for each."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, k):
        return Value(self.data**k, (self,), (k * self.data ** (k - 1),))

    def log(self):
        return Value(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        e = math.exp(self.data)
        return Value(e, (self,), (e,))

    def relu(self):
        return Value(max(0.0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    def backward(self):
        order, seen = [], set()

        def visit(v):
            if v not in seen:
                seen.add(v)
                for child in v._children:
                    visit(child)
                order.append(v)

        visit(self)
        self.grad = 1
        for v in reversed(order):
            for child, local in zip(v._children, v._local_grads):
                child.grad += local * v.grad


N_EMBD, N_HEAD, N_LAYER, BLOCK = 16, 4, 1, 16
HEAD = N_EMBD // N_HEAD


def make_weights(vocab: int, seed: int = 42) -> dict[str, list[list[float]]]:
    """Gaussian initial weights (std 0.08) as plain floats, so that each Value class starts the same."""
    rng = random.Random(seed)

    def matrix(rows, cols):
        return [[rng.gauss(0.0, 0.08) for _ in range(cols)] for _ in range(rows)]

    weights = {"wte": matrix(vocab, N_EMBD), "wpe": matrix(BLOCK, N_EMBD), "lm_head": matrix(vocab, N_EMBD)}
    for i in range(N_LAYER):
        for name, shape in (
            ("wq", (N_EMBD, N_EMBD)),
            ("wk", (N_EMBD, N_EMBD)),
            ("wv", (N_EMBD, N_EMBD)),
            ("wo", (N_EMBD, N_EMBD)),
            ("fc1", (4 * N_EMBD, N_EMBD)),
            ("fc2", (N_EMBD, 4 * N_EMBD)),
        ):
            weights[f"layer{i}.{name}"] = matrix(*shape)
    return weights


class ScalarGPT:
    """The model and its Adam optimizer over Values of `value_cls`."""

    def __init__(self, value_cls, weights):
        self.state = {k: [[value_cls(x) for x in row] for row in m] for k, m in weights.items()}
        self.params = [p for m in self.state.values() for row in m for p in row]
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.t = 0

    @staticmethod
    def linear(x, w):
        return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]

    @staticmethod
    def softmax(logits):
        top = max(v.data for v in logits)
        exps = [(v - top).exp() for v in logits]
        total = sum(exps)
        return [e / total for e in exps]

    @staticmethod
    def rmsnorm(x):
        scale = (sum(xi * xi for xi in x) / len(x) + 1e-5) ** -0.5
        return [xi * scale for xi in x]

    def forward(self, token, pos, keys, values):
        sd = self.state
        x = self.rmsnorm([t + p for t, p in zip(sd["wte"][token], sd["wpe"][pos])])
        for i in range(N_LAYER):
            residual = x
            x = self.rmsnorm(x)
            q = self.linear(x, sd[f"layer{i}.wq"])
            keys[i].append(self.linear(x, sd[f"layer{i}.wk"]))
            values[i].append(self.linear(x, sd[f"layer{i}.wv"]))
            heads = []
            for h in range(N_HEAD):
                lo, hi = h * HEAD, (h + 1) * HEAD
                scores = [sum(a * b for a, b in zip(q[lo:hi], k[lo:hi])) / HEAD**0.5 for k in keys[i]]
                weights = self.softmax(scores)
                heads += [sum(w * v[j] for w, v in zip(weights, values[i])) for j in range(lo, hi)]
            x = [a + b for a, b in zip(self.linear(heads, sd[f"layer{i}.wo"]), residual)]
            residual = x
            hidden = [h.relu() for h in self.linear(self.rmsnorm(x), sd[f"layer{i}.fc1"])]
            x = [a + b for a, b in zip(self.linear(hidden, sd[f"layer{i}.fc2"]), residual)]
        return self.linear(x, sd["lm_head"])

    def step(self, tokens, lr=1e-2, beta1=0.85, beta2=0.99, eps=1e-8) -> float:
        """One name: the mean cross-entropy of predicting each next token, backward, Adam."""
        n = min(BLOCK, len(tokens) - 1)
        keys, values = [[] for _ in range(N_LAYER)], [[] for _ in range(N_LAYER)]
        losses = []
        for pos in range(n):
            probs = self.softmax(self.forward(tokens[pos], pos, keys, values))
            losses.append(-probs[tokens[pos + 1]].log())
        loss = (1 / n) * sum(losses)
        loss.backward()
        self.t += 1
        for i, p in enumerate(self.params):
            self.m[i] = beta1 * self.m[i] + (1 - beta1) * p.grad
            self.v[i] = beta2 * self.v[i] + (1 - beta2) * p.grad**2
            m_hat = self.m[i] / (1 - beta1**self.t)
            v_hat = self.v[i] / (1 - beta2**self.t)
            p.data -= lr * m_hat / (v_hat**0.5 + eps)
            p.grad = 0
        return loss.data


def race(steps: int, rounds: int) -> dict:
    """Seconds per step of glassgrad's Value and of the baseline, the rounds interleaved; and the losses."""
    words = load_words()
    chars = sorted(set("".join(words)))
    stoi = {ch: i + 1 for i, ch in enumerate(chars)}
    docs = [[0] + [stoi[ch] for ch in w] + [0] for w in words]
    weights = make_weights(len(chars) + 1)
    ours, theirs = ScalarGPT(glassgrad.Value, weights), ScalarGPT(Value, weights)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 100_000))  # the baseline's sort recurses
    a = [ours.step(docs[i]) for i in range(3)]
    b = [theirs.step(docs[i]) for i in range(3)]
    gap = max(abs(x - y) / abs(y) for x, y in zip(a, b, strict=True))
    if gap > 1e-9:
        raise AssertionError(f"microgpt: the losses differ: glassgrad {a}, its own Value {b}")
    mine, other, position = [], [], 3
    for _ in range(rounds):
        for model, times in ((ours, mine), (theirs, other)):
            start = time.perf_counter()
            for i in range(steps):
                model.step(docs[(position + i) % len(docs)])
            times.append((time.perf_counter() - start) / steps)
        position += steps
    speedups = [o / m for m, o in zip(mine, other, strict=True)]
    return {
        "ours": statistics.median(mine),
        "theirs": statistics.median(other),
        "low": min(speedups),
        "high": max(speedups),
        "gap": gap,
    }


def row(result: dict) -> str:
    """The benchmark's line in the README's tables."""
    return (
        f"| microgpt's GPT on scalar Values, one name a step | float64 | "
        f"{result['ours'] * 1e3:.1f} ms | {result['theirs'] * 1e3:.1f} ms | "
        f"{result['theirs'] / result['ours']:.2f}x faster | {result['low']:.2f}-{result['high']:.2f}x | "
        f"{result['gap']:.0e} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", action="store_true", help="write the table into benchmarks/README.md")
    args = parser.parse_args()
    lines = [
        "| training step | dtype | glassgrad | its own Value | speed-up (median) | speed-up range | losses agree to |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        row(race(args.steps, args.rounds)),
    ]
    print("\n".join(lines))
    if args.write:
        write_section(
            "The scalar engine: microgpt's GPT",
            f"python benchmarks/microgpt_scalar.py --steps {args.steps} --rounds {args.rounds} --write",
            "A figure is the median wall-clock time of one step over the rounds, the two Values taking turns; "
            "the speed-up is the baseline's time over glassgrad's.",
            lines,
        )


if __name__ == "__main__":
    main()
