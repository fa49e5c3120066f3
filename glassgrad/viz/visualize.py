"""Drawing a graph of Values as in the lecture: a record `label | data | grad` per Value and an
op node between each operation's inputs and its result.

`draw_dot` returns a `graphviz.Digraph`: it shows itself in Jupyter and `.render('graph')` writes
a file. Building it needs only the `graphviz` package; rendering needs Graphviz's `dot` program.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import graphviz

from glassgrad.autograd import topological_order
from glassgrad.engine import Value

DEFAULT_MAX_NODES = 300
RANKDIRS = ("LR", "TB", "RL", "BT")  # Graphviz's directions: left to right, top to bottom, and back
PIXELS_PER_INCH = 96  # a CSS pixel; Graphviz sizes drawings in inches
DOT_TIMEOUT = 10.0  # seconds `dot` may take to lay out one drawing before it is stopped
# Graphviz adds a node for every rank an edge crosses, and its positioning and edge routing are
# super-linear in them: `x+x+...+x` of 60 terms (60 Values, ~1,800 crossings) took 4 s. Past this
# many crossings positioning is cut short (nslimit=0) and edges are straight lines: a plainer
# layout in a fraction of a second.
LAYOUT_BUDGET = 800
_FAST_LAYOUT = {"nslimit": "0", "splines": "line"}
_PR_SET_PDEATHSIG = 1  # Linux prctl option: a signal for the child when its parent dies

INSTALL_GRAPHVIZ = (
    "install Graphviz, which provides it: `sudo apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install -c conda-forge graphviz` (conda)"
)


class GraphTooLarge(ValueError):
    """A graph too large to draw: more Values than the limit, or more than DOT_TIMEOUT seconds of layout."""


class GraphvizNotInstalled(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's `dot` program, which is not on PATH."""

    def __init__(self, args: list) -> None:
        RuntimeError.__init__(self, f"cannot run {args[0]!r}, Graphviz's layout program: {INSTALL_GRAPHVIZ}")


@contextmanager
def _explain_missing_dot() -> Iterator[None]:
    try:
        yield
    except graphviz.ExecutableNotFound as e:
        if isinstance(e, GraphvizNotInstalled):
            raise
        raise GraphvizNotInstalled(["dot"]) from e


