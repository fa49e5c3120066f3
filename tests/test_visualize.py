"""draw_dot: the lecture's record nodes, op nodes, the size limit and the Graphviz install hint."""

import os
import re
import subprocess
import sys
from pathlib import Path

import graphviz
import pytest
from external_tools import require

from glassgrad import Value, draw_dot
from glassgrad.viz.visualize import GraphTooLarge, GraphvizNotInstalled


def lecture_L() -> Value:
    """The lecture's first graph: L = (a*b + c) * f, backpropagated."""
    a, b, c, f = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c"), Value(-2.0, label="f")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    L = d * f
    L.label = "L"
    L.backward()
    return L


def test_dot_source_shows_each_label_data_and_grad():
    source = draw_dot(lecture_L()).source
    for record in [
        "{ a | data 2.0000 | grad 6.0000 }",
        "{ b | data -3.0000 | grad -4.0000 }",
        "{ c | data 10.0000 | grad -2.0000 }",
        "{ e | data -6.0000 | grad -2.0000 }",
        "{ d | data 4.0000 | grad -2.0000 }",
        "{ f | data -2.0000 | grad 4.0000 }",
        "{ L | data -8.0000 | grad 1.0000 }",
    ]:
        assert record in source
    assert source.count('label="*"') == 2 and source.count('label="+"') == 1
    assert source.count("->") == 9  # 3 operations: 2 inputs in and 1 result out each
    assert "rankdir=LR" in source


def test_op_node_sits_between_inputs_and_result():
    a, b = Value(1.5, label="a"), Value(2.0, label="b")
    out = a * b
    source = draw_dot(out).source
    assert "v0 -> v2op" in source and "v1 -> v2op" in source and "v2op -> v2" in source


def test_a_value_used_twice_gets_two_edges():
    a = Value(3.0, label="a")
    b = a + a
    assert draw_dot(b).source.count("v0 -> v1op") == 2


def test_format_and_direction_are_passed_on():
    drawing = draw_dot(lecture_L(), format="png", rankdir="TB")
    assert isinstance(drawing, graphviz.Digraph)
    assert drawing.format == "png" and "rankdir=TB" in drawing.source


def svg_size(drawing) -> tuple[float, float]:
    """The rendered SVG's width and height in CSS pixels (Graphviz writes points: 3/4 of a pixel)."""
    svg = drawing.pipe(format="svg", encoding="utf-8")
    width, height = (float(re.search(rf'{k}="([\d.]+)pt"', svg)[1]) for k in ("width", "height"))
    return width * 4 / 3, height * 4 / 3


def chain(n: int) -> Value:
    x = Value(0.5, label="x")
    for _ in range(n):
        x = (x * 0.9).tanh()
    return x


@pytest.mark.parametrize("max_width", [150, 300, 600])
def test_a_drawing_wider_than_max_width_is_scaled_down_to_it_keeping_its_proportions(max_width):
    require("dot", "apt-get install graphviz")
    root = chain(6)
    full = svg_size(draw_dot(root))
    fitted = svg_size(draw_dot(root, max_width=max_width))
    assert full[0] > 600  # wide enough to be scaled at every max_width here
    assert fitted[0] == pytest.approx(max_width, abs=2)
    assert fitted[0] / fitted[1] == pytest.approx(full[0] / full[1], rel=0.02)
    one = svg_size(draw_dot(Value(1.0, label="a")))
    small = svg_size(draw_dot(Value(1.0, label="a"), max_width=max_width))
    assert small[0] == pytest.approx(min(one[0], max_width), abs=2)  # a drawing that fits is left as it is


def test_top_to_bottom_makes_a_long_chain_narrow():
    require("dot", "apt-get install graphviz")
    wide, tall = svg_size(draw_dot(chain(6))), svg_size(draw_dot(chain(6), rankdir="TB"))
    assert wide[0] > wide[1] and tall[1] > tall[0] and tall[0] < wide[0] / 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rankdir": "left"}, r"rankdir: expected one of \('LR', 'TB', 'RL', 'BT'\).*got 'left'"),
        ({"max_width": 0}, r"max_width: expected a number of pixels > 0, got 0"),
        ({"max_width": float("nan")}, r"max_width: expected a number of pixels > 0, got nan"),
        ({"max_width": "700"}, r"max_width: expected a number of pixels > 0, got '700'"),
        ({"max_width": True}, r"max_width: expected a number of pixels > 0, got True"),
    ],
)
def test_bad_direction_or_width_is_refused(options, message):
    with pytest.raises(ValueError, match=message):
        draw_dot(lecture_L(), **options)


