"""The nn surface the series' programs use, against torch (float64): erf and GELU, Dropout, Identity,
ModuleList, ModuleDict, Module.apply, nn.init, nn.utils.clip_grad_norm_, F.layer_norm, F.embedding
and F.scaled_dot_product_attention: values, gradients (and second derivatives), reprs and errors.

Random draws (Dropout's masks, nn.init's numbers) are checked for their statistics, and, as glassgrad's
generator reproduces PyTorch's streams, for being PyTorch's very numbers from the same seed.
"""

from __future__ import annotations

import math

import numpy as np
import oracle
import pytest
import torch

import glassgrad
import glassgrad.nn as gnn
from glassgrad.nn import functional as GF
from glassgrad.nn import init as ginit

TF = torch.nn.functional


def check(f_ours, f_theirs, *arrays, second=True):
    """f on the same inputs in both libraries: equal values, first derivatives and (by create_graph)
    second derivatives, for a random upstream gradient (the tests' oracle)."""
    oracle.check(f_ours, *arrays, theirs=f_theirs, second=second)


SHAPES = [(7,), (3, 4), (2, 3, 5)]


def numbers(shape, seed, scale=2.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", range(3))
def test_erf_as_torch(shape, seed):
    check(lambda x: x.erf(), lambda x: x.erf(), numbers(shape, seed))
    check(glassgrad.erf, torch.erf, numbers(shape, seed + 10, 0.5))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", range(3))
def test_gelu_as_torch(approximate, shape, seed):
    x = numbers(shape, seed, 3.0)
    check(lambda t: GF.gelu(t, approximate=approximate), lambda t: TF.gelu(t, approximate=approximate), x)
    check(gnn.GELU(approximate), torch.nn.GELU(approximate), x, second=False)


def test_gelu_reprs_and_errors_as_torch():
    for approximate in ("none", "tanh"):
        assert repr(gnn.GELU(approximate)) == repr(torch.nn.GELU(approximate))
    assert repr(gnn.GELU()) == repr(torch.nn.GELU())
    with pytest.raises(RuntimeError) as theirs:
        TF.gelu(torch.ones(2), approximate="fast")
    with pytest.raises(RuntimeError) as ours:
        GF.gelu(glassgrad.ones(2), approximate="fast")
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_in_training_zeroes_a_fraction_p_and_scales_the_rest(p):
    glassgrad.manual_seed(0)
    x = glassgrad.tensor(np.random.default_rng(1).uniform(1, 2, (200, 100)), requires_grad=True)
    layer = gnn.Dropout(p)
    y = layer(x)
    kept = y.numpy() != 0
    assert abs(1 - kept.mean() - p) < 4 * math.sqrt(p * (1 - p) / kept.size)  # within 4 standard errors
    np.testing.assert_allclose(y.numpy()[kept], x.numpy()[kept] / (1 - p), rtol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), kept / (1 - p), rtol=1e-15)
    assert not np.array_equal(layer(x).numpy() != 0, kept)  # a new mask each call
    glassgrad.manual_seed(0)
    np.testing.assert_array_equal(layer(x).numpy(), y.numpy())  # the same from the same seed


def test_dropout_off_in_eval_and_for_p_zero_as_torch():
    for lib, nn, F in ((glassgrad, gnn, GF), (torch, torch.nn, TF)):
        x = lib.ones(4, 3)
        layer = nn.Dropout(0.3)
        assert layer.eval()(x) is x and nn.Dropout(0.0)(x) is x
        assert F.dropout(x, 0.3, training=False) is x and F.dropout(x, 0.0) is x
        assert F.dropout(x, 1.0).sum().item() == 0.0
        assert layer.train()(x).shape == x.shape
    assert repr(gnn.Dropout(0.25)) == repr(torch.nn.Dropout(0.25)) == "Dropout(p=0.25, inplace=False)"


