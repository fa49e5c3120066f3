"""The loss graph of a network as the training-loop page draws it: units in columns (the inputs,
each layer's neurons, the loss), each neuron one unit holding its nodes on the examples, found from
the graph and the model's attributes (`parameter_places`), and the names the page gives the nodes
(inside a neuron, the lecture's own: `w1`, `x1`, `b`, `n`, `o`).
"""

from __future__ import annotations

import re
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from glassgrad import ops
from glassgrad.engine import Value
from glassgrad.viz.backprop_page import Name, Naming, label_name, node_names

_OWN = re.compile(r"^(?P<unit>.+?)\.(?P<part>w\d+|b|n|o)$")  # the labels glassgrad.nn gives (see nn.scalar)
_EXAMPLE = re.compile(r"^ex\d+\.")
_CODE = (type, types.FunctionType, types.MethodType, types.ModuleType, types.BuiltinFunctionType)  # never walked


@dataclass
class Examples:
    """One forward pass of the lecture's loss: the loss, each example's inputs, target and prediction."""

    loss: Value
    inputs: list[list[Value]]
    targets: list[Value]
    predictions: list[Value]




def parameter_places(model: Any, parameters: Sequence[Value]) -> dict[Value, tuple[str, str]]:
    """Where each parameter lives in `model`: the attribute path of the object that holds it
    (`layers[1].neurons[2]`) and its place in that object (`w[0]`, `b`), found by walking the
    model's attributes, lists, tuples and dicts (micrograd's classes keep their Values so)."""
    wanted = set(parameters)
    places: dict[Value, tuple[str, str]] = {}
    visited: set[int] = set()
    stack: list[tuple[Any, str, str]] = [(model, "", "")]  # (thing, its holder's path, its place in the holder)
    while stack and len(visited) < 100_000:
        thing, holder, place = stack.pop()
        if isinstance(thing, Value):
            if thing in wanted and thing not in places:
                places[thing] = (holder, place)
            continue
        if id(thing) in visited:
            continue
        visited.add(id(thing))
        if isinstance(thing, (list, tuple)):
            items = [(f"{place}[{i}]", x) for i, x in enumerate(thing)]
        elif isinstance(thing, dict):
            items = [(f"{place}[{k!r}]", x) for k, x in thing.items()]
        elif hasattr(thing, "__dict__"):
            path = f"{holder}.{place}" if holder and place else holder or place  # an object: the new holder
            holder, place = path, ""
            attributes = {k: x for k, x in vars(thing).items() if not k.startswith("_")}
            for registry in ("_modules", "_parameters"):  # a Module's registered parts
                attributes.update(getattr(thing, registry, None) or {})
            items = [(k, x) for k, x in attributes.items()]
            items = [(f"{place}.{k}" if place else k, x) for k, x in items]
        else:
            continue
        for name, x in reversed(items):
            if isinstance(x, (Value, list, tuple, dict)) or (hasattr(x, "__dict__") and not isinstance(x, _CODE)):
                stack.append((x, holder, name))
    return places


@dataclass
class Unit:
    """One box of the network: an input, a neuron or the loss, with its nodes on every example."""

    name: str
    kind: str  # "input", "neuron" or "loss"
    title: str = ""
    column: int = 0
    params: list[int] = field(default_factory=list)
    rows: list[list[int]] = field(default_factory=list)  # per example, its nodes in the engine's order
    brief: list[list[int]] = field(default_factory=list)  # per example, the nodes the folded unit shows
    places: list[str] = field(default_factory=list)  # each parameter's place in the model's code


