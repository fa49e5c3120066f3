"""In-place changes through views, and of a tensor by itself, against PyTorch (float64): generated programs.

A program makes a base from leaves (a recorded result such as `x * 2` or `x.exp()`, a constant, or
sometimes a leaf itself), takes views of it and of its views (slices, integer rows, `view`/`reshape`,
`flatten`, `.T`, `transpose`, `unsqueeze`, `None`, `...`, `expand`), changes some of them in place (`+=`, `-=`,
`*=`, `/=`, `t[i] = v`, `fill_`, `zero_`, sometimes under `no_grad`) with numbers, leaves, other views
of the same base or the changed tensor itself as operands, and uses the base and the views before and
after (sums, products, `exp`). glassgrad must give torch's values for every use and every tensor at
the end, and torch's gradient for every leaf, or refuse where torch refuses (at the same step, or at
the backward pass).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

import glassgrad

SEEDS = range(16)
PROGRAMS_PER_SEED = 25
BASE_SHAPES = [(2, 3), (4,), (2, 2, 3), (3, 2)]
MAKERS = {
    "x*2": lambda x: x * 2.0, "exp": lambda x: x.exp(), "x*x": lambda x: x * x, "tanh": lambda x: x.tanh(),
    "clone": lambda x: x.clone(), "leaf": lambda x: x,
}
INPLACE = ("+=", "-=", "*=", "/=", "setitem", "fill_", "zero_")
USES = {
    "sum": lambda t, w: t.sum(), "exp": lambda t, w: t.exp().sum(), "sq": lambda t, w: (t * t).sum(),
    "w": lambda t, w: (t * w).sum(),
}


def view_step(t, step):
    kind, *args = step
    if kind == "slice":
        dim, start, stop = args
        return t[(slice(None),) * dim + (slice(start, stop),)]
    if kind == "int":
        dim, i = args
        return t[(slice(None),) * dim + (i,)]
    if kind == "view":
        return t.view(*args[0])
    if kind == "reshape":
        return t.reshape(*args[0])
    if kind == "flatten":
        return t.flatten()
    if kind == "T":
        return t.T
    if kind == "transpose":
        return t.transpose(*args)
    if kind == "unsqueeze":
        return t.unsqueeze(args[0])
    if kind == "none":
        return t[None]
    if kind == "expand":  # several elements one number: torch refuses most changes of them
        return t.expand(*args[0])
    return t[...]


def random_view_step(rng: random.Random, shadow: torch.Tensor):
    """A view step valid for `shadow` (a view of zeros, as the program's tensor is of its base), or None."""
    shape = tuple(shadow.shape)
    n = len(shape)
    options = ["unsqueeze", "none", "ellipsis", "flatten", "view", "expand"]
    if n:
        options += ["slice", "slice", "int", "int", "reshape"]
    if n == 2:
        options += ["T", "T"]
    if n >= 2:
        options += ["transpose"]
    kind = rng.choice(options)
    if kind == "slice":
        dim = rng.randrange(n)
        start = rng.randrange(shape[dim])
        step = ("slice", dim, start, rng.randint(start + 1, shape[dim]))
    elif kind == "int":
        dim = rng.randrange(n)
        step = ("int", dim, rng.randrange(-shape[dim], shape[dim]))
    elif kind in ("view", "reshape"):
        size = int(np.prod(shape))
        step = (kind, rng.choice(((-1,), (1, size), (size, 1), (-1, 1))))
    elif kind == "transpose":
        step = ("transpose", *rng.sample(range(n), 2))
    elif kind == "expand":  # a new leading axis, or a length-1 axis stretched, or nothing repeated (-1s)
        ones = [i for i, m in enumerate(shape) if m == 1]
        how = rng.choice(("lead", "stretch" if ones else "lead", "same" if shape else "lead"))
        sizes = (rng.choice((1, 2)), *shape) if how == "lead" else tuple(
            3 if how == "stretch" and i == ones[0] else rng.choice((m, -1)) for i, m in enumerate(shape))
        step = ("expand", sizes)
    elif kind == "unsqueeze":
        step = ("unsqueeze", rng.randint(-n - 1, n))
    else:
        step = (kind,)
    try:
        view_step(shadow, step)
    except RuntimeError:  # view of a non-contiguous tensor: torch refuses, glassgrad reshapes
        return None
    return step


def random_program(rng: random.Random) -> list:
    """Steps as plain data, so that one program runs on both libraries; shapes tracked with views of zeros."""
    base_shape = rng.choice(BASE_SHAPES)
    maker = rng.choices(list(MAKERS) + ["const"], weights=[3, 3, 2, 1, 1, 0.5, 1.5])[0]
    program = [("leaf", "x", base_shape), ("base", "y", maker, base_shape)]
    shadows = {"y": torch.zeros(base_shape)}
    shapes = {"y": base_shape}
    leaves = 0

    def new_leaf(shape):
        nonlocal leaves
        leaves += 1
        program.append(("leaf", f"w{leaves}", shape))
        return f"w{leaves}"

    def operand(shape, target_shape):
        same = [n for n, s in shapes.items() if s == shape]
        kind = rng.choice(("number", "leaf", "leaf", "row", "alias", "self"))
        if kind == "number":
            return ("number", rng.choice((2.0, -0.5, 3.0)))
        if kind == "leaf" or (kind == "row" and not shape):
            return ("name", new_leaf(shape))
        if kind == "row":
            return ("name", new_leaf(shape[-1:]))
        if kind == "alias" and same:
            return ("name", rng.choice(same))
        if shape == target_shape:
            return ("self",)
        return ("name", new_leaf(shape))

    for _ in range(rng.randint(2, 5)):
        action = rng.choice(("view", "view", "inplace", "inplace", "use"))
        if action == "view":
            source = rng.choice(list(shapes))
            chain, shadow = [], shadows[source]
            for _ in range(rng.randint(1, 3)):
                step = random_view_step(rng, shadow)
                if step is not None:
                    chain.append(step)
                    shadow = view_step(shadow, step)
            name = f"v{len(shapes)}"
            program.append(("view", name, source, tuple(chain)))
            shapes[name], shadows[name] = tuple(shadow.shape), shadow
        elif action == "inplace":
            target = rng.choice(list(shapes))
            shape = shapes[target]
            op = rng.choice(INPLACE)
            grad_mode = rng.random() > 0.1
            if op == "setitem":
                if not shape:
                    index: tuple = (Ellipsis,)
                else:
                    index = (rng.choice((rng.randrange(shape[0]), slice(0, rng.randint(1, shape[0])))),)
                written = tuple(torch.zeros(shape)[index].shape)
                program.append(("inplace", target, op, operand(written, shape), index, grad_mode))
            elif op in ("fill_", "zero_"):
                program.append(("inplace", target, op, ("number", rng.choice((1.5, -2.0))), None, grad_mode))
            else:
                program.append(("inplace", target, op, operand(shape, shape), None, grad_mode))
        else:
            name = rng.choice(list(shapes))
            use = rng.choice(list(USES))
            program.append(("use", name, use, new_leaf(shapes[name]) if use == "w" else None))
    for name, shape in shapes.items():
        program.append(("use", name, "w", new_leaf(shape)))
    return program


def execute(program: list, lib, values: dict) -> tuple[str, int | None, dict]:
    """Run `program` with torch or glassgrad: ("ok" | "forward refused" | "backward refused", step, results)."""
    env: dict = {}
    uses: list = []
    for k, step in enumerate(program):
        kind = step[0]
        try:
            if kind == "leaf":
                env[step[1]] = lib.tensor(values[step[1]], requires_grad=True)
            elif kind == "base":
                _, name, maker, shape = step
                env[name] = lib.tensor(values[name]) if maker == "const" else MAKERS[maker](env["x"])
            elif kind == "view":
                _, name, source, chain = step
                t = env[source]
                for view in chain:
                    t = view_step(t, view)
                env[name] = t
            elif kind == "use":
                _, name, use, w = step
                uses.append(USES[use](env[name], env.get(w)))
            else:
                change(env, step, lib)
        except RuntimeError:
            return "forward refused", k, {}
    results = {f"use {k}": u for k, u in enumerate(uses)}
    results.update({name: t for name, t in env.items() if not name.startswith(("x", "w"))})
    loss = sum(uses[1:], uses[0])
    try:
        loss.backward()
    except RuntimeError:
        return "backward refused", None, results
    results.update({f"{name}.grad": env[name].grad for name in env if name.startswith(("x", "w"))})
    return "ok", None, results


def change(env: dict, step: tuple, lib) -> None:
    _, target, op, operand, index, grad_mode = step
    t = env[target]
    if lib is torch:  # brings a view's history up to date, as torch does before any other use: without it torch
        _ = t.grad_fn  # takes a view of a tensor that came to require grad later for a leaf, and refuses to change it
    other = operand[1] if operand[0] == "number" else t if operand[0] == "self" else env[operand[1]]
    with lib.enable_grad() if grad_mode else lib.no_grad():
        if op == "+=":
            t += other
        elif op == "-=":
            t -= other
        elif op == "*=":
            t *= other
        elif op == "/=":
            t /= other
        elif op == "setitem":
            t[index] = other
        elif op == "fill_":
            t.fill_(other)
        else:
            t.zero_()


def leaf_values(program: list, data: np.random.Generator) -> dict:
    values = {}
    for step in program:
        if step[0] in ("leaf", "base"):
            values[step[1]] = data.uniform(0.5, 2.0, step[-1])
    return values


def same(got, expected, what: str) -> None:
    if expected is None or got is None:
        assert got is None and expected is None, f"{what}: glassgrad {got!r}, torch {expected!r}"
        return
    g, e = np.asarray(got.detach().numpy()), expected.detach().numpy()
    assert g.shape == e.shape, f"{what}: shape {g.shape}, torch {e.shape}"
    np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12, equal_nan=True, err_msg=what)