@pytest.mark.parametrize("p", [-0.1, 1.5, 2])
def test_dropout_probability_errors_as_torch(p):
    for make in (lambda nn, F, t: nn.Dropout(p), lambda nn, F, t: F.dropout(t.ones(2), p)):
        with pytest.raises(ValueError) as theirs:
            make(torch.nn, TF, torch)
        with pytest.raises(ValueError) as ours:
            make(gnn, GF, glassgrad)
        assert str(ours.value) == str(theirs.value)


def test_identity_returns_its_input_and_takes_any_arguments():
    x = glassgrad.ones(2)
    assert gnn.Identity(54, unused="x")(x) is x and repr(gnn.Identity(3)) == repr(torch.nn.Identity(3))


def _same_reprs(nn):
    return [nn.ReLU(), nn.ReLU(), nn.Tanh(), nn.Identity(), nn.Identity(), nn.Identity(), nn.GELU()]


def test_module_list_behaves_as_torchs():
    results = []
    for nn in (gnn, torch.nn):
        ml = nn.ModuleList(_same_reprs(nn))
        ml.append(nn.Dropout(0.1))
        ml.extend([nn.Sigmoid()])
        ml.insert(1, nn.Tanh())
        ml[0] = nn.Sigmoid()
        del ml[2]
        ml += [nn.ReLU()]
        popped = ml.pop(3)
        results.append((repr(ml), len(ml), type(ml[-1]).__name__, type(ml[1:3]).__name__, len(ml[1:3]),
                        [type(m).__name__ for m in ml], [name for name, _ in ml.named_children()],
                        type(popped).__name__, len(ml + ml), repr(nn.ModuleList())))
    assert results[0] == results[1]


def test_module_list_errors_as_torchs():
    for index in (9, -9):
        with pytest.raises(IndexError) as theirs:
            torch.nn.ModuleList([torch.nn.ReLU()])[index]
        with pytest.raises(IndexError) as ours:
            gnn.ModuleList([gnn.ReLU()])[index]
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        gnn.ModuleList().append(3)
    with pytest.raises(TypeError, match="should be called with an iterable, but got int"):
        gnn.ModuleList().extend(3)


def _gpt_like(nn):
    blocks = nn.ModuleList([nn.ModuleDict(dict(ln=nn.LayerNorm(4), fc=nn.Linear(4, 8), act=nn.GELU()))
                            for _ in range(2)])
    return nn.ModuleDict(dict(wte=nn.Embedding(5, 4), h=blocks, ln_f=nn.LayerNorm(4)))


def test_containers_name_parameters_and_state_as_torch():
    ours, theirs = _gpt_like(gnn), _gpt_like(torch.nn)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert ours.wte is ours["wte"] and ours.h[1].fc is ours["h"][1]["fc"]
    ours.eval()
    assert not any(m.training for m in ours.modules())


def test_module_dict_behaves_as_torchs():
    results = []
    for nn in (gnn, torch.nn):
        d = nn.ModuleDict([("b", nn.ReLU()), ("a", nn.Tanh())])
        d.update({"c": nn.Identity()})
        d.update([("a", nn.GELU())])
        d["d"] = nn.Sigmoid()
        del d["b"]
        popped = d.pop("c")
        results.append((repr(d), list(d), list(d.keys()), [type(m).__name__ for m in d.values()],
                        [(k, type(m).__name__) for k, m in d.items()], "a" in d, "b" in d, len(d),
                        type(popped).__name__))
        d.clear()
        results.append(len(d))
    assert results[:2] == results[2:]


@pytest.mark.parametrize("key, error", [("a.b", KeyError), ("", KeyError), (3, TypeError), ("training", KeyError),
                                        ("forward", KeyError)])
def test_module_dict_key_errors_as_torchs(key, error):
    with pytest.raises(error):
        torch.nn.ModuleDict()[key] = torch.nn.ReLU()
    with pytest.raises(error):
        gnn.ModuleDict()[key] = gnn.ReLU()
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        gnn.ModuleDict()["x"] = 3
    with pytest.raises(KeyError):
        del gnn.ModuleDict()["missing"]


