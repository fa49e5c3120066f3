"""The training-loop page: the lecture's loop (forward pass and loss, backward pass, gradient
descent update) replayed in the browser, iteration after iteration, as the engine ran it.

`watch(model, xs, ys, steps=5)` trains `model` in place with the lecture's loop and records, per
iteration, the stepper's run over the loss graph (`backprop_page.record`), then each parameter's
update `p.data += -lr * p.grad` with the value before and after. Every number on the page comes
from this Python run; the page's JavaScript only shows them.

The page draws the graph as the network it is (`network`): the inputs on the left, then each
layer's neurons as a column, then the loss, each neuron one unit holding its nodes on the four
examples. The units are found from the graph and the model's attributes, so a model written as in
the lecture (micrograd's Neuron, Layer and MLP classes on glassgrad Values) is drawn the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from glassgrad.autograd import topological_order
from glassgrad.engine import Value
from glassgrad.nn import Module
from glassgrad.viz.backprop_page import Page, page_data, record, render
from glassgrad.viz.network import _EXAMPLE, Examples, Network
from glassgrad.viz.visualize import GraphTooLarge

WATCH_MAX_NODES = 500  # the lecture's network on its four examples: 140 Values fused, 360 unfused
MAX_ITERATIONS = 50  # each iteration replays every node: more makes a page too long to step through
WATCH_SEED = 1  # `glassgrad watch`'s: the lecture's network whose loss falls at every iteration with lr 0.1


def _num(x: float) -> str:
    return f"{x:.4f}"


def forward(model: Any, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> Examples:
    """The lecture's forward pass and loss, in its order: `ypred = [model(x) for x in xs]`, then
    `loss = sum((yout - ygt)**2 ...)`, each squared error added as soon as it is made.

    Each example's inputs are labelled `ex{e}.x{k}` and its target `ex{e}.ygt`; the labels the model
    gives its results get the example's prefix (`ex2.L0.N1.o`), its squared error is `ex{e}.loss`."""
    parameters = set(model.parameters())
    seen: set[Value] = set()
    inputs, predictions = [], []
    for e, x in enumerate(xs):
        given = [Value(float(xi), label=f"ex{e}.x{k}") for k, xi in enumerate(x, 1)]
        ypred = model(given)
        if not isinstance(ypred, Value):
            raise TypeError("watch: the model must give one Value per example (a network with one output)")
        for v in topological_order(ypred):
            if v not in seen and v not in parameters and v.label and not _EXAMPLE.match(v.label):
                v.label = f"ex{e}.{v.label}"
            seen.add(v)
        inputs.append(given)
        predictions.append(ypred)
    targets = [Value(float(y), label=f"ex{e}.ygt") for e, y in enumerate(ys)]
    loss = None
    for e, (ypred, target) in enumerate(zip(predictions, targets, strict=True)):
        error = (ypred - target) ** 2
        error.label = f"ex{e}.loss"
        if loss is None:  # the lecture's sum(), without its leading 0 + (the same numbers)
            loss = error
        else:
            loss = loss + error
            loss.label = f"loss_to_ex{e}"
    loss.label = "loss"
    return Examples(loss, inputs, targets, predictions)


def forward_order(examples: Examples) -> list[Value]:
    """Every node of the loss's graph in the order the engine made them: each example's forward pass,
    then the loss (a topological order, as `topological_order` gives, led by the predictions)."""
    order: dict[Value, None] = {}
    for ypred in examples.predictions:
        order.update(dict.fromkeys(topological_order(ypred)))
    order.update(dict.fromkeys(topological_order(examples.loss)))
    return list(order)


def lecture_loss(model: Any, xs: Sequence[Sequence[float]], ys: Sequence[float]) -> Value:
    """The lecture's loss, sum((ypred - ygt)**2), with each example's nodes labelled `ex{e}.`:
    example 2's input 1 is `ex2.x1`, its neuron L0.N1's output `ex2.L0.N1.o`."""
    return forward(model, xs, ys).loss



class TrainingPage(Page):
    """`steps` iterations of the lecture's training loop on `model`, recorded for the page."""

    frame_height = 900

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
        runs, losses, orders, predictions = [], [], [], []
        start = [p.data for p in parameters]
        network = None
        for _ in range(steps):
            examples = forward(model, xs, ys)
            loss = examples.loss
            order = forward_order(examples)
            if max_nodes is not None and len(order) > max_nodes:
                raise GraphTooLarge(
                    f"watch: one iteration's loss graph has {len(order)} Values, more than max_nodes={max_nodes}: "
                    "a page that large is too long to step through. Watch a smaller network or fewer examples "
                    "(the lecture's MLP(3, [4, 4, 1]) on its 4 examples has 140 Values, 360 with fused=False), "
                    "or pass max_nodes=None"
                )
            network = network or Network(order, model, parameters, examples)
            run = record(loss, order, network)
            for p in parameters:  # the lecture's loop: zero, backward, update
                p.grad = 0.0
            loss.backward()
            run["steps"] += self._updates(order, run, parameters, lr)
            runs.append(run)
            orders.append(order)
            losses.append(loss.data)
            predictions.append([_num(y.data) for y in examples.predictions])
        final = forward(model, xs, ys)  # the loss after the last update: one more forward pass
        losses.append(final.loss.data)
        predictions.append([_num(y.data) for y in final.predictions])
        orders.append(forward_order(final))
        self._check_same_shape(orders)
        self.losses = losses
        self.data = page_data(runs)
        for i, run in enumerate(self.data["iterations"]):
            run["steps"].append(self._next_loss(i, losses, lr, index_of_root=len(orders[0]) - 1))
        self.data.update(
            watch=True,
            lr=repr(lr),
            losses=[[_num(x), repr(x)] for x in losses],
            net=network.data(),
            predictions=predictions,
            targets=[_num(float(y)) for y in ys],
            final=[[_num(v.data), repr(v.data)] for v in orders[-1]],
            summary=self._summary(parameters, start, losses),
        )
        title = f"glassgrad training loop: {steps} iteration{'s' if steps > 1 else ''}, lr {lr!r}"
        self.html = render(title, self.data)

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
    def _next_loss(i: int, losses: list[float], lr: float, index_of_root: int) -> dict:
        """The step that closes iteration i: the loss with the updated parameters."""
        was, now = losses[i], losses[i + 1]
        where = "the next iteration's forward pass" if i + 2 < len(losses) else "one more forward pass"
        lines = [f"loss = {_num(now)} ({now!r}), from {where} with the updated parameters"]
        if now > was:
            lines.append(
                f"The loss rose: the gradient says which way is downhill only near the current parameters, and a "
                f"step of lr = {lr!r} times it went past the valley's floor (an overshoot). The next steps can "
                "still bring it down; a smaller lr (--lr) takes smaller, safer steps."
            )
        return {
            "phase": "update",
            "node": index_of_root,
            "title": f"after the update the loss is {_num(now)} (it was {_num(was)})",
            "lines": lines,
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
