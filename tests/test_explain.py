"""`glassgrad explain`: the same numbers as the engine, and hostile input refused with status 2."""

import builtins
import subprocess
import sys

import pytest
from external_tools import require

from glassgrad import Value
from glassgrad.apps import cli
from glassgrad.viz import explain

NEURON = ["tanh(x1*w1 + x2*w2 + b)", "x1=2", "x2=0", "w1=-3", "w2=1", "b=6.8813735870195432"]


def run(argv: list[str]) -> int:
    """`glassgrad explain ARGV` in this process; the exit status."""
    try:
        return cli.main(["explain", *argv])
    except SystemExit as e:
        return e.code


def engine_neuron() -> tuple[Value, list[Value]]:
    x1, x2, w1, w2 = Value(2.0), Value(0.0), Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    return o, [x1, x2, w1, w2, b]


def test_build_gives_the_engines_numbers():
    root, leaves = explain.evaluate(NEURON[0], explain.parse_values(NEURON[1:]))
    root.backward()
    o, inputs = engine_neuron()
    assert root.data == o.data
    assert [leaf.grad for leaf in leaves.values()] == [x.grad for x in inputs]
    assert list(leaves) == ["x1", "x2", "w1", "w2", "b"] and root.label == "out"


@pytest.mark.parametrize(
    ("expression", "values", "want"),
    [
        ("x*x + 3/x - 2**x", {"x": 1.5}, lambda x: x * x + 3 / x - 2**x),
        ("-(a - b) ** 2 / 4", {"a": 1.0, "b": -2.5}, lambda a, b: -((a - b) ** 2) / 4),
        (
            "exp(u) + log(v) + relu(-u) + sigmoid(u*v)",
            {"u": 0.3, "v": 2.0},
            lambda u, v: u.exp() + v.log() + (-u).relu() + (u * v).sigmoid(),
        ),
        ("y ** z + 2 * 3", {"y": 2.0, "z": 0.5}, lambda y, z: y**z + Value(2.0) * 3.0),
    ],
)
def test_formulas_match_the_same_computation_written_in_python(expression, values, want):
    root, leaves = explain.evaluate(expression, values)
    root.backward()
    inputs = [Value(v) for v in values.values()]
    out = want(*inputs)
    out.backward()
    assert root.data == out.data
    assert [leaf.grad for leaf in leaves.values()] == [x.grad for x in inputs]