def test_apply_visits_modules_in_torchs_order_and_returns_self():
    orders = []
    for nn in (gnn, torch.nn):
        model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.Tanh(), nn.Linear(3, 1)), _gpt_like(nn))
        seen = []
        assert model.apply(lambda m, seen=seen: seen.append(type(m).__name__)) is model
        orders.append(seen)
    assert orders[0] == orders[1]


def test_apply_initialises_weights_as_nanogpt_does():
    model = gnn.Sequential(gnn.Embedding(50, 16), gnn.Linear(16, 64), gnn.Linear(64, 50, bias=False))

    def init(module):
        if isinstance(module, gnn.Linear):
            ginit.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                ginit.zeros_(module.bias)
        elif isinstance(module, gnn.Embedding):
            ginit.normal_(module.weight, mean=0.0, std=0.02)

    params = model.parameters()
    model.apply(init)
    assert model.parameters() == params and all(p.requires_grad and p.grad is None for p in params)
    weights = np.concatenate([model[0].weight.numpy().ravel(), model[1].weight.numpy().ravel()])
    assert abs(weights.mean()) < 0.002 and abs(weights.std() - 0.02) < 0.001
    assert (model[1].bias.numpy() == 0).all()


@pytest.mark.parametrize("nonlinearity, param", [("linear", None), ("sigmoid", None), ("tanh", None), ("relu", None),
                                                 ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0),
                                                 ("selu", None), ("conv2d", None)])
def test_calculate_gain_as_torch(nonlinearity, param):
    assert ginit.calculate_gain(nonlinearity, param) == torch.nn.init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("shape", [(3, 4), (6, 2, 3), (5, 1)])
def test_fans_as_torch(shape):
    ours = ginit._calculate_fan_in_and_fan_out(glassgrad.zeros(shape))
    assert ours == torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))


def _error_pair(ours_call, theirs_call):
    with pytest.raises(Exception) as ours:
        ours_call()
    with pytest.raises(Exception) as theirs:
        theirs_call()
    return (type(ours.value), str(ours.value)), (type(theirs.value), str(theirs.value))


@pytest.mark.parametrize(
    "call",
    [
        lambda i, t: i.calculate_gain("swish"),
        lambda i, t: i.calculate_gain("leaky_relu", "x"),
        lambda i, t: i.xavier_uniform_(t.zeros(3)),
        lambda i, t: i.kaiming_normal_(t.zeros(3, 2), mode="fan_middle"),
    ],
)
def test_init_errors_as_torch(call):
    ours, theirs = _error_pair(lambda: call(ginit, glassgrad), lambda: call(torch.nn.init, torch))
    assert ours == theirs


def _std_bound(i, name, shape):
    """(expected std, expected bound or None) of init function `name` on `shape`, from torch's formulas."""
    fan_in, fan_out = i._calculate_fan_in_and_fan_out(torch.zeros(shape))
    gain = math.sqrt(2.0)  # leaky_relu with a=0, the default
    return {
        "normal_": (0.5, None),
        "uniform_": (4 / math.sqrt(12), (-1.0, 3.0)),
        "xavier_uniform_": (math.sqrt(2.0 / (fan_in + fan_out)), math.sqrt(6.0 / (fan_in + fan_out))),
        "xavier_normal_": (math.sqrt(2.0 / (fan_in + fan_out)), None),
        "kaiming_uniform_": (gain / math.sqrt(fan_in), math.sqrt(3.0) * gain / math.sqrt(fan_in)),
        "kaiming_normal_": (gain / math.sqrt(fan_in), None),
    }[name]


