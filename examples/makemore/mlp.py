"""makemore, lecture 2: an MLP language model (Bengio et al. 2003) on characters.

Each of the `block_size` previous characters is looked up in an embedding table C, the
embeddings are concatenated (`.view(-1, 30)`), a tanh layer and a softmax layer follow, and
F.cross_entropy is the loss; minibatches of 32, and the learning rate decays by 10 at the end.
Run with glassgrad (default) or PyTorch: `MAKEMORE_BACKEND=torch python examples/makemore/mlp.py`.
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
block_size = 3  # characters of context
n_embd = 10  # dimensions of a character's embedding
n_hidden = 200  # neurons in the hidden layer


def datasets():
    train, dev, test = splits(load_words())
    return [tuple(torch.tensor(t) for t in build_dataset(words, block_size)) for words in (train, dev, test)]


def init_params(g):
    C = torch.randn((VOCAB_SIZE, n_embd), generator=g)
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * 0.2
    b1 = torch.randn(n_hidden, generator=g) * 0.01
    W2 = torch.randn((n_hidden, VOCAB_SIZE), generator=g) * 0.01
    b2 = torch.randn(VOCAB_SIZE, generator=g) * 0
    parameters = [C, W1, b1, W2, b2]
    for p in parameters:
        p.requires_grad = True
    return parameters


def forward(parameters, X, Y):
    C, W1, b1, W2, b2 = parameters
    emb = C[X]  # (batch, block_size, n_embd)
    h = torch.tanh(emb.view(-1, n_embd * block_size) @ W1 + b1)
    logits = h @ W2 + b2
    return F.cross_entropy(logits, Y)


def train(parameters, Xtr, Ytr, steps, g, batches=None):
    """Minibatch gradient descent; `batches` (index tensors) replaces the random draws when given."""
    losses = []
    for i in range(steps):
        ix = batches[i] if batches is not None else torch.randint(0, Xtr.shape[0], (32,), generator=g)
        loss = forward(parameters, Xtr[ix], Ytr[ix])
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
    parser.add_argument("--steps", type=int, default=6000)
    args = parser.parse_args()
    (Xtr, Ytr), (Xdev, Ydev), _ = datasets()
    g = torch.Generator().manual_seed(2147483647)
    parameters = init_params(g)
    print("parameters:", sum(p.nelement() for p in parameters))
    train(parameters, Xtr, Ytr, args.steps, g)
    with torch.no_grad():
        train_loss, dev_loss = forward(parameters, Xtr, Ytr), forward(parameters, Xdev, Ydev)
    print(f"train loss {train_loss.item():.4f}, dev loss {dev_loss.item():.4f}")


if __name__ == "__main__":
    main()
