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

from glassgrad.autograd import backpropagate
from glassgrad.engine import Value
from glassgrad.storage import atomic_write
from glassgrad.visualize import DEFAULT_MAX_NODES, build, graph_nodes

_SIMPLE = re.compile(r"[#\w.]+")  # a name that needs no parentheses in a formula
_INFIX = {"+": "+", "-": "−", "*": "×", "/": "/", "**": "**"}
_FUNCTIONS = ("exp", "log", "tanh", "relu", "sigmoid")


_MARKER = re.compile(r"\{\{(TITLE|SVG|RUN)\}\}")  # the template's markers


def _script_json(data: dict) -> str:
    """`data` as JSON safe inside a <script> element: no `<`, `>` or `&` that HTML could read as markup."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _num(x: float) -> str:
    return f"{x:.4f}"


def _expression(op: str, args: list[str]) -> str:
    """How the operation `op` writes its result from its inputs `args` (names or numbers)."""
    if op in _INFIX:
        return f"{args[0]} {_INFIX[op]} {args[1]}"
    if op.startswith("**"):
        return f"{args[0]} ** {op[2:]}"
    if op == "neg":
        return f"−{args[0]}"
    if op == "linear":
        n = len(args) // 2
        return " + ".join([*(f"{w}·{x}" for w, x in zip(args[:n], args[n:-1], strict=True)), args[-1]])
    return f"{op}({', '.join(args)})"


def _local_formula(op: str, out: str, args: list[str], k: int) -> str:
    """d(out)/d(input k) in symbols, as the engine's rule for `op` computes it ('' if unknown)."""
    a, b = args[0], args[-1]
    if op in ("+", "-"):
        return "−1" if op == "-" and k == 1 else "1"
    if op == "*":
        return args[1 - k]
    if op == "/":
        return f"1/{b}" if k == 0 else f"−{out}/{b}"
    if op == "**":
        return f"{b}·{a}^({b} − 1)" if k == 0 else f"{out}·ln {a}"
    if op.startswith("**"):
        return f"{op[2:]}·{a}^({op[2:]} − 1)"
    if op == "linear":
        n = len(args) // 2
        return args[n + k] if k < n else args[k - n] if k < 2 * n else "1"
    return {
        "neg": "−1",
        "exp": out,
        "log": f"1/{a}",
        "tanh": f"1 − {out}²",
        "sigmoid": f"{out}·(1 − {out})",
        "relu": f"1 if {out} > 0 else 0",
    }.get(op, "")


# How tightly each operation binds in a derived name: a sum inside a product needs parentheses.
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "**": 4}
_ATOM = 5
_WORDS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow", "neg": "neg"}
MAX_NAME = 24  # a derived name longer than this falls back to the op and the node's index


def _derived_name(op: str, args: list[tuple[str, int]]) -> tuple[str, int] | None:
    """A name for an unlabelled result of `op` from its inputs' names and precedences, e.g. `x1*w1`."""
    if op.startswith("**") and op != "**":
        args = [*args, (op[2:], _ATOM if not op[2:].startswith("-") else 0)]
        op = "**"
    if op in _FUNCTIONS and len(args) == 1:
        return f"{op}({args[0][0]})", _ATOM
    level = _PRECEDENCE.get(op)
    if level is None:
        return None
    if op == "neg":
        name, inner = args[0]
        return "-" + (name if inner >= level else f"({name})"), level
    (a, pa), (b, pb) = args
    left_ok = pa > level if op == "**" else pa >= level
    right_ok = pb >= level if op == "**" else pb > level or (pb == level and op in "+*")
    a, b = (a if left_ok else f"({a})"), (b if right_ok else f"({b})")
    return (f"{a} {op} {b}" if level == 1 else f"{a}{op}{b}"), level


def _names(order: list[Value]) -> list[str]:
    """What the page calls each node: its label; else, for a result, a name made from its inputs'
    (`x1*w1`, `tanh(n)`) when short and not taken, else the op and its index (`add#5`); for an
    unlabelled leaf, its index (`#3`)."""
    index = {v: i for i, v in enumerate(order)}
    shown: list[str] = []
    precedence: list[int] = []
    taken = {v.label for v in order if v.label}
    for i, v in enumerate(order):
        name, level = v.label, _ATOM if _SIMPLE.fullmatch(v.label or "#") else 0
        if not name and v._prev:
            derived = _derived_name(v._op, [(shown[index[x]], precedence[index[x]]) for x in v._prev])
            if derived is not None and len(derived[0]) <= MAX_NAME and derived[0] not in taken:
                name, level = derived
            else:
                word = _WORDS.get(v._op) or re.sub(r"\W", "", v._op) or "op"
                name, level = f"{word}#{i}", _ATOM
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
            title = f"{shown[i]} = {_expression(v._op, args)}"
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
        title = f"chain rule through {n} = {_expression(node._op, [a for a, _, _ in locals_of[node]])}"
        steps.append({"phase": "backward", "node": index[node], "title": title, "lines": lines, "grads": changed})
    for node_record, v in zip(nodes, order, strict=True):
        node_record["grad"] = _num(grads.get(v, 0.0))
    return {"root": o, "nodes": nodes, "steps": steps}


class Stepper:
    """A recorded run of the engine as an HTML page (`.html`, with its drawing `.svg`): `.save(path)`,
    or show it inline in Jupyter."""

    def __init__(self, root: Value, max_nodes: int | None = DEFAULT_MAX_NODES) -> None:
        order = graph_nodes(root, max_nodes, "stepper")
        self.run = record(root, order)
        nodes = self.run["nodes"]
        drawing = build(order, lambda i, v: (nodes[i]["shown"], f"data {nodes[i]['data']}", f"grad {nodes[i]['grad']}"))
        svg = drawing.pipe(format="svg", encoding="utf-8")
        self.svg = svg[svg.index("<svg") :]  # the drawing, without XML prolog and DOCTYPE: inline HTML
        fill = {
            "TITLE": html.escape(f"glassgrad backprop stepper: {self.run['root']}"),
            "SVG": self.svg,  # Graphviz escapes every label as XML text
            "RUN": _script_json(self.run),
        }
        page = files("glassgrad").joinpath("backprop_page.html").read_text(encoding="utf-8")
        self.html = _MARKER.sub(lambda m: fill[m[1]], page)  # one pass over the template: data is never re-read

    def save(self, path: str | Path) -> Path:
        """Write the page to `path` (creating its folder) atomically; open the file in any browser."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write(path, lambda f: f.write(self.html.encode("utf-8")))

    def _repr_html_(self) -> str:
        return f'<iframe srcdoc="{html.escape(self.html)}" style="width:100%;height:720px;border:0"></iframe>'


def stepper(root: Value, max_nodes: int | None = DEFAULT_MAX_NODES) -> Stepper:
    """A page that steps through the forward and backward pass of `root`'s graph, as the engine ran it.

    It leaves every `.grad` untouched: the backward pass it records starts from zero grads.
    """
    return Stepper(root, max_nodes)