def _classified(order: list[Value], parameters: list[Value], examples: Examples, places: dict
                ) -> tuple[dict[Value, int | None], dict[Value, str], dict[Value, str]]:
    """Each node's example (None for a parameter's), kind (input, param, constant, neuron, loss) and, for a
    neuron's part, its owner: the place in the model of the parameters it reads."""
    in_graph = set(order)
    example: dict[Value, int | None] = {p: None for p in parameters}
    for e, xs in enumerate(examples.inputs):
        example.update((x, e) for x in xs if x in in_graph)
    example.update((t, e) for e, t in enumerate(examples.targets))
    kind: dict[Value, str] = {p: "param" for p in parameters}
    kind.update((t, "loss") for t in examples.targets)
    kind.update((x, "input") for xs in examples.inputs for x in xs)
    owner: dict[Value, str] = {p: places[p][0] for p in parameters}
    constants: list[Value] = []
    for v in order:
        if not v._prev:
            if v not in kind:
                kind[v] = "constant"
                constants.append(v)
            continue
        examples_in = [example[x] for x in v._prev if example.get(x) is not None]
        example[v] = max(examples_in) if examples_in else None
        params = [x for x in v._prev if kind[x] == "param"]
        inner = {owner.get(x) for x in v._prev if x._prev}
        leaves = {kind[x] for x in v._prev if not x._prev}
        if "loss" in leaves or any(kind[x] == "loss" for x in v._prev):
            kind[v] = "loss"  # a target, or the loss already: the loss
        elif params or (len(inner) == 1 and None not in inner and leaves <= {"constant"}):
            owner[v] = owner[params[0]] if params else inner.pop()  # a neuron's part: it reads its
            kind[v] = "neuron"  # parameters, or only that neuron's parts and constants
        else:
            kind[v] = "loss"
    for c in constants:  # a constant belongs where its first consumer is
        user = next(v for v in order if c in v._prev)
        example[c] = example[user]
        if user in owner:
            owner[c] = owner[user]
    return example, kind, owner


