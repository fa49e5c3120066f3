"""A graph too big to read node by node, grouped by the code that built it: the grouped view.

Each node is placed by where the user's code made it (`record_origins`): the functions it was made
in, outermost first, then the line, e.g. `gpt → rmsnorm → line 60`. Nodes made outside the recording
(a model's parameters made earlier) are grouped by their labels' parts (`L1.N2.w3` in `L1 → N2`), and
an unlabelled node joins the group of the node that uses it. The page shows one level of the tree
at a time as a graph of boxes, folded: each box a group with its node count, mean data and largest
|grad|; a click opens it, down to single nodes.

`watch_step(loss_fn)` records one step of any scalar program and returns its page;
`watch_script(path)` runs a Python program up to its first `backward()` (`glassgrad watch script.py`).
"""

from __future__ import annotations

import inspect
import linecache
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from glassgrad.autograd import record_origins, topological_order
from glassgrad.autograd.origins import Origin, Records, origin_of
from glassgrad.engine import Value
from glassgrad.viz.backprop_page import Page, fill_template, node_names
from glassgrad.viz.visualize import check_root

BEFORE = "made before recording"  # the group of nodes with no recorded origin (parameters made earlier)


def _number(x: float) -> float | str:
    """`x` to 4 significant digits, as JSON: a string for inf and nan, which JSON has no numbers for."""
    return float(f"{x:.4g}") if math.isfinite(x) else repr(x).replace("inf", "Infinity").replace("nan", "NaN")


def _frames(origin: Origin | None) -> list[tuple[str, int, str]]:
    """The frames of an origin that name groups: comprehensions and generator expressions are part
    of the line that runs them."""
    if not origin:
        return []
    return [f for f in origin if not (f[2].rsplit(".", 1)[-1].startswith("<") and f[2] != "<module>")]


def _function(qualname: str) -> str:
    return qualname.replace(".<locals>", "")


class _Tree:
    """The groups: each a key under its parent, made on first use."""

    def __init__(self) -> None:
        self.parent: list[int] = [-1]
        self.kind: list[str] = ["root"]
        self.name: list[str] = [""]
        self.where: list[str] = [""]
        self.source: list[str] = [""]
        self.index: dict[tuple, int] = {}

    def child(self, parent: int, key: tuple, kind: str, name: str, where: str = "", source: str = "") -> int:
        found = self.index.get((parent, key))
        if found is None:
            found = self.index[(parent, key)] = len(self.parent)
            self.parent.append(parent)
            self.kind.append(kind)
            self.name.append(name)
            self.where.append(where)
            self.source.append(source)
        return found


def _line_text(filename: str, line: int) -> str:
    return linecache.getline(filename, line).strip()


def group_nodes(order: list[Value], records: Records | None) -> tuple[_Tree, list[int]]:
    """The group tree of `order` (a forward order) and each node's innermost group."""
    tree = _Tree()
    of_origin: dict[Origin | None, int] = {}
    base: list[int] = []
    for v in order:
        origin = origin_of(records, v)
        if origin not in of_origin:  # with no records at all, the labels' groups are the top level
            of_origin[origin] = 0 if records is None else _origin_group(tree, origin)
        base.append(of_origin[origin])
    # labels' parts below that: `ex2.L0.N1.o` in ex2 → L0 → N1; an unlabelled node where its first user is
    parts: list[tuple[str, ...] | None] = [None] * len(order)
    index = {v: i for i, v in enumerate(order)}
    for i in range(len(order) - 1, -1, -1):
        v = order[i]
        if v.label:
            parts[i] = tuple(v.label.split(".")[:-1])
        elif parts[i] is None:
            parts[i] = ()
        for x in v._prev:
            k = index[x]
            if parts[k] is None and not x.label and base[k] == base[i]:
                parts[k] = parts[i]
    group = []
    for i in range(len(order)):
        g = base[i]
        for depth, part in enumerate(parts[i] or ()):
            g = tree.child(g, ("label", depth, part), "label", part)
        group.append(g)
    return tree, group


