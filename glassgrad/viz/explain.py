"""`glassgrad explain EXPR NAME=VALUE ...`: compute a formula with Values, print every input's
gradient and write the backprop stepper page for it.

The formula is parsed with `ast` and checked against a whitelist (numbers, names, + - * / **,
unary minus, parentheses, and the functions exp log tanh relu sigmoid); it never reaches eval or exec.
"""

from __future__ import annotations

import ast
import keyword
import operator
from collections.abc import Mapping, Sequence

from glassgrad import ops
from glassgrad.autograd import topological_order
from glassgrad.engine import Value

# the registry's elementwise operations of one number written as calls (`tanh(x)`): a Value's methods
FUNCTIONS = tuple(op.method for op in ops.elementwise("unary") if op.on_floats and op.precedence == ops.ATOM)
MAX_LENGTH = 1000  # characters of a formula: bounds parsing, labels and the page
MAX_VALUES = 200  # Values of its graph: bounds the page and Graphviz's layout (well under a second)
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_FORBIDDEN = {  # what the user wrote, in words, for the commonest things outside the whitelist
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "a conditional expression",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "an assignment",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.Starred: "unpacking",
}


class ExplainError(ValueError):
    """Input `explain` refuses; the message names the offending part."""


def _where(node: ast.AST, source: str) -> str:
    return f"{ast.get_source_segment(source, node)!r} at column {node.col_offset + 1}"


def _check(node: ast.AST, source: str, called: set[int]) -> None:
    """Raise `ExplainError` unless `node` (one node of the tree, not its children) is allowed."""
    if isinstance(node, (ast.Expression, ast.operator, ast.unaryop, ast.Load)):
        if isinstance(node, ast.operator) and type(node) not in _BINARY and not isinstance(node, ast.Pow):
            raise ExplainError(f"operator {type(node).__name__} is not allowed; use + - * / **")
        if isinstance(node, ast.unaryop) and not isinstance(node, ast.USub):
            raise ExplainError(f"unary operator {type(node).__name__} is not allowed; only unary minus is")
    elif isinstance(node, ast.Constant):
        if type(node.value) not in (int, float):
            raise ExplainError(
                f"{type(node.value).__name__} constant {_where(node, source)} is not allowed; use numbers"
            )
        try:
            float(node.value)
        except OverflowError:
            raise ExplainError(f"number {_where(node, source)} is too large") from None
    elif isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
            raise ExplainError(f"call {_where(node, source)} is not allowed; only {', '.join(FUNCTIONS)} can be called")
        if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
            raise ExplainError(f"{node.func.id} takes exactly one argument: {_where(node, source)}")
        called.add(id(node.func))
    elif isinstance(node, ast.Name):
        if node.id in FUNCTIONS and id(node) not in called:
            raise ExplainError(f"{node.id} is a function; call it as {node.id}(...): {_where(node, source)}")
    elif isinstance(node, (ast.BinOp, ast.UnaryOp)):
        pass  # their operators are checked as nodes of their own
    else:
        what = _FORBIDDEN.get(type(node), type(node).__name__)
        where = _where(node, source) if hasattr(node, "col_offset") else repr(source)
        raise ExplainError(f"{what} is not allowed: {where}")


def parse(expression: str) -> ast.Expression:
    """The syntax tree of `expression`, if it uses only the whitelisted syntax; else `ExplainError`."""
    source = expression.strip()
    if not source:
        raise ExplainError("the expression is empty")
    if len(source) > MAX_LENGTH:
        raise ExplainError(f"the expression has {len(source)} characters, more than explain's limit of {MAX_LENGTH}")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as e:
        column = f" at column {e.offset}" if e.offset else ""
        raise ExplainError(f"{e.msg}{column}: {source[(e.offset or 1) - 1 :]!r}") from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise ExplainError(f"cannot parse the expression: {e}") from None
    called: set[int] = set()
    for node in ast.walk(tree):  # breadth first, so a call is checked before its function's name
        _check(node, source, called)
    return tree


