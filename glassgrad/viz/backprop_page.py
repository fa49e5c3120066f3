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
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from glassgrad import ops
from glassgrad.autograd import backpropagate
from glassgrad.engine import Value
from glassgrad.io.storage import atomic_write
from glassgrad.ops import floatmath
from glassgrad.viz.visualize import DEFAULT_MAX_NODES, drawing, graph_nodes

_SIMPLE = re.compile(r"[\w.]+(?:\[\w+\])*")  # a name that needs no parentheses in a formula: `L0.N1.w[0]`
MAX_NAME = 24  # characters: a derived name longer than this is shortened


_MARKER = re.compile(r"\{\{([A-Z]+)\}\}")  # a page template's markers, {{TITLE}}


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


@dataclass(frozen=True)
class Name:
    """A node's name as formulas use it: its text, its precedence (ops.ATOM needs no parentheses),
    for an unlabelled sum its terms (each after the first with its sign: `("b", "+ w1*x1")`), and two
    briefer forms of a long formula: sums shortened to their ends (`b + … + w3*x3`), then calls too (`tanh(…)`)."""

    text: str
    level: int = ops.ATOM
    terms: tuple[str, ...] = ()
    brief: tuple[str, str] | None = None

    @property
    def operand(self) -> str:
        """The name as an operand of an infix operator: parenthesised unless it is a plain name."""
        return self.text if self.level == ops.ATOM else f"({self.text})"

    def form(self, k: int) -> str:
        """Form k of the name: 0 its text, 1 with sums shortened, 2 with calls shortened too."""
        return self.text if k == 0 or self.brief is None else self.brief[k - 1]


def number_name(x: float) -> Name:
    """An unlabelled leaf is a constant: named by its value, `2` or `-0.8821`."""
    text = floatmath.shortest(x)
    text = text if len(text) <= 7 else f"{x:.4g}"
    return Name(text, 3 if text.startswith("-") else ops.ATOM)


def label_name(label: str) -> Name:
    """A label as formulas use it: parenthesised unless it is a plain name (`x1`, `L0.N1.o`)."""
    return Name(label, ops.ATOM if _SIMPLE.fullmatch(label) else 0)


def _wrap(text: str, ok: bool) -> str:
    return text if ok else f"({text})"


def _written(op: str, args: list[Name], k: int) -> tuple[str, tuple[str, ...]]:
    """Form k of the formula of `op` over `args` (see `Name.form`), and its terms if it is a sum."""
    found = ops.describe(op)
    texts = [a.form(k) for a in args]
    if found is None or found[0].precedence == ops.ATOM:
        return (f"{op}(…)" if k == 2 else f"{op}({', '.join(texts)})"), ()
    description, params = found
    if description is ops.WEIGHTED_SUM:  # w1·x1 + w2·x2 + b
        n = len(args) // 2
        products = [
            f"{_wrap(tw, w.level >= 2)}·{_wrap(tx, x.level > 2)}"
            for w, x, tw, tx in zip(args[:n], args[n:-1], texts[:n], texts[n:-1], strict=True)
        ]
        terms = (*products[:1], *(f"+ {p}" for p in products[1:]), f"+ {_wrap(texts[-1], args[-1].level > 1)}")
        return " ".join(terms), terms
    level = description.precedence
    if params:  # x ** 2: the exponent is the right-hand input
        args, texts = [*args, number_name(params[0])], [*texts, floatmath.shortest(params[0])]
    if len(args) == 1:  # negation
        return "-" + _wrap(texts[0], args[0].level >= level), ()
    symbol = description.name.split("{")[0]
    (a, b), (ta, tb) = args, texts
    right_first = symbol == "**"  # ** groups to the right, the others to the left
    left = _wrap(ta, a.level > level if right_first else a.level >= level)
    right = _wrap(tb, b.level >= level if right_first else b.level > level or (b.level == level and symbol in "+*"))
    if level != 1:
        return f"{left}{symbol}{right}", ()
    flat = b.terms and symbol == "+"
    terms = (*(a.terms or (left,)), *((f"+ {b.terms[0]}", *b.terms[1:]) if flat else (f"{symbol} {right}",)))
    return " ".join(terms), terms


def _ends(terms: tuple[str, ...]) -> str:
    """A sum of more than two terms by its first and last: `b + … + w3*x3`."""
    return f"{terms[0]} + … {terms[-1]}" if len(terms) > 2 else " ".join(terms)


def formula_name(op: str, args: list[Name]) -> Name:
    """The name of an unlabelled result of `op` from its inputs' names, the formula that computes it:
    `x1*w1`, `tanh(n)`, `b + w1*x1 + w2*x2` (parenthesised by precedence), with its briefer forms."""
    text, terms = _written(op, args, 0)
    level = ops.describe(op)[0].precedence if ops.describe(op) else ops.ATOM
    brief = tuple(_ends(t) if t else s for s, t in (_written(op, args, k) for k in (1, 2)))
    return Name(text, level, terms, brief)


