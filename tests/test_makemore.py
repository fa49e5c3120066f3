"""The makemore lectures' examples run on glassgrad and on PyTorch from the same initial weights and
minibatches (float64): every loss, and every hand-written gradient of the backprop lecture, agree to 1e-9."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import glassgrad

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "makemore"
sys.path.insert(0, str(EXAMPLES))
from backends import load  # noqa: E402

sys.path.remove(str(EXAMPLES))
pytest.importorskip("names")


@pytest.fixture(autouse=True)
def float64_torch():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)




def pair(example: str):
    return load(example, "glassgrad"), load(example, "torch")


def same_leaves(params):
    """Torch leaves holding copies of glassgrad's initial parameters."""
    return [torch.tensor(np.array(p.data), requires_grad=True) for p in params]


def batches(n_rows: int, steps: int, size: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    ours = [rng.integers(0, n_rows, size) for _ in range(steps)]
    return [glassgrad.tensor(ix) for ix in ours], [torch.tensor(ix) for ix in ours]


def close(a, b, tol=1e-9):
    a = np.asarray(a.data if isinstance(a, glassgrad.Tensor) else a)
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else np.asarray(b)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def test_bigram_counts_and_net():
    ours, theirs = pair("bigram")
    words = ours.splits(ours.load_words())[0][:200]
    (xs, ys), (txs, tys) = ours.bigrams(words), theirs.bigrams(words)
    P, tP = ours.count_model(xs, ys), theirs.count_model(txs, tys)
    close(P, tP, 1e-15)
    close(ours.nll(P, xs, ys), theirs.nll(tP, txs, tys), 1e-12)
    W = glassgrad.randn((27, 27), generator=glassgrad.Generator().manual_seed(1), requires_grad=True)
    (tW,) = same_leaves([W])
    np.testing.assert_allclose(ours.train_net(W, xs, ys, 20), theirs.train_net(tW, txs, tys, 20), rtol=1e-9)
    close(W, tW)


def test_mlp_training_steps():
    ours, theirs = pair("mlp")
    (X, Y), _, _ = ours.datasets()
    (tX, tY), _, _ = theirs.datasets()
    params = ours.init_params(glassgrad.Generator().manual_seed(2))
    tparams = same_leaves(params)
    ix, tix = batches(X.shape[0], 30)
    losses = ours.train(params, X, Y, 30, None, batches=ix)
    np.testing.assert_allclose(losses, theirs.train(tparams, tX, tY, 30, None, batches=tix), rtol=1e-9)
    for p, tp in zip(params, tparams):
        close(p, tp)


@pytest.mark.slow
def test_batchnorm_by_hand_and_as_layers():
    ours, theirs = pair("batchnorm")
    (X, Y), (Xd, Yd), _ = ours.datasets()
    (tX, tY), (tXd, tYd), _ = theirs.datasets()
    ix, tix = batches(X.shape[0], 20)
    params, running = ours.init_params(glassgrad.Generator().manual_seed(3))
    tparams = same_leaves(params)
    trunning = {k: torch.tensor(np.array(v.data)) for k, v in running.items()}
    losses = ours.train(params, running, X, Y, 20, None, batches=ix)
    np.testing.assert_allclose(losses, theirs.train(tparams, trunning, tX, tY, 20, None, batches=tix), rtol=1e-9)
    for key in running:
        close(running[key], trunning[key])
    with glassgrad.no_grad(), torch.no_grad():
        dev = ours.forward(params, running, Xd[:500], Yd[:500], training=False)
        close(dev, theirs.forward(tparams, trunning, tXd[:500], tYd[:500], training=False))

    C, layers, params = ours.init_layers(glassgrad.Generator().manual_seed(4), depth=2)
    tC, tlayers, tparams = theirs.init_layers(torch.Generator().manual_seed(4), depth=2)
    with torch.no_grad():
        for p, tp in zip(params, tparams):
            tp.copy_(torch.from_numpy(np.array(p.data)))
    losses = ours.train_layers(C, layers, params, X, Y, 20, None, batches=ix)
    np.testing.assert_allclose(
        losses, theirs.train_layers(tC, tlayers, tparams, tX, tY, 20, None, batches=tix), rtol=1e-9
    )
    close(layers[1].running_var, tlayers[1].running_var)
    for layer, tlayer in zip(layers, tlayers):
        layer.training = tlayer.training = False
    with glassgrad.no_grad(), torch.no_grad():
        close(
            ours.layers_forward(C, layers, Xd[:500], Yd[:500]), theirs.layers_forward(tC, tlayers, tXd[:500], tYd[:500])
        )


@pytest.mark.slow
def test_wavenet_training_steps():
    ours, theirs = pair("wavenet")
    (X, Y), (Xd, Yd), _ = ours.datasets()
    (tX, tY), (tXd, tYd), _ = theirs.datasets()
    model, params = ours.make_model(glassgrad.Generator().manual_seed(5))
    tmodel, tparams = theirs.make_model(torch.Generator().manual_seed(5))
    with torch.no_grad():
        for p, tp in zip(params, tparams):
            tp.copy_(torch.from_numpy(np.array(p.data)))
    ix, tix = batches(X.shape[0], 8)
    losses = ours.train(model, params, X, Y, 8, None, batches=ix)
    np.testing.assert_allclose(losses, theirs.train(tmodel, tparams, tX, tY, 8, None, batches=tix), rtol=1e-9)
    for layer, tlayer in zip(model.layers, tmodel.layers):
        layer.training = tlayer.training = False
    with glassgrad.no_grad(), torch.no_grad():
        close(model(Xd[:300]), tmodel(tXd[:300]))


def test_backprop_by_hand_equals_autograd_and_torch():
    ours, theirs = pair("backprop")
    (X, Y), _, _ = ours.datasets()
    (tX, tY), _, _ = theirs.datasets()
    params = ours.init_params(glassgrad.Generator().manual_seed(6))
    tparams = same_leaves(params)
    ix, tix = batches(X.shape[0], 1)
    Xb, Yb, tXb, tYb = X[ix[0]], Y[ix[0]], tX[tix[0]], tY[tix[0]]
    loss, steps, grads = ours.autograd_gradients(params, Xb, Yb)
    tloss, tsteps, tgrads = theirs.autograd_gradients(tparams, tXb, tYb)
    close(loss, tloss)
    manual = ours.manual_backward(params, Xb, Yb, steps)
    tmanual = theirs.manual_backward(tparams, tXb, tYb, tsteps)
    assert set(manual) == set(grads) - {"loss"}
    for name, d in manual.items():
        close(d, grads[name])  # by hand = glassgrad's autograd
        close(d, tmanual[name])  # = torch's by hand
        close(d, tgrads[name])  # = torch's autograd
    fused, tfused = ours.fused_backward(params, Xb, Yb, steps), theirs.fused_backward(tparams, tXb, tYb, tsteps)
    for name, d in fused.items():
        close(d, grads[name])
        close(d, tfused[name])
    ix, tix = batches(X.shape[0], 15, seed=1)
    losses = ours.train(params, X, Y, 15, None, batches=ix)
    np.testing.assert_allclose(losses, theirs.train(tparams, tX, tY, 15, None, batches=tix), rtol=1e-9)