def parse_values(items: Sequence[str]) -> dict[str, float]:
    """`["x=2", "w=-3"]` as `{"x": 2.0, "w": -3.0}`, or `ExplainError` naming the bad item."""
    values: dict[str, float] = {}
    for item in items:
        name, equals, number = item.partition("=")
        name = name.strip()
        if not equals:
            raise ExplainError(f"expected NAME=VALUE, got {item!r}")
        if not name.isidentifier() or keyword.iskeyword(name) or name in FUNCTIONS:
            raise ExplainError(f"{item!r}: {name!r} cannot be a name (use letters, digits and _; not a function)")
        if name in values:
            raise ExplainError(f"{item!r}: {name} is given twice")
        try:
            values[name] = float(number)
        except ValueError:
            raise ExplainError(f"{item!r}: {number!r} is not a number") from None
    return values


def evaluate(expression: str, values: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
    """The Value that `expression` computes from `values`, and the leaf Value of each name.

    Every name used must be given and every name given must be used.
    """
    tree = parse(expression)
    leaves = _leaves(tree, expression, values)
    try:
        root = _Formula(expression.strip(), leaves).value(tree.body)
    except RecursionError:
        raise ExplainError("the expression is nested too deeply") from None
    if not isinstance(root, Value):
        root = Value(root)
    if root not in leaves.values():
        root.label = "out"  # what the command prints: out = EXPR
    size = len(topological_order(root))
    if size > MAX_VALUES:
        raise ExplainError(
            f"the expression makes {size} Values, more than explain's limit of {MAX_VALUES}: its page would be "
            "unreadable; explain a part of it"
        )
    return root, leaves


def _leaves(tree: ast.Expression, expression: str, values: Mapping[str, float]) -> dict[str, Value]:
    """A leaf Value for each name of `values`, once every name used is given and every name given used."""
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in FUNCTIONS}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in used and node.id not in values:
            raise ExplainError(
                f"undefined name {_where(node, expression.strip())}; give it a value with {node.id}=NUMBER"
            )
    unused = [name for name in values if name not in used]
    if unused:
        raise ExplainError(f"{unused[0]}={values[unused[0]]!r} is given but {unused[0]} is not in the expression")
    return {name: Value(values[name], label=name) for name in values}


class _Formula:
    """The Values a parsed formula computes from its leaves, each labelled with the part it computes."""

    def __init__(self, source: str, leaves: dict[str, Value]) -> None:
        self.source, self.leaves = source, leaves

    def written(self, node: ast.expr) -> str:
        """The part of the formula that `node` is, as the user wrote it (on one line)."""
        return " ".join((ast.get_source_segment(self.source, node) or ast.unparse(node)).split())

    def value(self, node: ast.expr) -> Value | float:
        """The node's result; a new Value is labelled with the part of the formula it computes."""
        result = self.compute(node)
        if isinstance(result, Value) and not result.label:
            result.label = self.written(node)
        return result

    def constant(self, node: ast.expr, number: Value | float) -> Value:
        """A number of the formula as a leaf Value labelled as written (`2`, `0.5`)."""
        return number if isinstance(number, Value) else Value(number, label=self.written(node))

    def compute(self, node: ast.expr) -> Value | float:
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return self.leaves[node.id]
        if isinstance(node, ast.UnaryOp):
            return -self.value(node.operand)
        if isinstance(node, ast.Call):
            return getattr(self.constant(node.args[0], self.value(node.args[0])), node.func.id)()
        left, right = self.value(node.left), self.value(node.right)
        if isinstance(node.op, ast.Pow):  # a number exponent stays a number: the engine's x**k
            if not isinstance(left, Value) and not isinstance(right, Value):
                left = self.constant(node.left, left)  # keep constant parts in the graph, as they are in the formula
            return left**right
        return _BINARY[type(node.op)](self.constant(node.left, left), self.constant(node.right, right))
