"""`glassgrad explain EXPR NAME=VALUE ...`: compute a formula with Values, print every input's
gradient and write the backprop stepper page for it.

The formula is parsed with `ast` and checked against a whitelist (numbers, names, + - * / **,
unary minus, parentheses, and the functions exp log tanh relu sigmoid); it never reaches eval or exec.
"""

from __future__ import annotations

import argparse
import ast
import keyword
import operator
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from glassgrad import ops
from glassgrad.engine import Value

# the operations written as calls (`tanh(x)`) that a Value has as methods
FUNCTIONS = tuple(name for name, op in ops.OPS.items() if op.precedence == ops.ATOM and hasattr(Value, name))
DEFAULT_PAGE = "glassgrad-out/explain.html"
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


def build(expression: str, values: Mapping[str, float]) -> tuple[Value, dict[str, Value]]:
    """The Value that `expression` computes from `values`, and the leaf Value of each name.

    Every name used must be given and every name given must be used.
    """
    tree = parse(expression)
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n.id not in FUNCTIONS}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in used and node.id not in values:
            raise ExplainError(
                f"undefined name {_where(node, expression.strip())}; give it a value with {node.id}=NUMBER"
            )
    unused = [name for name in values if name not in used]
    if unused:
        raise ExplainError(f"{unused[0]}={values[unused[0]]!r} is given but {unused[0]} is not in the expression")
    leaves = {name: Value(values[name], label=name) for name in values}

    source = expression.strip()

    def written(node: ast.expr) -> str:
        """The part of the formula that `node` is, as the user wrote it (on one line)."""
        return " ".join((ast.get_source_segment(source, node) or ast.unparse(node)).split())

    def value(node: ast.expr) -> Value | float:
        """The node's result; a new Value is labelled with the part of the formula it computes."""
        result = compute(node)
        if isinstance(result, Value) and not result.label:
            result.label = written(node)
        return result

    def constant(node: ast.expr, number: Value | float) -> Value:
        """A number of the formula as a leaf Value labelled as written (`2`, `0.5`)."""
        return number if isinstance(number, Value) else Value(number, label=written(node))

    def compute(node: ast.expr) -> Value | float:
        if isinstance(node, ast.Constant):
            return float(node.value)
        if isinstance(node, ast.Name):
            return leaves[node.id]
        if isinstance(node, ast.UnaryOp):
            return -value(node.operand)
        if isinstance(node, ast.Call):
            return getattr(constant(node.args[0], value(node.args[0])), node.func.id)()
        left, right = value(node.left), value(node.right)
        if isinstance(node.op, ast.Pow):  # a number exponent stays a number: the engine's x**k
            if not isinstance(left, Value) and not isinstance(right, Value):
                left = constant(node.left, left)  # keep constant parts in the graph, as they are in the formula
            return left**right
        return _BINARY[type(node.op)](constant(node.left, left), constant(node.right, right))

    try:
        root = value(tree.body)
    except RecursionError:
        raise ExplainError("the expression is nested too deeply") from None
    if not isinstance(root, Value):
        root = Value(root)
    if root not in leaves.values():
        root.label = "out"  # what the command prints: out = EXPR
    return root, leaves


def explain(args: argparse.Namespace) -> int:
    """Run `glassgrad explain`: print the result and gradients, write the page; the exit status."""
    from glassgrad.backprop_page import stepper
    from glassgrad.visualize import GraphTooLarge, GraphvizNotInstalled, draw_dot

    try:
        root, leaves = build(args.expression, parse_values(args.values))
        root.backward()
        page = stepper(root).html
        svg = draw_dot(root).pipe(format="svg", encoding="utf-8") if args.svg else None
    except (ExplainError, GraphTooLarge) as e:
        print(f"glassgrad explain: error: {e}", file=sys.stderr)
        return 2
    except GraphvizNotInstalled as e:
        print(f"glassgrad explain: error: {e}", file=sys.stderr)
        return 1
    shown = repr if args.full else _rounded
    formula = args.expression.strip()
    computed = "" if formula == root.label else f" = {formula}"  # a lone name is not written twice
    print(f"{root.label}{computed} = {shown(root.data)}\n")
    width = max(len("name"), *(len(name) for name in leaves))
    column = 22 if args.full else 10
    print(f"{'name':<{width}}  {'value':<{column}}  gradient d({root.label})/d(name)")
    for name, leaf in leaves.items():
        print(f"{name:<{width}}  {shown(leaf.data):<{column}}  {shown(leaf.grad)}")
    try:
        written = [_write(args.out, page)] + ([_write(args.svg, svg)] if svg is not None else [])
    except OSError as e:
        print(f"glassgrad explain: error: cannot write: {e}", file=sys.stderr)
        return 1
    print(f"\nwrote {', '.join(written)}: open the page in a browser to step through backpropagation")
    return 0


def _rounded(x: float) -> str:
    """x to 4 decimals, as the lecture's drawings show numbers: -1.4999999999999993 is -1.5000."""
    return f"{x:.4f}"


def _write(path: str, text: str) -> str:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return str(target)


def add_command(commands: argparse._SubParsersAction) -> None:
    """Add `explain` to the `glassgrad` command line."""
    parser = commands.add_parser(
        "explain",
        help="compute a formula, print its gradients and write a page that steps through backpropagation",
        description="Compute EXPR with glassgrad Values, print d(EXPR)/d(name) for every name, and write "
        "the backprop stepper page. EXPR uses numbers, names, + - * / **, unary minus, parentheses and "
        f"{', '.join(FUNCTIONS)}. Put -- before an EXPR that starts with '-'.",
    )
    parser.add_argument("expression", metavar="EXPR", help='e.g. "tanh(x1*w1 + x2*w2 + b)"')
    parser.add_argument("values", nargs="*", metavar="NAME=VALUE", help="a number for each name, e.g. x1=2")
    parser.add_argument("--out", default=DEFAULT_PAGE, metavar="FILE.html", help=f"the page (default {DEFAULT_PAGE})")
    parser.add_argument("--svg", metavar="FILE.svg", help="also write the graph drawing as SVG")
    parser.add_argument("--full", action="store_true", help="print every number in full instead of to 4 decimals")
    parser.set_defaults(run=explain)