def test_record_special_characters_are_escaped():
    source = draw_dot(Value(1.0, label="x{1}|<y>")).source
    assert r"x\{1\}\|\<y\>" in source


def test_too_large_graph_is_refused_with_the_count_and_a_way_out():
    x = Value(0.5, label="x")
    for _ in range(200):
        x = x * 1.0  # 2 new Values per step: the product and the constant
    with pytest.raises(GraphTooLarge) as e:
        draw_dot(x)
    assert "401 Values" in str(e.value) and "max_nodes=300" in str(e.value) and "max_nodes=None" in str(e.value)
    assert draw_dot(x, max_nodes=None).source.count("shape=record") == 401
    with pytest.raises(GraphTooLarge):
        draw_dot(x, max_nodes=400)


def test_renders_svg(tmp_path):
    require("dot", "apt-get install graphviz")
    path = draw_dot(lecture_L()).render(tmp_path / "graph")
    svg = (tmp_path / "graph.svg").read_text()
    assert path.endswith("graph.svg") and svg.lstrip().startswith("<?xml") and "<svg" in svg
    for text in ["data 2.0000", "grad 6.0000", "data &#45;8.0000", "grad 1.0000"]:
        assert text in svg
    assert "image/svg+xml" in draw_dot(lecture_L())._repr_mimebundle_()  # what Jupyter shows


def test_without_dot_source_works_and_rendering_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere on PATH
    drawing = draw_dot(lecture_L())
    assert "{ L | data -8.0000 | grad 1.0000 }" in drawing.source
    for render in [lambda: drawing.render(tmp_path / "graph"), lambda: drawing.pipe(), drawing._repr_image_svg_xml]:
        with pytest.raises(GraphvizNotInstalled) as e:
            render()
        message = str(e.value)
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
        assert "conda install" in message
        assert isinstance(e.value, graphviz.ExecutableNotFound)


@pytest.mark.slow
def test_every_snippet_in_the_visualisation_docs_runs(tmp_path, monkeypatch):
    require("dot", "apt-get install graphviz")
    docs = Path(__file__).resolve().parents[1] / "docs" / "visualisation.md"
    blocks = re.findall(r"```(\w+)\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    bin_dir = str(Path(sys.executable).parent)
    monkeypatch.setenv("PATH", bin_dir + os.pathsep + os.environ["PATH"])  # the `glassgrad` command
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))  # of this checkout
    for (language, code), after in zip(blocks, blocks[1:] + [("", "")], strict=True):
        if language in ("python", "sh"):
            command = [sys.executable, "-c", code] if language == "python" else ["bash", "-c", code]
            done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
            assert done.returncode == 0, (code, done.stderr)
            if language == "sh":
                assert after == ("text", done.stdout)  # the output the docs show is the real output
    assert (tmp_path / "graph.svg").exists() and (tmp_path / "backprop.html").exists()
    assert (tmp_path / "watch.html").exists()


def test_grads_that_are_values_after_create_graph_show_their_numbers():
    x = Value(3.0, label="x")
    y = x * x * x
    y.label = "y"
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value) and isinstance(y.grad, Value)
    source = draw_dot(y).source
    assert "{ x | data 3.0000 | grad 27.0000 }" in source and "{ y | data 27.0000 | grad 1.0000 }" in source


def test_a_tensor_or_a_number_is_refused_with_what_draw_dot_draws():
    from glassgrad import Tensor

    with pytest.raises(TypeError, match=r"draw_dot: got a Tensor; draw_dot draws graphs of Values \(the scalar"):
        draw_dot(Tensor([1.0, 2.0], requires_grad=True).sum())
    for root in (2.0, None, [Value(1.0)]):
        with pytest.raises(TypeError, match=r"draw_dot: got \w+; draw_dot draws the graph of a Value"):
            draw_dot(root)


def test_an_mlps_parameters_inputs_and_neurons_are_named_in_the_drawing():
    from glassgrad.nn import MLP

    model = MLP(3, [4, 4, 1], activation="tanh", output_activation="tanh", seed=0)
    source = draw_dot(model([2.0, 3.0, -1.0])).source
    for name in ("L0.N0.w1", "L0.N3.b", "L1.N2.w4", "L2.N0.b", "x1", "x3", "L0.N1.n", "L1.N3.o", "L2.N0.o"):
        assert f"{{ {name} |" in source