def _origin_group(tree: _Tree, origin: Origin | None) -> int:
    frames = _frames(origin)
    if not frames:
        return tree.child(0, ("before",), "before", BEFORE) if origin is None else 0
    g, called_at = 0, None
    for filename, line, function in frames:
        where = f"{os.path.basename(filename)}:{called_at}" if called_at else os.path.basename(filename)
        source = _line_text(filename, called_at) if called_at else ""
        g = tree.child(g, ("call", filename, function, called_at), "call", _function(function), where, source)
        called_at, last_file = line, filename
    return tree.child(g, ("line", called_at), "line", f"line {called_at}", f"{os.path.basename(last_file)}:{called_at}",
                      _line_text(last_file, called_at))


def _fold_single_calls(tree: _Tree, group: list[int]) -> int:
    """The group to open on: past a chain of call groups that hold everything (the recording's own frame)."""
    children: dict[int, list[int]] = {}
    for g, p in enumerate(tree.parent):
        if p >= 0:
            children.setdefault(p, []).append(g)
    top = 0
    direct = set(group)
    while top not in direct and len(children.get(top, [])) == 1 and tree.kind[children[top][0]] == "call":
        top = children[top][0]
    return top


def page_data(root: Value, records: Records | None) -> dict:
    """The grouped view's data: the group tree with each group's summary, and every node, compactly."""
    order = topological_order(root)
    tree, group = group_nodes(order, records)
    n_groups = len(tree.parent)
    count = [0] * n_groups
    total = [0.0] * n_groups
    biggest = [0.0] * n_groups
    first = [len(order)] * n_groups
    for i, v in enumerate(order):  # each node into its own group, then each group into its parent
        g, grad = group[i], abs(_float(v.grad))
        count[g] += 1
        total[g] += v.data
        if not grad <= biggest[g]:  # nan is the largest, so a NaN gradient shows
            biggest[g] = grad
        if i < first[g]:
            first[g] = i
    for g in range(n_groups - 1, 0, -1):  # a group is made after its parent: children come later
        p = tree.parent[g]
        count[p] += count[g]
        total[p] += total[g]
        if not biggest[g] <= biggest[p]:
            biggest[p] = biggest[g]
        first[p] = min(first[p], first[g])
    index = {v: i for i, v in enumerate(order)}
    ops = sorted({v._op for v in order})
    op_index = {op: k for k, op in enumerate(ops)}
    return {
        "top": _fold_single_calls(tree, group),
        "groups": [
            [tree.parent[g], tree.kind[g], tree.name[g], tree.where[g], tree.source[g], count[g],
             _number(total[g] / count[g]) if count[g] else 0, _number(biggest[g]), first[g]]
            for g in range(n_groups)
        ],
        "ops": ops,
        "group": group,
        "op": [op_index[v._op] for v in order],
        "data": [_number(v.data) for v in order],
        "grad": [_number(_float(v.grad)) for v in order],
        "arity": [len(v._prev) for v in order],  # node i's inputs are the next arity[i] of `back`,
        "back": [i - index[x] for i, v in enumerate(order) for x in v._prev],  # each as how far back it is
        "names": _names(order, tree, group),
    }


def _names(order: list[Value], tree: _Tree, group: list[int]) -> list[str]:
    """Each node's name as the stepper gives it (its label, a constant's value, a result's formula), but a
    formula too long to read whole (shortened with `…`) becomes its operation and the line that made it,
    `exp at gptish.py:43`: beside its siblings in that line's group, its numbers tell it apart."""
    names = []
    for i, (v, name) in enumerate(zip(order, node_names(order, numbered=False), strict=True)):
        g = group[i]
        while g and tree.kind[g] != "line":
            g = tree.parent[g]
        long = "…" in name.text and not v.label
        names.append(f"{v._op} at {tree.where[g]}" if long and g else name.text)
    return names


def _float(x: Any) -> float:
    return x.data if isinstance(x, Value) else float(x)


