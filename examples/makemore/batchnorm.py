"""makemore, lecture 3: activations, gradients and BatchNorm.

First the MLP with Kaiming-scaled initial weights and a batch normalisation written by hand
(batch mean and standard deviation, a gain and a bias, running statistics kept under no_grad);
then the same ideas as layer classes (Linear, BatchNorm1d, Tanh), stacked deeper.
Run with glassgrad (default) or PyTorch: `MAKEMORE_BACKEND=torch python examples/makemore/batchnorm.py`.
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
block_size, n_embd, n_hidden = 3, 10, 200


def datasets():
    train, dev, test = splits(load_words())
    return [tuple(torch.tensor(t) for t in build_dataset(words, block_size)) for words in (train, dev, test)]


# Part 1: BatchNorm by hand.
def init_params(g):
    C = torch.randn((VOCAB_SIZE, n_embd), generator=g)
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * (5 / 3) / (n_embd * block_size) ** 0.5
    W2 = torch.randn((n_hidden, VOCAB_SIZE), generator=g) * 0.01
    b2 = torch.randn(VOCAB_SIZE, generator=g) * 0
    bngain = torch.ones((1, n_hidden))
    bnbias = torch.zeros((1, n_hidden))
    parameters = [C, W1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True
    running = {"mean": torch.zeros((1, n_hidden)), "std": torch.ones((1, n_hidden))}
    return parameters, running


def forward(parameters, running, X, Y, training=True):
    C, W1, W2, b2, bngain, bnbias = parameters
    emb = C[X]
    embcat = emb.view(emb.shape[0], -1)
    hpreact = embcat @ W1  # no bias: BatchNorm's bias replaces it
    if training:
        bnmeani = hpreact.mean(0, keepdim=True)
        bnstdi = hpreact.std(0, keepdim=True)
        with torch.no_grad():
            running["mean"] = 0.999 * running["mean"] + 0.001 * bnmeani
            running["std"] = 0.999 * running["std"] + 0.001 * bnstdi
    else:
        bnmeani, bnstdi = running["mean"], running["std"]
    hpreact = bngain * (hpreact - bnmeani) / bnstdi + bnbias
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    return F.cross_entropy(logits, Y)


def train(parameters, running, Xtr, Ytr, steps, g, batches=None):
    losses = []
    for i in range(steps):
        ix = batches[i] if batches is not None else torch.randint(0, Xtr.shape[0], (32,), generator=g)
        loss = forward(parameters, running, Xtr[ix], Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < steps * 3 // 4 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        losses.append(loss.item())
    return losses


# Part 2: the same as layers, PyTorch-like.
class Linear:
    def __init__(self, fan_in, fan_out, g, bias=True):
        self.weight = torch.randn((fan_in, fan_out), generator=g) / fan_in**0.5  # Kaiming, before the gain
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
            xmean = x.mean(0, keepdim=True)
            xvar = x.var(0, keepdim=True)
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


def init_layers(g, depth=4):
    C = torch.randn((VOCAB_SIZE, n_embd), generator=g)
    sizes = [n_embd * block_size] + [100] * depth
    layers = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        layers += [Linear(fan_in, fan_out, g, bias=False), BatchNorm1d(fan_out), Tanh()]
    layers += [Linear(sizes[-1], VOCAB_SIZE, g, bias=False), BatchNorm1d(VOCAB_SIZE)]
    with torch.no_grad():
        layers[-1].gamma *= 0.1  # a less confident last layer
        for layer in layers[:-1]:
            if isinstance(layer, Linear):
                layer.weight *= 5 / 3  # tanh's gain
    parameters = [C] + [p for layer in layers for p in layer.parameters()]
    for p in parameters:
        p.requires_grad = True
    return C, layers, parameters


def layers_forward(C, layers, X, Y):
    x = C[X].view(X.shape[0], -1)
    for layer in layers:
        x = layer(x)
    return F.cross_entropy(x, Y)


def train_layers(C, layers, parameters, Xtr, Ytr, steps, g, batches=None):
    losses = []
    for i in range(steps):
        ix = batches[i] if batches is not None else torch.randint(0, Xtr.shape[0], (32,), generator=g)
        loss = layers_forward(C, layers, Xtr[ix], Ytr[ix])
        for layer in layers:
            layer.out.retain_grad()  # to look at the activations' gradients, as the lecture does
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < steps * 3 // 4 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        losses.append(loss.item())
    return losses


def gradient_statistics(layers, parameters, lr):
    """The lecture's diagnostics after a backward pass: each tanh layer's gradient, each weight's
    gradient and grad:data ratio, and log10 of each parameter's update:data ratio."""
    stats = {"activations": [], "weights": []}
    with torch.no_grad():
        for i, layer in enumerate(layers[:-1]):
            if isinstance(layer, Tanh):
                t = layer.out.grad
                print(f"layer {i} ({layer.__class__.__name__:>10s}): mean {t.mean():+f}, std {t.std():e}")
                stats["activations"].append((t.mean().item(), t.std().item(), t.abs().max().item()))
        for p in parameters:
            t = p.grad
            if p.ndim == 2:
                ratio = t.std() / p.std()
                print(f"weight {str(tuple(p.shape)):>10s} | mean {t.mean():+f} | std {t.std():e} | "
                      f"grad:data ratio {ratio:e}")
                stats["weights"].append((t.mean().item(), t.std().item(), ratio.item()))
        stats["updates"] = [((lr * p.grad).std() / p.data.std()).log10().item() for p in parameters]
    return stats


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    (Xtr, Ytr), (Xdev, Ydev), _ = datasets()
    g = torch.Generator().manual_seed(2147483647)
    parameters, running = init_params(g)
    train(parameters, running, Xtr, Ytr, args.steps, g)
    with torch.no_grad():
        dev = forward(parameters, running, Xdev, Ydev, training=False)
    print(f"BatchNorm by hand: dev loss {dev.item():.4f}")
    C, layers, parameters = init_layers(g)
    train_layers(C, layers, parameters, Xtr, Ytr, args.steps, g)
    gradient_statistics(layers, parameters, lr=0.01)
    for layer in layers:
        layer.training = False
    with torch.no_grad():
        dev = layers_forward(C, layers, Xdev, Ydev)
    tanh_out = layers[2].out
    print(f"layers: dev loss {dev.item():.4f}; first tanh: mean {tanh_out.mean():+.2f}, std {tanh_out.std():.2f}, "
          f"saturated {(tanh_out.abs() > 0.97).double().mean() * 100:.1f}%")


if __name__ == "__main__":
    main()
