"""makemore, lecture 4: becoming a backprop ninja. The MLP with BatchNorm, its forward pass cut
into small steps, and the backward pass written by hand for every tensor, each checked against
autograd; then the whole network trained with the hand-written gradients alone.
Run with glassgrad (default) or PyTorch: `MAKEMORE_BACKEND=torch python examples/makemore/backprop.py`.
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
block_size, n_embd, n_hidden = 3, 10, 64


def datasets():
    train, dev, test = splits(load_words())
    return [tuple(torch.tensor(t) for t in build_dataset(words, block_size)) for words in (train, dev, test)]


def init_params(g):
    # non-zero and slightly random everywhere, so that a wrong gradient cannot hide behind a zero
    C = torch.randn((VOCAB_SIZE, n_embd), generator=g)
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * (5 / 3) / (n_embd * block_size) ** 0.5
    b1 = torch.randn(n_hidden, generator=g) * 0.1  # useless because of BatchNorm, but its gradient is checked
    W2 = torch.randn((n_hidden, VOCAB_SIZE), generator=g) * 0.1
    b2 = torch.randn(VOCAB_SIZE, generator=g) * 0.1
    bngain = torch.randn((1, n_hidden), generator=g) * 0.1 + 1.0
    bnbias = torch.randn((1, n_hidden), generator=g) * 0.1
    parameters = [C, W1, b1, W2, b2, bngain, bnbias]
    for p in parameters:
        p.requires_grad = True
    return parameters


def forward(parameters, Xb, Yb):
    """The loss, computed in steps small enough to differentiate one at a time, and every step."""
    C, W1, b1, W2, b2, bngain, bnbias = parameters
    n = Xb.shape[0]
    emb = C[Xb]
    embcat = emb.view(emb.shape[0], -1)
    hprebn = embcat @ W1 + b1
    bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
    bndiff = hprebn - bnmeani
    bndiff2 = bndiff**2
    bnvar = 1 / (n - 1) * (bndiff2).sum(0, keepdim=True)  # Bessel's correction: n - 1
    bnvar_inv = (bnvar + 1e-5) ** -0.5
    bnraw = bndiff * bnvar_inv
    hpreact = bngain * bnraw + bnbias
    h = torch.tanh(hpreact)
    logits = h @ W2 + b2
    logit_maxes = logits.max(1, keepdim=True).values
    norm_logits = logits - logit_maxes  # for numerical stability
    counts = norm_logits.exp()
    counts_sum = counts.sum(1, keepdims=True)
    counts_sum_inv = counts_sum**-1
    probs = counts * counts_sum_inv
    logprobs = probs.log()
    loss = -logprobs[range(n), Yb].mean()
    steps = dict(
        logprobs=logprobs, probs=probs, counts_sum_inv=counts_sum_inv, counts_sum=counts_sum, counts=counts,
        norm_logits=norm_logits, logit_maxes=logit_maxes, logits=logits, h=h, hpreact=hpreact, bnraw=bnraw,
        bnvar_inv=bnvar_inv, bnvar=bnvar, bndiff2=bndiff2, bndiff=bndiff, bnmeani=bnmeani, hprebn=hprebn,
        embcat=embcat, emb=emb,
    )  # fmt: skip
    return loss, steps


def manual_backward(parameters, Xb, Yb, s):
    """d loss / d t for every step t and parameter, by hand: the chain rule one line at a time."""
    C, W1, b1, W2, b2, bngain, bnbias = parameters
    n = Xb.shape[0]
    d = {}
    d["logprobs"] = torch.zeros_like(s["logprobs"])
    d["logprobs"][range(n), Yb] = -1.0 / n
    d["probs"] = (1.0 / s["probs"]) * d["logprobs"]
    d["counts_sum_inv"] = (s["counts"] * d["probs"]).sum(1, keepdim=True)
    d["counts"] = s["counts_sum_inv"] * d["probs"]
    d["counts_sum"] = (-s["counts_sum"] ** -2) * d["counts_sum_inv"]
    d["counts"] += torch.ones_like(s["counts"]) * d["counts_sum"]
    d["norm_logits"] = s["counts"] * d["counts"]
    d["logits"] = d["norm_logits"].clone()
    d["logit_maxes"] = (-d["norm_logits"]).sum(1, keepdim=True)
    d["logits"] += F.one_hot(s["logits"].max(1).indices, num_classes=s["logits"].shape[1]) * d["logit_maxes"]
    d["h"] = d["logits"] @ W2.T
    d["W2"] = s["h"].T @ d["logits"]
    d["b2"] = d["logits"].sum(0)
    d["hpreact"] = (1.0 - s["h"] ** 2) * d["h"]
    d["bngain"] = (s["bnraw"] * d["hpreact"]).sum(0, keepdim=True)
    d["bnraw"] = bngain * d["hpreact"]
    d["bnbias"] = d["hpreact"].sum(0, keepdim=True)
    d["bndiff"] = s["bnvar_inv"] * d["bnraw"]
    d["bnvar_inv"] = (s["bndiff"] * d["bnraw"]).sum(0, keepdim=True)
    d["bnvar"] = (-0.5 * (s["bnvar"] + 1e-5) ** -1.5) * d["bnvar_inv"]
    d["bndiff2"] = (1.0 / (n - 1)) * torch.ones_like(s["bndiff2"]) * d["bnvar"]
    d["bndiff"] += (2 * s["bndiff"]) * d["bndiff2"]
    d["hprebn"] = d["bndiff"].clone()
    d["bnmeani"] = (-d["bndiff"]).sum(0, keepdim=True)
    d["hprebn"] += 1.0 / n * (torch.ones_like(s["hprebn"]) * d["bnmeani"])
    d["embcat"] = d["hprebn"] @ W1.T
    d["W1"] = s["embcat"].T @ d["hprebn"]
    d["b1"] = d["hprebn"].sum(0)
    d["emb"] = d["embcat"].view(s["emb"].shape)
    d["C"] = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            ix = Xb[k, j]
            d["C"][ix] += d["emb"][k, j]
    return d


def fused_backward(parameters, Xb, Yb, s):
    """The same gradients with cross-entropy and BatchNorm each differentiated as one formula."""
    C, W1, b1, W2, b2, bngain, bnbias = parameters
    n = Xb.shape[0]
    dlogits = F.softmax(s["logits"], 1)
    dlogits[range(n), Yb] -= 1
    dlogits /= n
    dh = dlogits @ W2.T
    dhpreact = (1.0 - s["h"] ** 2) * dh
    bnraw = s["bnraw"]
    dhprebn = (
        bngain * s["bnvar_inv"] / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
    )
    dembcat = dhprebn @ W1.T
    demb = dembcat.view(s["emb"].shape)
    dC = torch.zeros_like(C)
    for k in range(Xb.shape[0]):
        for j in range(Xb.shape[1]):
            dC[Xb[k, j]] += demb[k, j]
    return dict(
        logits=dlogits, hprebn=dhprebn, C=dC, W1=s["embcat"].T @ dhprebn, b1=dhprebn.sum(0), W2=s["h"].T @ dlogits,
        b2=dlogits.sum(0), bngain=(bnraw * dhpreact).sum(0, keepdim=True), bnbias=dhpreact.sum(0, keepdim=True),
    )  # fmt: skip


NAMES = ["C", "W1", "b1", "W2", "b2", "bngain", "bnbias"]


def autograd_gradients(parameters, Xb, Yb):
    """The forward pass, then loss.backward() with every step's gradient retained."""
    loss, steps = forward(parameters, Xb, Yb)
    for p in parameters:
        p.grad = None
    for t in steps.values():
        t.retain_grad()
    loss.backward()
    grads = {name: t.grad for name, t in steps.items()}
    grads.update({name: p.grad for name, p in zip(NAMES, parameters)})
    return loss, steps, grads