class GroupedPage(Page):
    """The grouped view of one graph: `.save(path)`, or shown inline in Jupyter."""

    frame_height = 760

    def __init__(self, root: Value, records: Records | None = None, title: str = "") -> None:
        check_root(root, "grouped view")
        self.data = page_data(root, records)
        nodes = len(self.data["group"])
        self.title = title or f"glassgrad grouped view: {nodes:,} Values"
        self.html = fill_template("grouped_page.html", {"TITLE": self.title, "DATA": self.data})


def grouped_view(root: Value, records: Records | None = None, title: str = "") -> GroupedPage:
    """The page of `root`'s graph grouped by the code that made its nodes (as `records` noted, from
    `with record_origins() as records:`), or by their labels when there are no records."""
    return GroupedPage(root, records, title)


def watch_step(loss_fn: Callable[[], Value], title: str = "") -> GroupedPage:
    """Call `loss_fn()` (one step's forward pass, returning the loss as a Value) noting where each node
    is made, run `backward()` on the loss, and return the grouped view of that step."""
    with record_origins() as records:
        loss = loss_fn()
    check_root(loss, "watch")
    loss.backward()
    return GroupedPage(loss, records, title or f"glassgrad: one step of {getattr(loss_fn, '__name__', 'loss_fn')}")


class _OneStep(BaseException):
    """Raised out of a program at its first backward(): a BaseException, so its `except Exception` lets it by."""


@contextmanager
def _stop_after_first_backward(caught: list) -> Iterator[None]:
    """Inside the block, the first `Value.backward()` runs, then stops the program (`_OneStep`)."""
    had_own = "backward" in Value.__dict__
    original = Value.backward

    def backward(self: Value, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        caught.append(self)
        raise _OneStep

    Value.backward = backward
    try:
        yield
    finally:
        if had_own:
            Value.backward = original
        else:
            del Value.backward


def watch_script(path: str | Path, argv: Sequence[str] = ()) -> GroupedPage:
    """Run the Python program at `path` (with `argv` as its arguments) up to the end of its first
    `backward()` on a Value, noting where each node is made, and return the grouped view of that step.
    The program stops there: its update and the rest never run."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except OSError as e:
        raise type(e)(f"watch: cannot read the program {str(path)!r}: {e.strerror or e}") from None
    code = compile(source, str(path), "exec")
    caught: list[Value] = []
    saved_argv, saved_path = sys.argv, sys.path[:]
    sys.argv = [str(path), *argv]
    sys.path.insert(0, str(path.resolve().parent))
    namespace = {"__name__": "__main__", "__file__": str(path), "__builtins__": __builtins__}
    try:
        with _stop_after_first_backward(caught), record_origins() as records:
            try:
                exec(code, namespace)
            except _OneStep:
                pass
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    if not caught:
        raise ValueError(f"watch: {path.name} ran to its end without calling backward() on a glassgrad Value: "
                         "nothing to show (its Values must be glassgrad's: from glassgrad import Value)")
    return GroupedPage(caught[0], records, f"glassgrad: one step of {path.name}")


def watch(model_or_loss_fn: Any, *args: Any, **kwargs: Any) -> Page:
    """`watch(model, xs, ys, steps=5, lr=0.1)`: the training-loop page (`training_page.watch`); a loss
    graph larger than the page takes is shown grouped instead, one iteration of it. `watch(loss_fn)`:
    the grouped view of one step of any scalar program (`watch_step`)."""
    from glassgrad.nn import Module
    from glassgrad.viz import training_page
    from glassgrad.viz.visualize import GraphTooLarge

    if not args and not kwargs and callable(model_or_loss_fn) and not isinstance(model_or_loss_fn, Module):
        return watch_step(model_or_loss_fn)
    try:
        return training_page.watch(model_or_loss_fn, *args, **kwargs)
    except GraphTooLarge:
        given = inspect.signature(training_page.watch).bind(model_or_loss_fn, *args, **kwargs)
        given.apply_defaults()
        loss = training_page.lecture_loss(model_or_loss_fn, given.arguments["xs"], given.arguments["ys"])
        loss.backward()
        nodes = len(topological_order(loss))
        return GroupedPage(loss, None, f"glassgrad: the training loop's first iteration, grouped: {nodes:,} Values, "
                                       f"more than the {given.arguments['max_nodes']} the training page steps through")