class Drawing(graphviz.Digraph):
    """A `graphviz.Digraph` whose rendering says how to install Graphviz when `dot` is missing, and
    whose `pipe` runs `dot` under a time limit, as a child that dies with this process."""

    def pipe(self, format: str | None = None, *, engine: str | None = None, encoding: str | None = None) -> Any:
        """The drawing rendered by Graphviz in `format` (default: the drawing's), as bytes, or as text
        in `encoding`. `dot` is stopped after DOT_TIMEOUT seconds (GraphTooLarge) or when this
        process ends, even by kill -9 (on Linux), so it is never left running."""
        engine = engine or self.engine
        cmd = [engine, f"-K{engine}", f"-T{format or self.format}"]
        try:
            pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
            process = subprocess.Popen(cmd, preexec_fn=_die_with_parent(), **pipes)
        except FileNotFoundError:
            raise GraphvizNotInstalled(cmd) from None
        with process:
            try:
                out, err = process.communicate(self.source.encode(self.encoding), timeout=DOT_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                raise GraphTooLarge(
                    f"Graphviz took more than {DOT_TIMEOUT:g} s to lay out the graph and was stopped: "
                    "draw a smaller part of it"
                ) from None
            except BaseException:  # KeyboardInterrupt too: never leave dot running
                process.kill()
                raise
        if process.returncode:
            raise graphviz.CalledProcessError(process.returncode, cmd, output=out, stderr=err)
        return out.decode(encoding) if encoding else out

    def render(self, *args: Any, **kwargs: Any) -> Any:
        with _explain_missing_dot():
            return super().render(*args, **kwargs)


def _die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` by which the child asks Linux to SIGKILL it when this process dies; None elsewhere."""
    prctl = _prctl()
    if prctl is None:
        return None
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the request took effect
            os._exit(1)

    return arm


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl, looked up in the parent (not in the forked child), on Linux only."""
    return ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def check_root(root: Any, who: str) -> None:
    """TypeError unless `root` is a Value: `who` (draw_dot, stepper) draws graphs of scalar Values."""
    if isinstance(root, Value):
        return
    from glassgrad._tensor.tensor import Tensor

    if isinstance(root, Tensor):
        raise TypeError(
            f"{who}: got a Tensor; {who} draws graphs of Values (the scalar engine), one number per node. "
            "Build the expression from glassgrad.Value to see it node by node"
        )
    raise TypeError(f"{who}: got {type(root).__name__}; {who} draws the graph of a Value (glassgrad.Value)")


def number(x: Any) -> float:
    """A Value's `data` or `grad` as a float: a grad is a Value itself after backward(create_graph=True)."""
    return x.data if isinstance(x, Value) else x


def graph_nodes(root: Value, max_nodes: int | None = DEFAULT_MAX_NODES, who: str = "draw_dot") -> list[Value]:
    """Every Value `root` depends on, inputs first (the engine's forward order), or `GraphTooLarge`."""
    check_root(root, who)
    order = topological_order(root)
    if max_nodes is not None and len(order) > max_nodes:
        raise GraphTooLarge(
            f"the graph has {len(order)} Values, more than max_nodes={max_nodes}: Graphviz would be slow "
            "and the drawing unreadable. Draw it anyway with max_nodes=None, or draw a smaller part "
            "(one neuron's output, or the loss of a single example)"
        )
    return order


def record_field(text: str) -> str:
    """`text` escaped for one field of a Graphviz record label."""
    text = " ".join(text.split())
    for special in '\\{}|<>"':
        text = text.replace(special, "\\" + special)
    return text


def rank_crossings(order: list[Value]) -> int:
    """How many ranks the edges of `order` (a forward order) cross in all, each Value ranked by its
    longest path to the root: what makes Graphviz's layout slow (see LAYOUT_BUDGET)."""
    depth: dict[Value, int] = {}
    for v in reversed(order):  # a Value after every Value that uses it
        below = depth.setdefault(v, 0) + 1
        for child in v._prev:
            depth[child] = max(depth.get(child, 0), below)
    return sum(depth[child] - depth[v] for v in order for child in v._prev)


def drawing(
    order: list[Value],
    fields: Callable[[int, Value], tuple[str, str, str]],
    rankdir: str = "LR",
    format: str = "svg",
    stacked: bool = False,
    max_width: float | None = None,
) -> Drawing:
    """The drawing of `order` (a forward order); `fields(i, v)` gives the texts of Value i's record:
    in a row, or with `stacked` (and rankdir LR) the first beside the others stacked, a narrower box.
    A drawing wider than `max_width` pixels is scaled down to it (its proportions kept).

    Value i is node `v{i}` (SVG id `v{i}`), its op node `v{i}op` (SVG id `op{i}`); the edge from
    its k-th input has SVG id `e{i}.{k}`, the edge from its op node `o{i}`.
    """
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir: expected one of {RANKDIRS} (LR: left to right, TB: top to bottom), got {rankdir!r}")
    index = {v: i for i, v in enumerate(order)}
    graph_attr = {"rankdir": rankdir, "fontname": "Helvetica",
                  **(_FAST_LAYOUT if rank_crossings(order) > LAYOUT_BUDGET else {})}
    if max_width is not None:
        graph_attr["size"] = f"{_check_width(max_width) / PIXELS_PER_INCH:.4g},1000"  # inches; no height limit
    dot = Drawing(format=format, graph_attr=graph_attr, node_attr={"fontname": "Helvetica"})
    for i, v in enumerate(order):
        first, *rest = (record_field(f) for f in fields(i, v))
        label = f"{first} | {{ {' | '.join(rest)} }}" if stacked else " | ".join([first, *rest])
        dot.node(f"v{i}", label="{ " + label + " }", shape="record", id=f"v{i}")
        if v._op:
            dot.node(f"v{i}op", label=v._op, id=f"op{i}")
            dot.edge(f"v{i}op", f"v{i}", id=f"o{i}")
        for k, child in enumerate(v._prev):
            dot.edge(f"v{index[child]}", f"v{i}op" if v._op else f"v{i}", id=f"e{i}.{k}")
    return dot


def _check_width(width: Any) -> float:
    if isinstance(width, bool) or not isinstance(width, (int, float)) or not 0 < width < float("inf"):
        raise ValueError(f"max_width: expected a number of pixels > 0, got {width!r}")
    return float(width)


def draw_dot(
    root: Value,
    format: str = "svg",
    rankdir: str = "LR",
    max_nodes: int | None = DEFAULT_MAX_NODES,
    max_width: float | None = None,
) -> Drawing:
    """The graph that computed `root`: each Value as `label | data | grad`, each operation as a node.

    `format` is what `.render()` writes ('svg', 'png', ...), `rankdir` the direction: 'LR' (left to
    right, the lecture's) or 'TB' (top to bottom, narrower for a long chain). A drawing wider than
    `max_width` pixels is scaled down to fit (e.g. 700 for a notebook cell). A graph of more than
    `max_nodes` Values raises `GraphTooLarge`; `max_nodes=None` draws any size. After
    `backward(create_graph=True)` each grad is a Value: its number is shown.
    """
    order = graph_nodes(root, max_nodes)
    return drawing(order, lambda i, v: (v.label, f"data {v.data:.4f}", f"grad {number(v.grad):.4f}"), rankdir, format,
                   max_width=max_width)
