"""nn models against PyTorch: generated structures, their state dicts, slices and Embedding's padding row.

A model is a Sequential (sometimes of named children) of Linear, LayerNorm, BatchNorm1d, Tanh and
ReLU layers and nested Sequentials, after an optional Embedding (with or without `padding_idx`, given
as PyTorch's third argument), where a module may appear again later (shared). The same structure is
built with torch and glassgrad; the state dicts must have the same keys in the same order (a shared
module under each of its names) and shapes, torch's must load into glassgrad and glassgrad's into
torch, and then the forward pass, the parameters' names and their gradients must agree; the same for
a slice of the model.
"""

from __future__ import annotations

import random
from collections import OrderedDict

import numpy as np
import pytest
import torch

import glassgrad
import glassgrad.nn as gnn

WIDTH, VOCAB, BATCH = 3, 6, 4
SEEDS = range(12)
MODELS_PER_SEED = 6


def random_layers(rng: random.Random, depth: int = 0) -> list:
    """A list of layer specs: ("linear", bias), ("layernorm",), ("batchnorm",), ("tanh",), ("relu",),
    ("sequential", named, [specs]) or ("shared", k), the k-th module made so far."""
    specs: list = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.choice(("linear", "linear", "layernorm", "batchnorm", "tanh", "relu", "sequential", "shared"))
        if kind == "linear":
            specs.append(("linear", rng.random() < 0.7))
        elif kind == "sequential" and depth < 2:
            specs.append(("sequential", rng.random() < 0.5, random_layers(rng, depth + 1)))
        elif kind == "shared":
            specs.append(("shared", rng.randrange(8)))
        elif kind in ("layernorm", "batchnorm", "tanh", "relu"):
            specs.append((kind,))
    return specs


def build(spec: tuple, nn, made: list):
    """The module for `spec` with `nn` (torch.nn or glassgrad.nn); `made` lists the modules made so far."""
    kind = spec[0]
    if kind == "shared":
        return made[spec[1] % len(made)] if made else build(("tanh",), nn, made)
    if kind == "sequential":
        return sequential(spec[1], spec[2], nn, made)
    module = {
        "linear": lambda: nn.Linear(WIDTH, WIDTH, bias=spec[-1]), "layernorm": lambda: nn.LayerNorm(WIDTH),
        "batchnorm": lambda: nn.BatchNorm1d(WIDTH), "tanh": nn.Tanh, "relu": nn.ReLU,
    }[kind]()
    made.append(module)
    return module


def sequential(named: bool, specs: list, nn, made: list):
    modules = [build(s, nn, made) for s in specs]
    if named:
        return nn.Sequential(OrderedDict((f"{type(m).__name__.lower()}{k}", m) for k, m in enumerate(modules)))
    return nn.Sequential(*modules)


def model(program: tuple, nn):
    embedding, named, specs = program
    made: list = []
    layers = [build(s, nn, made) for s in specs]
    if embedding is not False:
        layers.insert(0, nn.Embedding(VOCAB, WIDTH, embedding))
    return nn.Sequential(*layers) if not named else nn.Sequential(
        OrderedDict((f"layer{k}", m) for k, m in enumerate(layers)))


def shapes(state: dict) -> list:
    return [(key, tuple(value.shape)) for key, value in state.items()]


def forward_and_gradients(m, lib, x_np, starts_with_embedding: bool):
    x = lib.tensor(x_np) if starts_with_embedding else lib.tensor(x_np, dtype=lib.float64)
    out = m(x)
    if out.requires_grad:  # a model of activations only has no parameters
        (out * lib.tensor(np.linspace(-1.0, 1.0, out.numel()).reshape(tuple(out.shape)))).sum().backward()
    grads = {name: (None if p.grad is None else p.grad.detach().numpy().copy()) for name, p in m.named_parameters()}
    return out.detach().numpy(), grads


def check_same_model(t_model, g_model, x_np, starts_with_embedding: bool, what: str) -> None:
    t_state, g_state = t_model.state_dict(), g_model.state_dict()
    assert shapes(g_state) == shapes(t_state), what
    g_model.load_state_dict(t_state)  # torch's state dict loads into glassgrad (and back, below)
    t_model.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in g_model.state_dict().items()})
    t_out, t_grads = forward_and_gradients(t_model, torch, x_np, starts_with_embedding)
    g_out, g_grads = forward_and_gradients(g_model, glassgrad, x_np, starts_with_embedding)
    np.testing.assert_allclose(g_out, t_out, rtol=1e-9, atol=1e-12, err_msg=what)
    assert list(g_grads) == list(t_grads), what
    for name in t_grads:
        # atol: a gradient that is 0 but for rounding (LayerNorm's weight after a BatchNorm) differs by ~1e-12
        np.testing.assert_allclose(g_grads[name], t_grads[name], rtol=1e-9, atol=1e-10, err_msg=f"{what}: {name}")


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_models_state_dicts_and_slices_as_torch(seed, float64):
    rng, data = random.Random(seed), np.random.default_rng(seed)
    for _ in range(MODELS_PER_SEED):
        program = (rng.choice((False, False, None, 0, 2, -1)), rng.random() < 0.3, random_layers(rng))
        what = f"model {program}"
        t_model, g_model = model(program, torch.nn), model(program, gnn)
        embedding = program[0] is not False
        x_np = data.integers(0, VOCAB, BATCH) if embedding else data.standard_normal((BATCH, WIDTH))
        check_same_model(t_model, g_model, x_np, embedding, what)
        start = rng.randrange(len(t_model))
        stop = rng.randint(start + 1, len(t_model))
        t_slice, g_slice = t_model[start:stop], g_model[start:stop]
        sliced_embedding = embedding and start == 0
        x_slice = x_np if sliced_embedding or not embedding else data.standard_normal((BATCH, WIDTH))
        check_same_model(t_slice, g_slice, x_slice, sliced_embedding, f"{what}[{start}:{stop}]")


@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1, -5, 5, -6, 2.0])
def test_embedding_padding_row_as_torch(padding_idx, float64):
    """Embedding(5, 3, padding_idx): the row starts at zero and gets no gradient, or both refuse."""
    made = []
    for nn in (torch.nn, gnn):
        try:
            made.append(nn.Embedding(5, 3, padding_idx))
        except (TypeError, ValueError, IndexError, AssertionError):  # torch asserts that padding_idx is in range
            made.append(None)
    t_emb, g_emb = made
    assert (t_emb is None) == (g_emb is None), padding_idx
    if t_emb is None:
        return
    row = None if padding_idx is None else padding_idx % 5
    assert g_emb.padding_idx == t_emb.padding_idx == row
    if row is not None:
        assert not g_emb.weight.data[row].any() and not t_emb.weight.detach()[row].any()
    rng = np.random.default_rng(abs(hash(padding_idx)) % 1000)
    g_emb.load_state_dict(t_emb.state_dict())
    for shape in ((7,), (2, 4), (3, 1, 2)):
        indices = rng.integers(0, 5, shape)
        w = rng.standard_normal((*shape, 3))
        t_emb.weight.grad = None
        g_emb.weight.grad = None
        (t_emb(torch.tensor(indices)) * torch.tensor(w)).sum().backward()
        (g_emb(glassgrad.tensor(indices)) * glassgrad.tensor(w)).sum().backward()
        np.testing.assert_allclose(g_emb.weight.grad.numpy(), t_emb.weight.grad.numpy(), rtol=1e-12)
    assert repr(g_emb) == repr(t_emb)