CALLS = {
    "normal_": lambda i, w, g: i.normal_(w, mean=1.0, std=0.5, generator=g),
    "uniform_": lambda i, w, g: i.uniform_(w, -1.0, 3.0, generator=g),
    "xavier_uniform_": lambda i, w, g: i.xavier_uniform_(w, generator=g),
    "xavier_normal_": lambda i, w, g: i.xavier_normal_(w, generator=g),
    "kaiming_uniform_": lambda i, w, g: i.kaiming_uniform_(w, generator=g),
    "kaiming_normal_": lambda i, w, g: i.kaiming_normal_(w, generator=g),
}


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_random_init_has_torchs_distribution_in_place_and_is_reproducible(name, dtype):
    shape = (300, 200)
    w = gnn.Parameter(glassgrad.zeros(shape, dtype=dtype))
    array = w.numpy()
    assert CALLS[name](ginit, w, glassgrad.Generator().manual_seed(5)) is w
    assert w.numpy() is array and w.dtype == dtype and w.requires_grad
    std, bound = _std_bound(torch.nn.init, name, shape)
    mean = 1.0 if name == "normal_" else 1.0 if name == "uniform_" else 0.0
    values = w.numpy().astype(np.float64)
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(values.size)
    assert abs(values.std() - std) < 0.02 * std
    if bound is not None:
        low, high = bound if isinstance(bound, tuple) else (-bound, bound)
        assert values.min() >= low and values.max() <= high and values.max() > high - 0.01 * (high - low)
    again = gnn.Parameter(glassgrad.zeros(shape, dtype=dtype))
    CALLS[name](ginit, again, glassgrad.Generator().manual_seed(5))
    np.testing.assert_array_equal(again.numpy(), w.numpy())


def test_constant_inits_as_torch():
    for fill in (lambda i, w: i.zeros_(w), lambda i, w: i.ones_(w), lambda i, w: i.constant_(w, -2.5)):
        ours, theirs = gnn.Parameter(glassgrad.ones(3, 2)), torch.nn.Parameter(torch.ones(3, 2))
        assert fill(ginit, ours) is ours
        with torch.no_grad():
            fill(torch.nn.init, theirs)
        np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    assert ginit.kaiming_normal_(glassgrad.zeros(0, 3)).shape == (0, 3)  # nothing to initialise


def _with_grads(lib, grads):
    params = []
    for g in grads:
        p = lib.zeros(np.shape(g), dtype=lib.float64, requires_grad=True)
        if g is not None:
            p.grad = lib.tensor(np.asarray(g, dtype=np.float64))
        params.append(p)
    return params


GRADS = [[[3.0, 4.0], [[1.0, -2.0], [0.5, 0.25]]], [[1e-3, -2e-3, 5e-4]], [[0.0, 0.0]], [[7.0], [-1.0, 2.0, -3.0]]]


@pytest.mark.parametrize("grads", GRADS)
@pytest.mark.parametrize("max_norm", [1.0, 0.01, 100.0])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, "inf", math.inf])
def test_clip_grad_norm_as_torch(grads, max_norm, norm_type):
    ours, theirs = _with_grads(glassgrad, grads), _with_grads(torch, grads)
    ours.append(glassgrad.zeros(2, requires_grad=True))  # a parameter without a gradient is left out
    total = gnn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert total.shape == () and total.dtype == glassgrad.float64
    np.testing.assert_allclose(total.item(), expected.item(), rtol=1e-14)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-14)


def test_clip_grad_norm_of_one_tensor_of_none_and_of_non_finite():
    (p,) = _with_grads(glassgrad, [[6.0, 8.0]])
    assert gnn.utils.clip_grad_norm_(p, 5.0).item() == 10.0
    np.testing.assert_allclose(p.grad.numpy(), [3.0, 4.0], rtol=1e-6)
    assert gnn.utils.clip_grad_norm_([glassgrad.zeros(2, requires_grad=True)], 1.0).item() == 0.0
    assert torch.nn.utils.clip_grad_norm_([torch.zeros(2, requires_grad=True)], 1.0).item() == 0.0
    ours, theirs = _with_grads(glassgrad, [[math.inf, 1.0]]), _with_grads(torch, [[math.inf, 1.0]])
    errors = _error_pair(lambda: gnn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True),
                         lambda: torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True))
    assert errors[0] == errors[1]
    with pytest.raises(TypeError, match="expected Tensors"):
        gnn.utils.clip_grad_norm_([1.0], 1.0)