def chosen(name: Name, limit: int = MAX_NAME) -> Name:
    """`name` in the first of its forms that fits `limit` characters (its briefest otherwise)."""
    for k in (0, 1, 2):
        if len(name.form(k)) <= (limit if k == 0 else limit + 12) or k == 2:
            text = name.form(k)
            return name if k == 0 else Name(text, name.level, name.terms, name.brief)
    raise AssertionError("unreachable")


def node_names(order: list[Value], given: dict[Value, Name] | None = None, numbered: bool = True) -> list[Name]:
    """What the page calls each node of `order` (a forward order): the name `given` to it, else its
    label, else for a constant its value and for a result its formula from its inputs' names
    (`x1*w1`, `tanh(n)`), shortened when long; with `numbered`, a result named as others already are
    gets ` [2]`, ` [3]`, ... (the second, third result of that formula)."""
    given = given or {}
    index = {v: i for i, v in enumerate(order)}
    names: list[Name] = []
    taken: dict[str, int] = {}
    for v in order:
        name = given.get(v)
        if name is None and v.label:
            name = label_name(v.label)
        elif name is None and not v._prev:
            name = number_name(v.data)
        elif name is None:
            name = chosen(formula_name(v._op, [names[index[x]] for x in v._prev]))
            seen = taken.get(name.text, 0)
            if seen and numbered:  # the formula's count goes up, and the numbered name is taken below
                taken[name.text] = seen + 1
                name = Name(f"{name.text} [{seen + 1}]", 0)
        taken[name.text] = taken.get(name.text, 0) + 1
        names.append(name)
    return names


class Naming:
    """How a page writes each node of `order`: `full[i]` in the panel's texts, `shown[i]` on its box,
    `scope[i]` where its step happens ('' in one graph), and `seen(j, i)`, the name of node i in the
    formulas of node j. A plain graph names every node once (`node_names`)."""

    def __init__(self, order: list[Value]) -> None:
        self.names = node_names(order)
        self.full = self.shown = [name.text for name in self.names]
        self.scope = [""] * len(order)

    def seen(self, j: int, i: int) -> Name:
        return self.names[i]

    def notes(self, j: int, inputs: list[int]) -> list[str]:
        """Lines that say who the names in node j's formulas are, when they are not their own."""
        return []


def _derivative(out: str, x: str, formula: str, local: float) -> str:
    """'∂o/∂x = formula = 0.5000', leaving out a formula that is just a number."""
    shown = "" if formula.lstrip("−").isdigit() or not formula else f" = {formula}"
    return f"∂{out}/∂{x}{shown} = {_num(local)}"


def record(root: Value, order: list[Value], naming: Naming | None = None) -> dict:
    """The engine's run over `root`'s graph (`order`, inputs first) as the page replays it.

    A node is `{shown, name, scope, op, data, exact, inputs, formulas}`; a step is `{phase, node,
    title, lines}`, and a backward step also has `grads`: `[node, grad shown, exact grad]` for each
    grad it set. The forward pass has a step per result, in the engine's order: the leaves (inputs,
    parameters, constants) are given before it starts.
    """
    naming = naming or Naming(order)
    index = {v: i for i, v in enumerate(order)}
    nodes, steps, locals_of, written = _forward(order, naming, index)
    grads, backward = _backward(root, naming, index, locals_of, written)
    steps += backward
    for node_record, v in zip(nodes, order, strict=True):
        node_record["grad"] = _num(grads.get(v, 0.0))
    return {"root": nodes[index[root]]["name"], "nodes": nodes, "steps": steps}


def _forward(order: list[Value], naming: Naming, index: dict) -> tuple[list, list, dict, dict]:
    """`record`'s nodes and forward steps, and what the backward steps read: each result's local
    derivatives (`locals_of`) and its inputs as its formula writes them (`written`)."""
    nodes, steps, locals_of, written = [], [], {}, {}
    for j, v in enumerate(order):
        inputs = [index[x] for x in v._prev]
        seen = [naming.seen(j, i) for i in inputs]
        out = naming.seen(j, j).operand
        args = [s.operand for s in seen]
        # each result's formula from its inputs' names: parenthesised for an infix operator, bare in a call
        written[j] = [s.text if _call_argument(v._op, k) else s.operand for k, s in enumerate(seen)]
        formulas = ["a leaf: nothing to pass its gradient on to"]
        if v._rule is not None:
            local = v._rule(1.0, v.data, *[x.data for x in v._prev])
            locals_of[v] = [(args[k], _local_formula(v._op, out, args, k), d) for k, d in enumerate(local)]
            formulas = [_derivative(out, x, f, d) for x, f, d in locals_of[v] if d is not None]
        nodes.append(
            {
                "shown": naming.shown[j],
                "name": label_name(naming.full[j]).operand,
                "scope": naming.scope[j],
                "op": v._op,
                "data": _num(v.data),
                "exact": repr(v.data),
                "inputs": inputs,
                "formulas": formulas,
            }
        )
        if v._prev:
            numbers = [_num(x.data) for x in v._prev]
            title = f"{naming.seen(j, j).text} = {_expression(v._op, written[j])}"
            lines = [f"{title} = {_expression(v._op, numbers)} = {_num(v.data)}", *naming.notes(j, inputs)]
            steps.append({"phase": "forward", "node": j, "title": title, "lines": lines})
    return nodes, steps, locals_of, written