def test_command_prints_the_table_and_writes_the_page_and_svg(tmp_path, capsys):
    require("dot", "apt-get install graphviz")
    page, svg = tmp_path / "out" / "neuron.html", tmp_path / "neuron.svg"
    assert run([*NEURON, "--out", str(page), "--svg", str(svg)]) == 0
    o, (x1, x2, w1, w2, b) = engine_neuron()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "out = tanh(x1*w1 + x2*w2 + b) = 0.7071"  # 4 decimals, as the lecture shows numbers
    rows = {line.split()[0]: line.split()[1:] for line in out[3:8]}
    assert rows == {
        "x1": ["2.0000", "-1.5000"],
        "x2": ["0.0000", "0.5000"],
        "w1": ["-3.0000", "1.0000"],
        "w2": ["1.0000", "0.0000"],
        "b": ["6.8814", "0.5000"],
    }
    assert run([*NEURON, "--out", str(page), "--full"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"out = tanh(x1*w1 + x2*w2 + b) = {o.data!r}"
    rows = {line.split()[0]: line.split()[1:] for line in out[3:8]}
    assert rows["x1"] == ["2.0", repr(x1.grad)] and rows["b"] == [repr(6.8813735870195432), repr(b.grad)]
    html = page.read_text()
    assert "x1.grad += (∂(x1*w1)/∂x1 = w1 = -3.0000) × (x1*w1).grad (0.5000) = -1.5000" in html
    assert "<svg" in svg.read_text() and "grad &#45;1.5000" in svg.read_text()


def test_the_installed_command_runs(tmp_path):
    require("dot", "apt-get install graphviz")
    page = tmp_path / "p.html"
    done = subprocess.run(
        [sys.executable, "-m", "glassgrad", "explain", "a*a", "a=3", "--out", str(page)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "a     3.0000      6.0000" in done.stdout and page.exists()


def test_nan_is_shown_cleanly_on_one_line(tmp_path, capsys):
    require("dot", "apt-get install graphviz")
    assert run(["x", "x=nan", "--out", str(tmp_path / "p.html")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "x = nan" and out[3].split() == ["x", "nan", "1.0000"]


HOSTILE = [
    ("__import__('os').system('true')", "__import__"),
    ("x.__class__", "attribute access"),
    ("open('f')", "open('f')"),
    ("(lambda: x)()", "lambda"),
    ("'x' * x", "str constant"),
    ("[x for x in (1, 2)]", "comprehension"),
    ("x[0]", "indexing"),
    ("x if x else 1", "conditional"),
    ("x < 1", "comparison"),
    ("x and 1", "and/or"),
    ("f'{x}'", "f-string"),
    ("(y := x)", "assignment"),
    ("exp", "exp is a function"),
    ("exp(x, x)", "exactly one argument"),
    ("tanh(x=x)", "exactly one argument"),
    ("x @ x", "MatMult"),
    ("x // 2", "FloorDiv"),
    ("~x", "Invert"),
    ("x + 2j", "complex constant '2j'"),
    ("x + 1.2.3", "column"),
    ("x + 1e", "invalid decimal literal"),
    ("x + 08", "leading zeros"),
    ("x + 1" + "0" * 400, "too large"),
    ("x +", "invalid syntax"),
    ("(x", "never closed"),
    ("", "empty"),
    ("x + y", "undefined name 'y'"),
    ("x\n+ os", "invalid syntax"),
    ("x" + " + x" * 5 + "; import os", "invalid syntax"),
]


@pytest.mark.parametrize(("expression", "pointer"), HOSTILE)
def test_hostile_or_malformed_expressions_exit_2_and_write_nothing(expression, pointer, tmp_path, capsys):
    assert run(["--out", str(tmp_path / "p.html"), "--svg", str(tmp_path / "g.svg"), "--", expression, "x=1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("glassgrad explain: error: ") and pointer in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("values", "pointer"),
    [
        (["x=abc"], "'abc' is not a number"),
        (["x=1.2.3"], "'1.2.3' is not a number"),
        (["x"], "expected NAME=VALUE"),
        (["x=1", "x=2"], "x is given twice"),
        (["x=1", "y=2"], "y=2.0 is given but y is not in the expression"),
        (["x=1", "exp=2"], "'exp' cannot be a name"),
        (["x=1", "import=2"], "'import' cannot be a name"),
        ([], "undefined name 'x'"),
    ],
)
def test_bad_values_exit_2_and_write_nothing(values, pointer, tmp_path, capsys):
    assert run(["x * 2", *values, "--out", str(tmp_path / "p.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and pointer in err
    assert list(tmp_path.iterdir()) == []


def test_argparse_errors_exit_2(tmp_path):
    assert run([]) == 2
    assert run(["x", "x=1", "--bogus"]) == 2


def test_never_evaluates_python(monkeypatch):
    def refuse(*args):
        raise AssertionError("eval/exec called")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    root, _ = explain.evaluate("sigmoid(x) * 2", {"x": 0.0})
    assert root.data == 1.0


def test_without_dot_exit_1_with_the_install_hint_and_no_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert run([*NEURON, "--out", str(tmp_path / "p.html")]) == 1
    assert "apt-get install graphviz" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_every_intermediate_node_is_labelled_with_its_part_of_the_formula():
    from glassgrad.autograd import topological_order

    root, leaves = explain.evaluate("tanh(x1*w1 + x2*w2 + b)", explain.parse_values(NEURON[1:]))
    labels = [v.label for v in topological_order(root)]
    assert labels == ["x1", "w1", "x1*w1", "x2", "w2", "x2*w2", "x1*w1 + x2*w2", "b", "x1*w1 + x2*w2 + b", "out"]
    root, _ = explain.evaluate("-(a - b) ** 2 / 4 + 2*a", {"a": 1.0, "b": -2.5})
    labels = [v.label for v in topological_order(root)]
    assert labels == ["a", "b", "a - b", "(a - b) ** 2", "-(a - b) ** 2", "4", "-(a - b) ** 2 / 4", "2", "2*a", "out"]
    root, leaves = explain.evaluate("x", {"x": 2.0})  # a lone name stays itself
    assert root is leaves["x"] and root.label == "x"