class Network(Naming):
    """The loss graph of a network as units (`Unit`) in columns, and the names the page gives its
    nodes: inside a neuron, the lecture's own (`w1`, `x1`, `b`, `n`, `o`) on that neuron's example."""

    def __init__(self, order: list[Value], model: Any, parameters: list[Value], examples: Examples) -> None:
        index = {v: i for i, v in enumerate(order)}
        self.order, self.index = order, index
        places = parameter_places(model, parameters)
        for k, p in enumerate(parameters):  # one the model's attributes do not hold: by its position
            places.setdefault(p, ("", f"parameters()[{k}]"))
        example, kind, owner = _classified(order, parameters, examples, places)
        units, unit_of = self._units(parameters, examples, places, kind, owner)
        count = len(examples.targets)
        for j, unit in enumerate(units):
            if unit.kind != "input":
                unit.rows = [[index[v] for v in order if unit_of[v] == j and example[v] == e and kind[v] != "constant"
                              and kind[v] != "param"] for e in range(count)]
        self.units, self.unit_of, self.example, self.kind = units, unit_of, example, kind
        self._name_nodes(examples)
        for unit in units:
            if unit.kind == "input":
                unit.brief, unit.title = unit.rows, "input"
            elif unit.kind == "neuron":
                unit.brief = [row[-1:] for row in unit.rows]
                unit.title = self._neuron_title(unit)
            else:
                unit.brief = [self._loss_row(e) for e in range(count)]
                unit.title = "Σ (ypred − ygt)²"

    def _units(self, parameters: list[Value], examples: Examples, places: dict, kind: dict, owner: dict
               ) -> tuple[list[Unit], dict[Value, int]]:
        """The units in columns (inputs, the neurons layer by layer, the loss) and each node's unit."""
        order, index = self.order, self.index
        # the neurons, layer by layer: a neuron is one more than the deepest neuron it reads
        layer: dict[str, int] = {}
        for v in order:
            if kind[v] == "neuron":
                below = [layer[owner[x]] + 1 for x in v._prev if kind[x] == "neuron" and owner[x] != owner[v]]
                layer[owner[v]] = max([layer.get(owner[v], 0), *below])
        first = {}
        for k, p in enumerate(parameters):
            first.setdefault(owner[p], k)
        keys = sorted(layer, key=lambda g: (layer[g], first.get(g, len(parameters))))
        columns = 1 + (max(layer.values()) + 1 if layer else 0)
        units: list[Unit] = [Unit(f"x{k}", "input", column=0, rows=[[index[xs[k - 1]]] for xs in examples.inputs])
                             for k in range(1, len(examples.inputs[0]) + 1)]
        unit_of: dict[Value, int] = {x: k for xs in examples.inputs for k, x in enumerate(xs)}
        per_layer: dict[int, int] = {}
        for g in keys:
            j = per_layer.get(layer[g], 0)
            per_layer[layer[g]] = j + 1
            mine = [p for p in parameters if owner[p] == g]
            prefixes = {_OWN.match(p.label)["unit"] if _OWN.match(p.label or "") else None for p in mine}
            name = prefixes.pop() if len(prefixes) == 1 and None not in prefixes else f"L{layer[g]}.N{j}"
            unit = Unit(name, "neuron", column=1 + layer[g], params=[index[p] for p in mine if p in index],
                        places=[f"{g}.{places[p][1]}" if g else places[p][1] for p in mine if p in index])
            units.append(unit)
            unit_of.update((v, len(units) - 1) for v in order if owner.get(v) == g)
        units.append(Unit("loss", "loss", column=columns))
        unit_of.update((v, len(units) - 1) for v in order if v not in unit_of)
        return units, unit_of


    def _neuron_title(self, unit: Unit) -> str:
        """What the neuron computes, as the lecture writes it: `tanh(w·x + b)`."""
        row = unit.rows[0]
        if not row:
            return ""
        out = self.order[row[-1]]
        inner = "w·x + b"
        found = ops.describe(out._op)
        if found and found[0].precedence == ops.ATOM and len(out._prev) == 1:
            return f"{out._op}({inner})"
        return inner if out._op in (ops.WEIGHTED_SUM.name, ops.ADD.name) else self.local[row[-1]].text

    def _loss_row(self, e: int) -> list[int]:
        """Example e's line of the loss: its prediction, its target and its squared error."""
        ypred = self.index[self.predictions[e]]
        target = self.index[self.targets[e]]
        error = next(i for i in self.units[-1].rows[e] if self.order[i].label == f"ex{e}.loss")
        return [ypred, target, error]

    def _name_nodes(self, examples: Examples) -> None:
        """Each node's names: its own label, else within its neuron on its example (`w1*x1`, `o`)."""
        order, index = self.order, self.index
        self.predictions, self.targets = examples.predictions, examples.targets
        local: list[Name | None] = [None] * len(order)
        full: list[str | None] = [None] * len(order)
        self.external: dict[tuple[int, int], dict[int, Name]] = {}
        for j, unit in enumerate(self.units):
            if unit.kind == "input":
                for row in unit.rows:
                    local[row[0]] = label_name(_EXAMPLE.sub("", order[row[0]].label))
                    full[row[0]] = order[row[0]].label
                continue
            if unit.kind != "neuron":
                continue
            given: dict[Value, Name] = {}
            for i, place in zip(unit.params, unit.places, strict=True):
                p = order[i]
                own = _OWN.match(p.label or "")
                text = own["part"] if own and own["unit"] == unit.name else p.label or re.sub(r"^.*\.", "", place)
                given[p] = label_name(text)
                local[i] = given[p]
                full[i] = p.label or f"{unit.name}.{text}"
            code_style = any(name.text.endswith("]") for name in given.values())
            for e, row in enumerate(unit.rows):
                mine = dict(given)
                outside: dict[int, Name] = {}
                for i in row:
                    for x in order[i]._prev:
                        k = index[x]
                        if x in mine or k in row:
                            continue
                        if self.kind[x] == "constant":
                            continue
                        n = len(outside)
                        outside[k] = label_name(f"x[{n}]" if code_style else f"x{n + 1}")
                        mine[x] = outside[k]
                self.external[(j, e)] = outside
                if row:
                    out = order[row[-1]]
                    if not out.label:
                        mine[out] = Name("o")
                        if len(out._prev) == 1 and out._prev[0]._prev and not out._prev[0].label:
                            mine[out._prev[0]] = Name("n")
                for i in row:
                    label = order[i].label
                    prefix = f"ex{e}.{unit.name}."
                    if label.startswith(prefix) and _OWN.match(label):
                        mine[order[i]] = label_name(label[len(prefix):])
                nodes = [*mine.keys(), *(order[i] for i in row if order[i] not in mine)]
                nodes += [c for i in row for c in order[i]._prev if c not in mine and self.kind[c] == "constant"]
                sub = topological_order_of(nodes)
                names = dict(zip(sub, node_names(sub, mine), strict=True))
                for i in row:
                    local[i] = names[order[i]]
                    text = local[i].text
                    full[i] = order[i].label or (f"ex{e}.{unit.name}.{text}" if local[i].level == ops.ATOM
                                                 else f"ex{e}.{unit.name}[{text}]")
        given = {order[i]: label_name(full[i]) for i in range(len(order)) if full[i] is not None}
        everything = node_names(order, given)
        self.full = [full[i] or everything[i].text for i in range(len(order))]
        self.local = [local[i] or everything[i] for i in range(len(order))]
        self.shown = [name.text for name in self.local]
        self.everything = everything
        self.scope = [self._scope(v) for v in order]

    def _scope(self, v: Value) -> str:
        """Where node v's step happens: `ex2 · L0.N1` for a neuron's part on example 2, '' outside neurons."""
        unit, e = self.units[self.unit_of[v]], self.example[v]
        if unit.kind != "neuron" or self.kind[v] == "constant":
            return ""
        return unit.name if e is None else f"ex{e} · {unit.name}"

    def _same_scope(self, j: int, i: int) -> bool:
        """Whether node i is written with its local name in node j's formulas: j is in a neuron and i is
        in j's row, one of the neuron's parameters or one of the row's inputs (`x1`)."""
        vj, vi = self.order[j], self.order[i]
        uj = self.unit_of[vj]
        if self.units[uj].kind != "neuron" or self.kind[vj] == "constant":
            return False
        if self.kind[vi] == "constant":
            return True
        e = self.example[vj]
        if e is None:
            return self.unit_of[vi] == uj and self.example[vi] is None
        return (self.unit_of[vi] == uj and self.example[vi] in (e, None)) or i in self.external.get((uj, e), {})

    def seen(self, j: int, i: int) -> Name:
        if not self._same_scope(j, i):
            return label_name(self.full[i]) if self.kind[self.order[i]] != "constant" else self.everything[i]
        outside = self.external.get((self.unit_of[self.order[j]], self.example[self.order[j]]), {})
        return outside.get(i, self.local[i])

    def notes(self, j: int, inputs: list[int]) -> list[str]:
        v = self.order[j]
        outside = self.external.get((self.unit_of[v], self.example[v]), {})
        named = [f"{outside[i].text} = {self.full[i]}" for i in dict.fromkeys(inputs) if i in outside]
        return [f"where {', '.join(named)}"] if named and self._same_scope(j, j) else []

    def data(self) -> dict:
        """The network as the page draws it: each unit's kind, name, column and nodes."""
        return {
            "examples": len(self.targets),
            "units": [
                {"name": u.name, "kind": u.kind, "title": u.title, "column": u.column, "params": u.params,
                 "rows": u.rows, "brief": u.brief, **({"places": u.places} if u.places else {})}
                for u in self.units
            ],
            "unit_of": [self.unit_of[v] for v in self.order],
            "example_of": [self.example[v] for v in self.order],
        }


def topological_order_of(nodes: list[Value]) -> list[Value]:
    """`nodes` ordered so that each comes after those of its inputs that are among them."""
    wanted = set(nodes)
    placed: list[Value] = []
    done: set[Value] = set()
    for v in nodes:
        stack = [(v, False)]
        while stack:
            node, ready = stack.pop()
            if node in done:
                continue
            if ready:
                done.add(node)
                placed.append(node)
                continue
            stack.append((node, True))
            stack.extend((x, False) for x in reversed(node._prev) if x in wanted and x not in done)
    return placed