def test_clip_grad_value_as_torch():
    ours, theirs = _with_grads(glassgrad, GRADS[0]), _with_grads(torch, GRADS[0])
    gnn.utils.clip_grad_value_(ours, 0.6)
    torch.nn.utils.clip_grad_value_(theirs, 0.6)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


@pytest.mark.parametrize("shape, normalized", [((4, 5), (5,)), ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((6,), (6,))])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_as_torch(shape, normalized, affine):
    x = numbers(shape, 3) + 1.5
    w, b = numbers(normalized, 4), numbers(normalized, 5)
    if affine == "both":
        check(lambda x, w, b: GF.layer_norm(x, normalized, w, b, 1e-5),
              lambda x, w, b: TF.layer_norm(x, normalized, w, b, 1e-5), x, w, b)
    elif affine == "weight":
        check(lambda x, w: GF.layer_norm(x, normalized, w, eps=1e-3),
              lambda x, w: TF.layer_norm(x, normalized, w, eps=1e-3), x, w)
    else:
        check(lambda x: GF.layer_norm(x, normalized), lambda x: TF.layer_norm(x, normalized), x)


def test_layer_norm_errors():
    with pytest.raises(ValueError, match=r"layer_norm: expected input of shape \(\*, 3\), got \(2, 4\)"):
        GF.layer_norm(glassgrad.ones(2, 4), (3,))
    with pytest.raises(ValueError, match=r"layer_norm: weight has shape \(4,\), expected normalized_shape \(3,\)"):
        GF.layer_norm(glassgrad.ones(2, 3), 3, glassgrad.ones(4))


@pytest.mark.parametrize("indices", [[0, 2, 2, 4], [[1, 0], [3, 3]], 2])
def test_embedding_as_torch(indices):
    weight = numbers((5, 3), 6)
    check(lambda w: GF.embedding(glassgrad.tensor(indices), w), lambda w: TF.embedding(torch.tensor(indices), w),
          weight, second=False)
    ours_w = glassgrad.tensor(weight, requires_grad=True)
    with pytest.raises(IndexError, match="Embedding: index 5 is out of range for a table of 5 rows"):
        GF.embedding(glassgrad.tensor([5]), ours_w)
    with pytest.raises(TypeError, match="expected integer"):
        GF.embedding(glassgrad.tensor([0.0]), ours_w)


ATTENTION = [  # (query, key, value) shapes
    ((5, 4), (5, 4), (5, 3)),
    ((2, 4, 3), (2, 4, 3), (2, 4, 3)),
    ((2, 3, 6, 4), (2, 3, 6, 4), (2, 3, 6, 2)),
    ((1, 2, 3, 4), (1, 2, 5, 4), (1, 2, 5, 4)),
]


@pytest.mark.parametrize("shapes", ATTENTION)
@pytest.mark.parametrize("mode", ["plain", "causal", "bool mask", "float mask", "scale"])
def test_scaled_dot_product_attention_as_torch(shapes, mode):
    L, S = shapes[0][-2], shapes[1][-2]
    rng = np.random.default_rng(L * S)
    options = {
        "plain": {},
        "causal": {"is_causal": True},
        "bool mask": {"attn_mask": rng.random((L, S)) < 0.7},
        "float mask": {"attn_mask": rng.standard_normal((L, S))},
        "scale": {"scale": 0.3},
    }[mode]

    def call(F, lib):
        def f(q, k, v):
            kwargs = {k2: lib.tensor(m) if k2 == "attn_mask" else m for k2, m in options.items()}
            return F.scaled_dot_product_attention(q, k, v, **kwargs)

        return f

    q, k, v = (numbers(shape, i) for i, shape in enumerate(shapes))
    check(call(GF, glassgrad), call(TF, torch), q, k, v, second=False)