def show(program: list) -> str:
    return "\n".join(map(str, program))


@pytest.mark.parametrize("seed", SEEDS)
def test_programs_of_views_and_inplace_changes_as_torch(seed):
    rng, data = random.Random(seed), np.random.default_rng(seed)
    outcomes = {"ok": 0, "forward refused": 0, "backward refused": 0}
    for _ in range(PROGRAMS_PER_SEED):
        program = random_program(rng)
        values = leaf_values(program, data)
        t_outcome, t_step, expected = execute(program, torch, values)
        g_outcome, g_step, got = execute(program, glassgrad, values)
        assert (g_outcome, g_step) == (t_outcome, t_step), (
            f"torch: {t_outcome} {t_step}, glassgrad: {g_outcome} {g_step}\n{show(program)}"
        )
        for key, value in expected.items():
            same(got[key], value, f"{key}\n{show(program)}")
        outcomes[t_outcome] += 1
    assert outcomes["ok"] >= PROGRAMS_PER_SEED // 3, outcomes


def run_both(f):
    """f(lib) with torch and with glassgrad: the results as lists, or the exception type."""
    out = []
    for lib in (torch, glassgrad):
        try:
            out.append([r.tolist() for r in f(lib)])
        except RuntimeError:
            out.append(RuntimeError)
    return out


