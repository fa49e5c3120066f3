"""The training-loop page: the lecture's loop (forward pass and loss, backward pass, gradient
descent update) replayed in the browser, iteration after iteration, as the engine ran it.

`watch(model, xs, ys, steps=5)` trains `model` in place with the lecture's loop and records, per
iteration, the stepper's run over the loss graph (`backprop_page.record`), then each parameter's
update `p.data += -lr * p.grad` with the value before and after. Every number on the page comes
from this Python run; the page's JavaScript only shows them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from glassgrad.autograd import no_grad, topological_order
from glassgrad.engine import Value
from glassgrad.nn import Module
from glassgrad.viz.backprop_page import Page, page_data, record, render
from glassgrad.viz.visualize import GraphTooLarge

WATCH_MAX_NODES = 500  # the lecture's network on its four examples: 140 Values fused, 360 unfused
MAX_ITERATIONS = 50  # each iteration replays every node: more makes a page too long to step through
_NEURON = re.compile(r"(?:^|\.)(L\d+\.N\d+)\.(?:w\d+|b|n|o)$")  # the labels glassgrad.nn gives (see nn.scalar)


def _num(x: float) -> str:
    return f"{x:.4f}"


def lecture_loss(model: Module, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> Value:
    """The lecture's loss, sum((ypred - ygt)**2), with each example's nodes labelled `ex{e}.`:
    example 2's input 1 is `ex2.x1`, its neuron L0.N1's output `ex2.L0.N1.o`."""
    parameters = set(model.parameters())
    seen: set[Value] = set()
    errors = []
    for e, (x, y) in enumerate(zip(xs, ys, strict=True)):
        ypred = model([Value(float(xi)) for xi in x])
        if not isinstance(ypred, Value):
            raise TypeError("watch: the model must give one Value per example (a network with one output)")
        for v in topological_order(ypred):
            if v not in seen and v not in parameters:
                v.label = f"ex{e}.{v.label}" if v.label else v.label
            seen.add(v)
        error = (ypred - Value(float(y), label=f"ex{e}.ygt")) ** 2
        error.label = f"ex{e}.loss"
        errors.append(error)
    loss = errors[0]
    for e, error in enumerate(errors[1:], 1):  # the lecture's sum(), without its leading 0 + (same numbers)
        loss = loss + error
        loss.label = f"loss_to_ex{e}"
    loss.label = "loss"
    return loss


def neuron_groups(order: list[Value]) -> tuple[list[str], list[int | None]]:
    """The neurons (`L0.N1`, ...) of a graph made by glassgrad.nn, and the neuron each Value belongs
    to: its parameters, its results on every example, and the unlabelled `*` and `+` between them."""
    of: dict[Value, str] = {}
    for v in reversed(order):  # consumers first: a neuron's unlabelled sum parts follow its result
        match = _NEURON.search(v.label)
        if match:
            of[v] = match[1]
        if v in of and v._prev and (match is None or v.label.endswith(".n")):
            for child in v._prev:
                if not child.label:
                    of[child] = of[v]
    names = sorted(set(of.values()), key=lambda name: [int(part[1:]) for part in name.split(".")])
    index = {name: j for j, name in enumerate(names)}
    return names, [index[of[v]] if v in of else None for v in order]


class TrainingPage(Page):
    """`steps` iterations of the lecture's training loop on `model`, recorded for the page."""

    frame_height = 760

    def __init__(
        self,
        model: Module,
        xs: Sequence[Sequence[float]],
        ys: Sequence[float],
        steps: int = 5,
        lr: float = 0.1,
        max_nodes: int | None = WATCH_MAX_NODES,
    ) -> None:
        if not 1 <= steps <= MAX_ITERATIONS:
            raise ValueError(
                f"watch: steps must be 1 to {MAX_ITERATIONS}, got {steps}: the page replays every node of every "
                "iteration; train longer with a plain loop and watch only its first iterations"
            )
        parameters = model.parameters()
        if not all(isinstance(p, Value) for p in parameters):
            raise TypeError("watch: the page shows a model of scalar Values (glassgrad.nn.MLP), one node per number")
        runs, losses, orders = [], [], []
        start = [p.data for p in parameters]
        for _ in range(steps):
            loss = lecture_loss(model, xs, ys)
            order = topological_order(loss)
            if max_nodes is not None and len(order) > max_nodes:
                raise GraphTooLarge(
                    f"watch: one iteration's loss graph has {len(order)} Values, more than max_nodes={max_nodes}: "
                    "a page that large is too long to step through. Watch a smaller network or fewer examples "
                    "(the lecture's MLP(3, [4, 4, 1]) on its 4 examples has 140 Values, 360 with fused=False), "
                    "or pass max_nodes=None"
                )
            run = record(loss, order)
            for p in parameters:  # the lecture's loop: zero, backward, update
                p.grad = 0.0
            loss.backward()
            run["steps"] += self._updates(order, run, parameters, lr)
            runs.append(run)
            orders.append(order)
            losses.append(loss.data)
        with no_grad():
            losses.append(lecture_loss(model, xs, ys).data)
        self._check_same_shape(orders)
        self.losses = losses
        names, group_of = neuron_groups(orders[0])
        self.data = page_data(runs)
        for i, run in enumerate(self.data["iterations"]):
            run["steps"].append(self._next_loss(i, losses, index_of_root=len(orders[0]) - 1))
        self.data.update(
            watch=True,
            lr=repr(lr),
            losses=[[_num(x), repr(x)] for x in losses],
            groups=names,
            group_of=group_of,
            summary=self._summary(parameters, start, losses),
        )
        title = f"glassgrad training loop: {steps} iteration{'s' if steps > 1 else ''}, lr {lr!r}"
        self.html = render(title, orders[0], self.data, (names, group_of))

    @staticmethod
    def _updates(order: list[Value], run: dict, parameters: list[Value], lr: float) -> list[dict]:
        """Apply `p.data += -lr * p.grad` to each parameter, recording each one as a page step."""
        index = {v: i for i, v in enumerate(order)}
        steps = []
        for p in parameters:
            before, grad = p.data, p.grad
            p.data += -lr * p.grad
            if p not in index:
                continue
            i = index[p]
            name = run["nodes"][i]["name"]
            steps.append(
                {
                    "phase": "update",
                    "node": i,
                    "title": f"{name}.data += -lr × {name}.grad",
                    "lines": [
                        f"{name}.data = {_num(before)} + (−{lr!r}) × {_num(grad)} = {_num(p.data)}",
                        f"exactly: {before!r} + (−{lr!r}) × {grad!r} = {p.data!r}",
                    ],
                    "update": [_num(before), _num(p.data), repr(before), repr(p.data), _num(grad), repr(grad)],
                }
            )
        return steps

    @staticmethod
    def _next_loss(i: int, losses: list[float], index_of_root: int) -> dict:
        """The step that closes iteration i: the loss with the updated parameters."""
        was, now = losses[i], losses[i + 1]
        where = "the next iteration's forward pass" if i + 2 < len(losses) else "one more forward pass"
        return {
            "phase": "update",
            "node": index_of_root,
            "title": f"after the update the loss is {_num(now)} (it was {_num(was)})",
            "lines": [f"loss = {_num(now)} ({now!r}), from {where} with the updated parameters"],
            "loss": i + 1,
        }

    @staticmethod
    def _summary(parameters: list[Value], start: list[float], losses: list[float]) -> dict:
        """Loss before and after, and the parameters that moved most over the whole run."""
        moved = sorted(zip(parameters, start), key=lambda pair: -abs(pair[0].data - pair[1]))[:5]
        return {
            "before": [_num(losses[0]), repr(losses[0])],
            "after": [_num(losses[-1]), repr(losses[-1])],
            "largest": [[p.label, _num(s), _num(p.data), _num(p.data - s), repr(s), repr(p.data)] for p, s in moved],
        }

    @staticmethod
    def _check_same_shape(orders: list[list[Value]]) -> None:
        """The page draws the graph once: every iteration must build the same graph."""
        first = orders[0]
        index = {v: i for i, v in enumerate(first)}
        shape = [(v._op, tuple(index[x] for x in v._prev)) for v in first]
        for order in orders[1:]:
            index = {v: i for i, v in enumerate(order)}
            if [(v._op, tuple(index[x] for x in v._prev)) for v in order] != shape:
                raise ValueError("watch: the model built a different graph in a later iteration")


def watch(
    model: Module,
    xs: Sequence[Sequence[float]],
    ys: Sequence[float],
    steps: int = 5,
    lr: float = 0.1,
    max_nodes: int | None = WATCH_MAX_NODES,
) -> TrainingPage:
    """Train `model` in place for `steps` iterations of the lecture's loop on (`xs`, `ys`) with
    learning rate `lr`, and return the page replaying them: `.save(path)`, or shown in Jupyter."""
    return TrainingPage(model, xs, ys, steps, lr, max_nodes)