def _backward(root: Value, naming: Naming, index: dict, locals_of: dict, written: dict) -> tuple[dict, list]:
    """The engine's backward pass from `root` (its gradients) and `record`'s backward steps, one a node."""
    steps: list = []
    trace: list = []
    grads = backpropagate(root, 1.0, trace=trace)
    r = index[root]
    o = naming.seen(r, r).operand
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
        j = index[node]
        n = naming.seen(j, j).operand
        active = [(x, f, d) for x, f, d in locals_of[node] if d is not None]
        lines = []
        for (x, formula, local), (_, share, grad_after) in zip(active, shares, strict=True):
            lines.append(
                f"{x}.grad += ({_derivative(n, x, formula, local)}) × {n}.grad ({_num(g)}) = {_num(share)}"
                f"   ⇒ {x}.grad = {_num(grad_after)}"
            )
        lines += naming.notes(j, [index[x] for x in node._prev])
        after = {index[child]: grad for child, _, grad in shares}  # the engine's grads after this node (last wins)
        changed = [[i, _num(grad), repr(grad)] for i, grad in after.items()]
        title = f"chain rule through {naming.seen(j, j).text} = {_expression(node._op, written[j])}"
        steps.append({"phase": "backward", "node": j, "title": title, "lines": lines, "grads": changed})
    return grads, steps


def page_data(runs: list[dict]) -> dict:
    """Runs of `record` over graphs of one shape (one run per training iteration) as the page's
    data: each node's names and inputs once, then each iteration's numbers and steps."""
    return {
        "nodes": [{k: node[k] for k in ("shown", "name", "scope", "op", "inputs") if node[k] != ""}
                  for node in runs[0]["nodes"]],
        "iterations": [
            {"values": [[n["data"], n["exact"], n["formulas"]] for n in run["nodes"]], "steps": run["steps"]}
            for run in runs
        ],
    }


def render(title: str, data: dict, order: list[Value] | None = None) -> str:
    """The self-contained page showing `data` (see `page_data`): over the drawing of `order`, or
    over the network the page draws itself from `data["net"]` (a training page)."""
    svg = ""
    if order is not None:
        first = data["iterations"][0]["values"]
        shown = [node["shown"] for node in data["nodes"]]
        drawn = drawing(order, lambda i, v: (shown[i], f"data {first[i][0]}", "grad 0.0000"), stacked=True)
        drawn.graph_attr.update(ranksep="0.25", nodesep="0.12")  # compact: the lecture's neuron fits 1400x900
        svg = drawn.pipe(format="svg", encoding="utf-8")
        svg = svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE: the SVG is inline HTML
    return fill_template("backprop_page.html", {"TITLE": title, "SVG": svg, "RUN": data})


def fill_template(name: str, parts: dict) -> str:
    """The page template `name` (beside this module) with each `{{KEY}}` replaced by `parts[KEY]`: a
    title is HTML-escaped, an SVG is inline as it is (Graphviz escapes every label as XML text), data
    (a dict) becomes JSON safe inside a <script> element. One pass: inserted text is never re-read."""
    shown = {key: html.escape(value) if key == "TITLE" else value if isinstance(value, str) else _script_json(value)
             for key, value in parts.items()}
    page = files("glassgrad.viz").joinpath(name).read_text(encoding="utf-8")
    return _MARKER.sub(lambda m: shown.get(m[1], m[0]), page)


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
        self.html = render(f"glassgrad backprop stepper: {self.run['root']}", page_data([self.run]), order)


def stepper(root: Value, max_nodes: int | None = DEFAULT_MAX_NODES) -> Stepper:
    """A page that steps through the forward and backward pass of `root`'s graph, as the engine ran it.

    It leaves every `.grad` untouched: the backward pass it records starts from zero grads.
    """
    return Stepper(root, max_nodes)