@pytest.mark.parametrize("case", [
    "v = y[0:1]; v *= 3", "y.view(-1)[0] = 5.0", "y.T[1] += w[0]", "v = y.flatten(); v *= 3", "v = y[1]; v -= w[1]",
    "y += y", "y *= y", "y -= y", "y /= y", "v = y[0]; v += v", "y[0] += y[1]", "y += y.T", "y += y[0]",
    "v = y.view(4); y += v", "y[0:1] = y[1:2]", "y[[0]] = y[0:1]",
])
def test_the_reported_cases_as_torch(case):
    def run(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        w = lib.tensor([[0.5, -1.0], [2.0, 1.5]], requires_grad=True)
        y = x * 2.0
        exec(case, {}, {"y": y, "w": w})
        (y * y).sum().backward()
        return y, x.grad, w.grad if w.grad is not None else lib.zeros(2, 2)

    t, g = run_both(run)
    assert g == t, case


@pytest.mark.parametrize("view", ["y[0]", "y.view(-1)", "y[...]", "y.T", "y[1:]"])
@pytest.mark.parametrize("use", ["v * w", "w / v", "v @ m", "linear"])
def test_a_view_of_a_constant_whose_base_gains_a_history_as_torch(view, use):
    """The base is changed with a leaf after the view was taken: the view's history is its base's
    present one, also for the operations that compute only the shares needed (`*`, `/`, `@`, linear)."""
    def run(lib):
        y = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float64)
        v = eval(view, {}, {"y": y})
        leaf = lib.tensor([0.5, -1.5], dtype=lib.float64, requires_grad=True)
        y[1] = leaf
        w = lib.tensor(np.full(tuple(v.shape), 1.5))
        m = lib.tensor(np.arange(3.0 * v.shape[-1]).reshape(-1, 3))
        env = {"v": v, "w": w, "m": m}
        out = lib.nn.functional.linear(v, m.T) if use == "linear" else eval(use, {}, env)
        out.sum().backward()
        return (leaf.grad,)

    t, g = run_both(run)
    assert g == t
