"""A small GPT-like language model on scalar Values, for the grouped view's tests: token and position
embeddings, RMS normalisation, one causal self-attention head, a ReLU MLP and a softmax loss over the
next character, every number one Value. `python gptish.py [width] [text]` trains it with SGD."""

import random
import sys

from glassgrad import Value

WIDTH = int(sys.argv[1]) if len(sys.argv) > 1 else 8
TEXT = sys.argv[2] if len(sys.argv) > 2 else "hello glass box"
VOCAB = sorted(set(TEXT))
rng = random.Random(0)


def weights(rows, cols):
    return [[Value(rng.gauss(0.0, 0.3)) for _ in range(cols)] for _ in range(rows)]


params = {
    "tokens": weights(len(VOCAB), WIDTH),
    "positions": weights(len(TEXT), WIDTH),
    "query": weights(WIDTH, WIDTH),
    "key": weights(WIDTH, WIDTH),
    "value": weights(WIDTH, WIDTH),
    "up": weights(2 * WIDTH, WIDTH),
    "down": weights(WIDTH, 2 * WIDTH),
    "out": weights(len(VOCAB), WIDTH),
}


def matvec(w, x):
    return [sum(wij * xj for wij, xj in zip(row, x)) for row in w]


def rmsnorm(x):
    mean_square = sum(xi * xi for xi in x) / len(x)
    return [xi * (mean_square + 1e-5) ** -0.5 for xi in x]


def softmax(scores):
    top = max(s.data for s in scores)
    exps = [(s - top).exp() for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def attend(x, past_keys, past_values):
    q = matvec(params["query"], x)
    past_keys.append(matvec(params["key"], x))
    past_values.append(matvec(params["value"], x))
    scores = [sum(qi * ki for qi, ki in zip(q, k)) / WIDTH**0.5 for k in past_keys]
    weights_ = softmax(scores)
    return [sum(w * v[j] for w, v in zip(weights_, past_values)) for j in range(WIDTH)]


def mlp(x):
    hidden = [h.relu() for h in matvec(params["up"], x)]
    return matvec(params["down"], hidden)


def gpt(token, position, past_keys, past_values):
    x = [t + p for t, p in zip(params["tokens"][token], params["positions"][position])]
    x = rmsnorm(x)
    x = [a + b for a, b in zip(x, attend(rmsnorm(x), past_keys, past_values))]
    x = [a + b for a, b in zip(x, mlp(rmsnorm(x)))]
    return matvec(params["out"], x)


def loss_of(text):
    ids = [VOCAB.index(c) for c in text]
    past_keys, past_values, losses = [], [], []
    for position, (token, target) in enumerate(zip(ids, ids[1:])):
        probs = softmax(gpt(token, position, past_keys, past_values))
        losses.append(-probs[target].log())
    return sum(losses) * (1 / len(losses))


everything = [p for matrix in params.values() for row in matrix for p in row]
for step in range(3):
    loss = loss_of(TEXT)
    for p in everything:
        p.grad = 0.0
    loss.backward()
    for p in everything:
        p.data -= 0.05 * p.grad
    print(f"step {step} loss {loss.data:.4f}")
