"""The backprop stepper: one self-contained HTML page that replays the engine's forward and
backward pass over a graph of Values, a node at a time, with the chain rule in words and numbers.

Every number on the page is recorded here from the engine's own run (`backpropagate` with a
trace, and each node's derivative rule); the page's JavaScript only shows them, so the page and
the engine cannot disagree. The page needs no network: its script, style and graph are inline.
"""

from __future__ import annotations

import html
import json
import re
from importlib.resources import files
from pathlib import Path

from glassgrad import ops
from glassgrad.autograd import backpropagate
from glassgrad.engine import Value
from glassgrad.io.storage import atomic_write
from glassgrad.ops import floatmath
from glassgrad.viz.visualize import DEFAULT_MAX_NODES, drawing, graph_nodes

_SIMPLE = re.compile(r"[#\w.]+")  # a name that needs no parentheses in a formula
MAX_NAME = 24  # a derived name longer than this falls back to the op and the node's index


_MARKER = re.compile(r"\{\{(TITLE|SVG|RUN)\}\}")  # the template's markers


def _script_json(data: dict) -> str:
    """`data` as JSON safe inside a <script> element: no `<`, `>` or `&` that HTML could read as markup."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _num(x: float) -> str:
    return f"{x:.4f}"


def _expression(op: str, args: list[str]) -> str:
    """How the operation `op` writes its result from its inputs `args` (names or numbers)."""
    found = ops.describe(op)
    return found[0].write(args, found[1]) if found else f"{op}({', '.join(args)})"


def _call_argument(op: str, k: int) -> bool:
    """Whether input k of `op` is written as a call's argument, `tanh(x*w + b)`: it needs no parentheses
    of its own. Only a call-style operation (precedence ATOM) whose formula puts the input between
    `(` or `, ` and `)` or `,` qualifies; an infix operator's inputs keep theirs."""
    found = ops.describe(op)
    if found is None:
        return True  # written as op(a, b)
    description = found[0]
    if description.precedence != ops.ATOM or callable(description.formula):
        return False
    if not description.formula:
        return True
    at = [m.start() for m in re.finditer(re.escape("{" + str(k) + "}"), description.formula)]
    text = description.formula
    return bool(at) and all(
        text[:i].endswith(("(", ", ")) and text[i + len(str(k)) + 2 :].startswith((")", ",")) for i in at
    )


def _local_formula(op: str, out: str, args: list[str], k: int) -> str:
    """d(out)/d(input k) in symbols, as the operation's description writes it ('' if unknown)."""
    found = ops.describe(op)
    return found[0].write_local(args, out, k, found[1]) if found else ""


def _derived_name(op: str, args: list[tuple[str, int]]) -> tuple[str, int] | None:
    """A name for an unlabelled result of `op` from its inputs' names and precedences, e.g. `x1*w1`:
    a function's call, or an operator's symbol between its inputs, parenthesised by precedence."""
    found = ops.describe(op)
    if found is None or len(args) > 2:
        return None
    description, params = found
    level = description.precedence
    if level == ops.ATOM:
        return (f"{op}({args[0][0]})", level) if len(args) == 1 else None
    if params:  # x ** 2: the exponent is the right-hand input
        k = floatmath.shortest(params[0])
        args = [*args, (k, ops.ATOM if not k.startswith("-") else 0)]
    if len(args) == 1:  # negation
        name, inner = args[0]
        return "-" + (name if inner >= level else f"({name})"), level
    symbol = description.name.split("{")[0]
    (a, pa), (b, pb) = args
    right_first = symbol == "**"  # ** groups to the right, the others to the left
    left_ok = pa > level if right_first else pa >= level
    right_ok = pb >= level if right_first else pb > level or (pb == level and symbol in "+*")
    a, b = (a if left_ok else f"({a})"), (b if right_ok else f"({b})")
    return (f"{a} {symbol} {b}" if level == 1 else f"{a}{symbol}{b}"), level


def _names(order: list[Value]) -> list[str]:
    """What the page calls each node: its label; else, for a result, a name made from its inputs'
    (`x1*w1`, `tanh(n)`) when short and not taken, else the op and its index (`add#5`); for an
    unlabelled leaf, its index (`#3`)."""
    index = {v: i for i, v in enumerate(order)}
    shown: list[str] = []
    precedence: list[int] = []
    taken = {v.label for v in order if v.label}
    for i, v in enumerate(order):
        name, level = v.label, ops.ATOM if _SIMPLE.fullmatch(v.label or "#") else 0
        if not name and v._prev:
            derived = _derived_name(v._op, [(shown[index[x]], precedence[index[x]]) for x in v._prev])
            if derived is not None and len(derived[0]) <= MAX_NAME and derived[0] not in taken:
                name, level = derived
            else:
                found = ops.describe(v._op)
                word = (found and found[0].word) or re.sub(r"\W", "", v._op) or "op"
                name, level = f"{word}#{i}", ops.ATOM
            taken.add(name)
        shown.append(name or f"#{i}")
        precedence.append(level)
    return shown


def _derivative(out: str, x: str, formula: str, local: float) -> str:
    """'∂o/∂x = formula = 0.5000', leaving out a formula that is just a number."""
    shown = "" if formula.lstrip("−").isdigit() or not formula else f" = {formula}"
    return f"∂{out}/∂{x}{shown} = {_num(local)}"


