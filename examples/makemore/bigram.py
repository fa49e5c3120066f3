"""makemore, lecture 1: a bigram model, first by counting, then as a one-layer net trained by gradient descent.

Run with glassgrad (the default) or PyTorch: `MAKEMORE_BACKEND=torch python examples/makemore/bigram.py`.
The body below is the same for both; only the imports differ.
"""

import argparse
import os

if os.environ.get("MAKEMORE_BACKEND", "glassgrad") == "torch":
    import torch
    import torch.nn.functional as F
else:
    import glassgrad as torch
    import glassgrad.nn.functional as F

from names_data import VOCAB_SIZE, itos, load_words, splits, stoi

torch.set_default_dtype(torch.float64)


def bigrams(words):
    xs, ys = [], []
    for w in words:
        chs = ["."] + list(w) + ["."]
        for ch1, ch2 in zip(chs, chs[1:]):
            xs.append(stoi[ch1])
            ys.append(stoi[ch2])
    return torch.tensor(xs), torch.tensor(ys)


def count_model(xs, ys):
    """P[i, j]: how often character j follows i, smoothed by one fake count, as probabilities."""
    N = torch.zeros((VOCAB_SIZE, VOCAB_SIZE), dtype=torch.int64)
    for ix1, ix2 in zip(xs.tolist(), ys.tolist()):
        N[ix1, ix2] += 1
    P = (N + 1).double()
    P /= P.sum(1, keepdim=True)
    return P


def nll(P, xs, ys):
    """The average negative log-likelihood of the bigrams under P."""
    return -torch.log(P[xs, ys]).mean()


def train_net(W, xs, ys, steps, lr=50.0):
    """The same model as a net: one-hot inputs, logits = xenc @ W, softmax, NLL, plain gradient descent."""
    num = xs.nelement()
    xenc = F.one_hot(xs, num_classes=VOCAB_SIZE).double()
    losses = []
    for _ in range(steps):
        logits = xenc @ W
        counts = logits.exp()
        probs = counts / counts.sum(1, keepdim=True)
        loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W**2).mean()
        W.grad = None
        loss.backward()
        W.data += -lr * W.grad
        losses.append(loss.item())
    return losses


def sample(P, g, n=5):
    out = []
    for _ in range(n):
        ix, name = 0, []
        while True:
            ix = torch.multinomial(P[ix], num_samples=1, replacement=True, generator=g).item()
            if ix == 0:
                break
            name.append(itos[ix])
        out.append("".join(name))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=100, help="gradient descent steps of the net")
    args = parser.parse_args()
    train, dev, _ = splits(load_words())
    xs, ys = bigrams(train)
    dxs, dys = bigrams(dev)
    P = count_model(xs, ys)
    g = torch.Generator().manual_seed(2147483647)
    print("samples:", ", ".join(sample(P, g)))
    print(f"counts: train loss {nll(P, xs, ys).item():.4f}, dev loss {nll(P, dxs, dys).item():.4f}")
    W = torch.randn((VOCAB_SIZE, VOCAB_SIZE), generator=g, requires_grad=True)
    losses = train_net(W, xs, ys, args.steps)
    with torch.no_grad():
        dev_probs = (F.one_hot(dxs, num_classes=VOCAB_SIZE).double() @ W).softmax(1)
        dev_loss = -dev_probs[torch.arange(dxs.nelement()), dys].log().mean()
    print(f"net: train loss {losses[-1]:.4f}, dev loss {dev_loss.item():.4f}")


if __name__ == "__main__":
    main()
