"""makemore, lecture 5: a WaveNet-like hierarchy that fuses the context two characters at a time.

Layers written as in the lecture (Embedding, FlattenConsecutive, Linear, BatchNorm1d, Tanh,
Sequential), PyTorch-like: a BatchNorm1d over 3-D input (batch, groups, channels) averages over
the first two dimensions. Run with glassgrad (default) or PyTorch:
`MAKEMORE_BACKEND=torch python examples/makemore/wavenet.py`.
"""

import argparse
import os

if os.environ.get("MAKEMORE_BACKEND", "glassgrad") == "torch":
    import torch
    import torch.nn.functional as F
else:
    import glassgrad as torch
    import glassgrad.nn.functional as F

from names_data import VOCAB_SIZE, build_dataset, load_words, splits

torch.set_default_dtype(torch.float64)
block_size = 8  # characters of context
n_embd = 24  # dimensions of a character's embedding
n_hidden = 128  # neurons in each hidden layer


def datasets():
    train, dev, test = splits(load_words())
    return [tuple(torch.tensor(t) for t in build_dataset(words, block_size)) for words in (train, dev, test)]


class Linear:
    def __init__(self, fan_in, fan_out, g, bias=True):
        self.weight = torch.randn((fan_in, fan_out), generator=g) / fan_in**0.5
        self.bias = torch.zeros(fan_out) if bias else None

    def __call__(self, x):
        self.out = x @ self.weight
        if self.bias is not None:
            self.out += self.bias
        return self.out

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


class BatchNorm1d:
    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps, self.momentum, self.training = eps, momentum, True
        self.gamma, self.beta = torch.ones(dim), torch.zeros(dim)
        self.running_mean, self.running_var = torch.zeros(dim), torch.ones(dim)

    def __call__(self, x):
        if self.training:
            dim = 0 if x.ndim == 2 else (0, 1)
            xmean = x.mean(dim, keepdim=True)
            xvar = x.var(dim, keepdim=True)
        else:
            xmean, xvar = self.running_mean, self.running_var
        xhat = (x - xmean) / torch.sqrt(xvar + self.eps)
        self.out = self.gamma * xhat + self.beta
        if self.training:
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
        return self.out

    def parameters(self):
        return [self.gamma, self.beta]


class Tanh:
    def __call__(self, x):
        self.out = torch.tanh(x)
        return self.out

    def parameters(self):
        return []


class Embedding:
    def __init__(self, num_embeddings, embedding_dim, g):
        self.weight = torch.randn((num_embeddings, embedding_dim), generator=g)

    def __call__(self, IX):
        self.out = self.weight[IX]
        return self.out

    def parameters(self):
        return [self.weight]


class FlattenConsecutive:
    """(B, T, C) -> (B, T // n, C * n): n consecutive elements concatenated."""

    def __init__(self, n):
        self.n = n

    def __call__(self, x):
        B, T, C = x.shape
        x = x.view(B, T // self.n, C * self.n)
        if x.shape[1] == 1:
            x = x.squeeze(1)
        self.out = x
        return self.out

    def parameters(self):
        return []


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        self.out = x
        return self.out

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def make_model(g):
    model = Sequential([
        Embedding(VOCAB_SIZE, n_embd, g),
        FlattenConsecutive(2), Linear(n_embd * 2, n_hidden, g, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, g, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, g, bias=False), BatchNorm1d(n_hidden), Tanh(),
        Linear(n_hidden, VOCAB_SIZE, g),
    ])  # fmt: skip
    with torch.no_grad():
        model.layers[-1].weight *= 0.1  # a less confident last layer
    parameters = model.parameters()
    for p in parameters:
        p.requires_grad = True
    return model, parameters


def train(model, parameters, Xtr, Ytr, steps, g, batches=None, batch_size=32):
    losses = []
    for i in range(steps):
        ix = batches[i] if batches is not None else torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
        logits = model(Xtr[ix])
        loss = F.cross_entropy(logits, Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < steps * 3 // 4 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        losses.append(loss.item())
    return losses


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    (Xtr, Ytr), (Xdev, Ydev), _ = datasets()
    g = torch.Generator().manual_seed(2147483647)
    model, parameters = make_model(g)
    print("parameters:", sum(p.nelement() for p in parameters))
    train(model, parameters, Xtr, Ytr, args.steps, g)
    for layer in model.layers:
        layer.training = False
    with torch.no_grad():
        print(f"dev loss {F.cross_entropy(model(Xdev), Ydev).item():.4f}")


if __name__ == "__main__":
    main()