def record(root: Value, order: list[Value]) -> dict:
    """The engine's run over `root`'s graph (`order`, inputs first) as the page replays it.

    A node is `{shown, name, op, data, exact, inputs, formulas}`; a step is `{phase, node, title, lines}`,
    and a backward step also has `grads`: `[node, grad shown, exact grad]` for each grad it set.
    """
    index = {v: i for i, v in enumerate(order)}
    shown = _names(order)
    names = [name if _SIMPLE.fullmatch(name) else f"({name})" for name in shown]
    # each result's formula from its inputs' names: parenthesised for an infix operator, bare in a call
    written = [
        [shown[index[x]] if _call_argument(v._op, k) else names[index[x]] for k, x in enumerate(v._prev)]
        for v in order
    ]
    nodes, steps, locals_of = [], [], {}
    for i, v in enumerate(order):
        args = [names[index[x]] for x in v._prev]
        formulas = ["a leaf: nothing to pass its gradient on to"]
        if v._rule is not None:
            local = v._rule(1.0, v.data, *[x.data for x in v._prev])
            locals_of[v] = [(args[k], _local_formula(v._op, names[i], args, k), d) for k, d in enumerate(local)]
            formulas = [_derivative(names[i], x, f, d) for x, f, d in locals_of[v] if d is not None]
        nodes.append(
            {
                "shown": shown[i],
                "name": names[i],
                "op": v._op,
                "data": _num(v.data),
                "exact": repr(v.data),
                "inputs": [index[x] for x in v._prev],
                "formulas": formulas,
            }
        )
        if v._prev:
            numbers = [_num(x.data) for x in v._prev]
            title = f"{shown[i]} = {_expression(v._op, written[i])}"
            lines = [f"{title} = {_expression(v._op, numbers)} = {_num(v.data)}"]
        else:
            title = f"{shown[i]} = {_num(v.data)}"
            lines = [f"{shown[i]} is a leaf (an input or a parameter): its data is given, {v.data!r}"]
        steps.append({"phase": "forward", "node": i, "title": title, "lines": lines})

    trace: list = []
    grads = backpropagate(root, 1.0, trace=trace)
    r, o = index[root], names[index[root]]
    steps.append(
        {
            "phase": "backward",
            "node": r,
            "title": f"{o}.grad = 1",
            "lines": [f"{o}.grad = 1.0000: the derivative of {o} with respect to itself starts the chain rule"],
            "grads": [[r, _num(1.0), repr(1.0)]],
        }
    )
    for node, g, shares in trace:
        n = names[index[node]]
        active = [(x, f, d) for x, f, d in locals_of[node] if d is not None]
        lines = []
        for (x, formula, local), (_, share, grad_after) in zip(active, shares, strict=True):
            lines.append(
                f"{x}.grad += ({_derivative(n, x, formula, local)}) × {n}.grad ({_num(g)}) = {_num(share)}"
                f"   ⇒ {x}.grad = {_num(grad_after)}"
            )
        after = {index[child]: grad for child, _, grad in shares}  # the engine's grads after this node (last wins)
        changed = [[i, _num(grad), repr(grad)] for i, grad in after.items()]
        title = f"chain rule through {n} = {_expression(node._op, written[index[node]])}"
        steps.append({"phase": "backward", "node": index[node], "title": title, "lines": lines, "grads": changed})
    for node_record, v in zip(nodes, order, strict=True):
        node_record["grad"] = _num(grads.get(v, 0.0))
    return {"root": o, "nodes": nodes, "steps": steps}


def page_data(runs: list[dict]) -> dict:
    """Runs of `record` over graphs of one shape (one run per training iteration) as the page's
    data: each node's names and inputs once, then each iteration's numbers and steps."""
    return {
        "nodes": [{k: node[k] for k in ("shown", "name", "op", "inputs")} for node in runs[0]["nodes"]],
        "iterations": [
            {"values": [[n["data"], n["exact"], n["formulas"]] for n in run["nodes"]], "steps": run["steps"]}
            for run in runs
        ],
    }


def render(
    title: str, order: list[Value], data: dict, groups: tuple[list[str], list[int | None]] | None = None
) -> str:
    """The self-contained page showing `data` (see `page_data`) over the drawing of `order`."""
    first = data["iterations"][0]["values"]
    shown = [node["shown"] for node in data["nodes"]]
    drawn = drawing(order, lambda i, v: (shown[i], f"data {first[i][0]}", "grad 0.0000"), groups=groups, stacked=True)
    svg = drawn.pipe(format="svg", encoding="utf-8")
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE: the SVG is inline HTML
    parts = {
        "TITLE": html.escape(title),
        "SVG": svg,  # Graphviz escapes every label as XML text
        "RUN": _script_json(data),
    }
    page = files("glassgrad.viz").joinpath("backprop_page.html").read_text(encoding="utf-8")
    return _MARKER.sub(lambda m: parts[m[1]], page)  # one pass over the template: data is never re-read


class Page:
    """A page of the engine's recorded run: `.save(path)`, or show it inline in Jupyter."""

    html: str
    frame_height = 680  # pixels, in a notebook: the page lays itself out to fill its frame

    def save(self, path: str | Path) -> Path:
        """Write the page to `path` (creating its folder) atomically; open the file in any browser."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write(path, lambda f: f.write(self.html.encode("utf-8")))

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.html)}" '
            f'style="width:100%;height:{self.frame_height}px;border:1px solid #ddd"></iframe>'
        )


class Stepper(Page):
    """The forward and backward pass over one graph, a node at a time."""

    def __init__(self, root: Value, max_nodes: int | None = DEFAULT_MAX_NODES) -> None:
        order = graph_nodes(root, max_nodes, "stepper")
        self.run = record(root, order)
        self.html = render(f"glassgrad backprop stepper: {self.run['root']}", order, page_data([self.run]))


def stepper(root: Value, max_nodes: int | None = DEFAULT_MAX_NODES) -> Stepper:
    """A page that steps through the forward and backward pass of `root`'s graph, as the engine ran it.

    It leaves every `.grad` untouched: the backward pass it records starts from zero grads.
    """
    return Stepper(root, max_nodes)