def cmp(name, dt, t_grad):
    exact = torch.all(dt == t_grad).item()
    approximate = torch.allclose(dt, t_grad)
    maxdiff = (dt - t_grad).abs().max().item()
    print(f"{name:15s} | exact: {str(exact):5s} | approximate: {str(approximate):5s} | maxdiff: {maxdiff}")


def train(parameters, Xtr, Ytr, steps, g, batches=None, batch_size=32):
    """Training with the fused hand-written gradients: no autograd at all."""
    losses = []
    with torch.no_grad():
        for i in range(steps):
            ix = batches[i] if batches is not None else torch.randint(0, Xtr.shape[0], (batch_size,), generator=g)
            loss, steps_ = forward(parameters, Xtr[ix], Ytr[ix])
            grads = fused_backward(parameters, Xtr[ix], Ytr[ix], steps_)
            lr = 0.1 if i < steps * 3 // 4 else 0.01
            for name, p in zip(NAMES, parameters):
                p += -lr * grads[name]  # in place, under no_grad (the lecture: p.data += ...)
            losses.append(loss.item())
    return losses


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000)
    args = parser.parse_args()
    (Xtr, Ytr), (Xdev, Ydev), _ = datasets()
    g = torch.Generator().manual_seed(2147483647)
    parameters = init_params(g)
    ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
    Xb, Yb = Xtr[ix], Ytr[ix]
    loss, steps, grads = autograd_gradients(parameters, Xb, Yb)
    manual = manual_backward(parameters, Xb, Yb, steps)
    for name, dt in manual.items():
        cmp(name, dt, grads[name])
    fused = fused_backward(parameters, Xb, Yb, steps)
    for name in ("logits", "hprebn"):
        cmp(f"{name} (fused)", fused[name], grads[name])
    train(parameters, Xtr, Ytr, args.steps, g)
    with torch.no_grad():
        dev_loss, _ = forward(parameters, Xdev, Ydev)
    print(f"trained with hand-written gradients: dev loss {dev_loss.item():.4f}")


if __name__ == "__main__":
    main()