def test_attention_of_a_query_that_sees_no_key_is_zero_as_torchs():
    mask = np.array([[True, False, False], [False, False, False], [True, True, True]])
    q = numbers((1, 3, 4), 9)
    for float_mask in (False, True):
        m = np.where(mask, 0.0, -np.inf) if float_mask else mask
        check(lambda q, k, v, m=m: GF.scaled_dot_product_attention(q, k, v, attn_mask=glassgrad.tensor(m)),
              lambda q, k, v, m=m: TF.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(m)),
              q, q + 1, q * 2, second=False)


def test_attention_errors_and_dropout():
    x = glassgrad.ones(1, 3, 4)
    errors = _error_pair(
        lambda: GF.scaled_dot_product_attention(x, x, x, attn_mask=glassgrad.ones(3, 3).bool(), is_causal=True),
        lambda: TF.scaled_dot_product_attention(*(torch.ones(1, 3, 4),) * 3, attn_mask=torch.ones(3, 3).bool(),
                                                is_causal=True))
    assert errors[0] == errors[1]
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        GF.scaled_dot_product_attention(x, x, x, dropout_p=1.5)
    with pytest.raises(ValueError, match="a mask of shape"):
        GF.scaled_dot_product_attention(x, x, x, attn_mask=glassgrad.ones(2, 2).bool())
    glassgrad.manual_seed(0)
    q = glassgrad.tensor(numbers((2, 8, 16), 1))
    full = GF.scaled_dot_product_attention(q, q, q, is_causal=True)
    dropped = GF.scaled_dot_product_attention(q, q, q, is_causal=True, dropout_p=0.5)
    assert dropped.shape == full.shape and not np.allclose(dropped.numpy(), full.numpy())
    assert GF.scaled_dot_product_attention(q, q, q, dropout_p=0.0).tolist() == \
        GF.scaled_dot_product_attention(q, q, q).tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(5,), (40, 7), (3, 4, 16)])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_masks_are_torchs(dtype, shape, p):
    x = np.random.default_rng(3).uniform(1, 2, shape)
    for seed in (0, 1337):
        glassgrad.manual_seed(seed)
        torch.manual_seed(seed)
        ours = gnn.Dropout(p)(glassgrad.tensor(x, dtype=dtype))
        theirs = torch.nn.Dropout(p)(torch.tensor(x, dtype=getattr(torch, dtype)))
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        ours, theirs = GF.dropout(glassgrad.tensor(x, dtype=dtype), p), TF.dropout(torch.tensor(x).to(getattr(
            torch, dtype)), p)  # the stream carries on from the first mask
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_attention_dropout_is_torchs():
    q = numbers((2, 2, 5, 4), 8)
    glassgrad.manual_seed(4)
    torch.manual_seed(4)
    ours = GF.scaled_dot_product_attention(*(glassgrad.tensor(q),) * 3, dropout_p=0.3, is_causal=True)
    theirs = TF.scaled_dot_product_attention(*(torch.tensor(q),) * 3, dropout_p=0.3, is_causal=True)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(7, 3), (64, 33), (4, 3, 5)])
@pytest.mark.parametrize("with_generator", [False, True])
def test_random_init_gives_torchs_numbers(name, dtype, shape, with_generator):
    ours, theirs = glassgrad.zeros(shape, dtype=dtype), torch.zeros(shape, dtype=getattr(torch, dtype))
    glassgrad.manual_seed(11)
    torch.manual_seed(11)
    CALLS[name](ginit, ours, glassgrad.Generator().manual_seed(3) if with_generator else None)
    CALLS[name](torch.nn.init, theirs, torch.Generator().manual_seed(3) if with_generator else None)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_a_model_initialised_by_apply_gets_torchs_weights():
    def build(t, nn):
        t.manual_seed(1337)
        model = nn.Sequential(nn.Embedding(30, 16), nn.Linear(16, 64), nn.GELU(), nn.Linear(64, 30, bias=False))

        def init(module):
            if isinstance(module, (nn.Linear, nn.Embedding)):
                t.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                t.nn.init.zeros_(module.bias)

        return model.apply(init)

    ours, theirs = build(glassgrad, gnn), build(torch, torch.nn)
    for (name, p), q in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg=name)
