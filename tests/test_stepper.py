"""The backprop stepper: what it records from the engine, and the page in a real browser."""

import importlib
import re
from pathlib import Path

import pytest
from external_tools import require

import glassgrad
from glassgrad import Value
from glassgrad.autograd import topological_order
from glassgrad.nn import MLP
from glassgrad.viz.backprop_page import record, stepper
from glassgrad.viz.explain import evaluate
from glassgrad.viz.visualize import GraphTooLarge

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def neuron() -> tuple[Value, dict[str, Value]]:
    """The lecture's neuron: o = tanh(x1*w1 + x2*w2 + b), labelled as in the lecture."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}


def reused() -> Value:
    a = Value(3.0, label="a")
    b = a + a
    b.label = "b"
    return b


def run_of(root: Value) -> dict:
    return record(root, topological_order(root))


def test_forward_steps_follow_the_engine_order_then_backward_steps_its_reverse():
    o, _ = neuron()
    run = run_of(o)
    names = [node["name"] for node in run["nodes"]]
    forward = [s for s in run["steps"] if s["phase"] == "forward"]
    backward = [s for s in run["steps"] if s["phase"] == "backward"]
    results = [name for name, v in zip(names, topological_order(o), strict=True) if v._prev]
    assert [names[s["node"]] for s in forward] == results  # the leaves are given: a step per result
    assert results == ["(x1*w1)", "(x2*w2)", "(x1*w1 + x2*w2)", "n", "o"]
    assert names == [v.label if v.label.isidentifier() else f"({v.label})" for v in topological_order(o)]
    assert [names[s["node"]] for s in backward] == ["o", "o", "n", "(x1*w1 + x2*w2)", "(x2*w2)", "(x1*w1)"]
    assert forward[-1]["lines"] == ["o = tanh(n) = tanh(0.8814) = 0.7071"]


def test_chain_rule_lines_carry_the_engine_numbers():
    o, _ = neuron()
    lines = [line for s in run_of(o)["steps"] for line in s["lines"]]
    assert "n.grad += (∂o/∂n = 1 − o² = 0.5000) × o.grad (1.0000) = 0.5000   ⇒ n.grad = 0.5000" in lines
    assert "x1.grad += (∂(x1*w1)/∂x1 = w1 = -3.0000) × (x1*w1).grad (0.5000) = -1.5000   ⇒ x1.grad = -1.5000" in lines
    assert "w2.grad += (∂(x2*w2)/∂w2 = x2 = 0.0000) × (x2*w2).grad (0.5000) = 0.0000   ⇒ w2.grad = 0.0000" in lines


def test_recorded_grads_are_the_engines_exact_grads_and_the_graph_is_untouched():
    o, leaves = neuron()
    run = run_of(o)
    assert all(v.grad == 0.0 for v in leaves.values())  # recording does not accumulate into .grad
    last = {}
    for step in run["steps"]:
        for node, shown, exact in step.get("grads", []):
            last[run["nodes"][node]["name"]] = (shown, exact)
    o.backward()
    for name, leaf in leaves.items():
        assert last[name] == (f"{leaf.grad:.4f}", repr(leaf.grad))
    assert {name: last[name][0] for name in ("x1", "w1", "x2", "w2")} == {
        "x1": "-1.5000",
        "w1": "1.0000",
        "x2": "0.5000",
        "w2": "0.0000",
    }


def test_a_node_used_twice_shows_both_contributions_accumulating():
    step = run_of(reused())["steps"][-1]
    assert step["lines"] == [
        "a.grad += (∂b/∂a = 1.0000) × b.grad (1.0000) = 1.0000   ⇒ a.grad = 1.0000",
        "a.grad += (∂b/∂a = 1.0000) × b.grad (1.0000) = 1.0000   ⇒ a.grad = 2.0000",
    ]
    assert step["grads"] == [[0, "2.0000", "2.0"]]  # the engine's grad after the step


def test_local_derivative_formulas_per_operation():
    x, y = Value(2.0, label="x"), Value(0.5, label="y")
    formulas = {}
    for out in [x / y, x**y, x**3, x.exp(), x.log(), x.sigmoid(), (-x).relu(), x - y]:
        out.label = "o"
        formulas[out._op] = run_of(out)["nodes"][-1]["formulas"]
    assert formulas["/"] == ["∂o/∂x = 1/y = 2.0000", "∂o/∂y = −x/y² = -8.0000"]
    assert formulas["**"][0] == "∂o/∂x = y·x^(y − 1) = 0.3536"
    assert formulas["**3"] == ["∂o/∂x = 3·x^(3 − 1) = 12.0000"]
    assert formulas["exp"] == ["∂o/∂x = o = 7.3891"]
    assert formulas["log"] == ["∂o/∂x = 1/x = 0.5000"]
    assert formulas["sigmoid"] == ["∂o/∂x = o·(1 − o) = 0.1050"]
    assert formulas["relu"] == ["∂o/∂(-x) = 1 if o > 0 else 0 = 0.0000"]  # -x is unlabelled: named from x
    assert formulas["-"] == ["∂o/∂x = 1.0000", "∂o/∂y = -1.0000"]  # a constant derivative is just its number


def test_a_tiny_mlp_loss_on_one_example_is_recorded():
    model = MLP(2, [3, 1], seed=0)
    loss = (model([1.0, -2.0]) - 1.0) ** 2
    run = run_of(loss)
    order = topological_order(loss)
    with_rules = sum(v._rule is not None for v in order)
    assert len(run["steps"]) == sum(bool(v._prev) for v in order) + 1 + with_rules
    linear = [s for s in run["steps"] if s["phase"] == "backward" and order[s["node"]]._op == "weighted_sum"]
    assert sorted(len(s["lines"]) for s in linear) == [5, 5, 5, 7]  # w, x and b of each neuron
    loss.backward()
    assert [node["grad"] for node in run["nodes"]] == [f"{v.grad:.4f}" for v in order]


def test_size_limit_and_the_package_level_name():
    x = Value(1.0)
    for _ in range(200):
        x = x + 1.0
    with pytest.raises(GraphTooLarge):
        stepper(x)
    importlib.import_module("glassgrad.viz.backprop_page")  # loading the module leaves the package-level function
    assert "a.grad += " in glassgrad.stepper(reused()).html


def open_page(browser, root: Value, path: Path):
    """The saved page for `root`, loaded from disk, and the list of every URL it requested."""
    stepper(root).save(path)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    return page, requests, errors


def shown(page, name: str) -> tuple[str, str]:
    """The data and grad texts of the graph node labelled `name`."""
    return tuple(
        page.evaluate(
            """name => {
            for (const g of document.querySelectorAll("g.node")) {
                const t = g.querySelectorAll("text");
                if (t.length === 3 && t[0].textContent === name) return [t[1].textContent, t[2].textContent];
            }
        }""",
            name,
        )
    )


@pytest.mark.slow
def test_page_steps_through_the_neuron_and_shows_the_engine_grads(browser, tmp_path):
    o, leaves = neuron()
    page, requests, errors = open_page(browser, o, tmp_path / "neuron.html")
    total = len(run_of(o)["steps"]) + 1  # and a summary at the end
    assert page.inner_text("#counter") == f"step 0 of {total}"
    assert shown(page, "x1") == ("data 2.0000", "grad 0.0000")  # an input is given
    assert shown(page, "x1*w1") == ("data ?", "grad 0.0000")
    page.keyboard.press("ArrowRight")
    assert shown(page, "x1*w1") == ("data -6.0000", "grad 0.0000")
    for _ in range(total - 2):
        page.click("#next")
    assert page.inner_text("#counter") == f"step {total - 1} of {total} · backward"
    o.backward()
    for name, leaf in leaves.items():
        assert shown(page, name) == (f"data {leaf.data:.4f}", f"grad {leaf.grad:.4f}")
    assert [shown(page, name)[1] for name in ("x1", "w1", "x2", "w2")] == [
        "grad -1.5000",
        "grad 1.0000",
        "grad 0.5000",
        "grad 0.0000",
    ]
    assert shown(page, "o") == ("data 0.7071", "grad 1.0000")
    assert "x1.grad += (∂(x1*w1)/∂x1 = w1 = -3.0000)" in page.inner_text("#lines")
    assert "∂(x1*w1)/∂x1 = w1 = -3.0000" in page.inner_text("#formulas")
    assert f"x1*w1).grad = {0.4999999999999998!r}" in page.inner_text("#exact")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "stepper-neuron.png", full_page=True)
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#counter") == f"step {total} of {total} · summary"
    summary = page.inner_text("#summary")
    assert "o = 0.7071" in summary and "x1\t2.0000\t-1.5000" in summary and "w2\t1.0000\t0.0000" in summary
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert shown(page, "x1")[1] == "grad 0.0000"  # stepping back undoes the last step's grads
    page.keyboard.press("Home")
    assert page.inner_text("#counter") == f"step 0 of {total}" and shown(page, "o") == ("data ?", "grad 0.0000")
    page.keyboard.press("End")
    assert shown(page, "x1")[1] == "grad -1.5000"
    assert errors == []
    assert requests == [(tmp_path / "neuron.html").as_uri()]  # the page itself, nothing from the network


@pytest.mark.slow
def test_page_shows_a_reused_node_accumulating(browser, tmp_path):
    page, requests, errors = open_page(browser, reused(), tmp_path / "reused.html")
    page.click("#end")
    page.click("#prev")  # the last backward step, before the summary
    lines = page.locator("#lines li").all_inner_texts()
    assert len(lines) == 2 and all(
        line.startswith("a.grad += (∂b/∂a = 1.0000) × b.grad (1.0000) = 1.0000") for line in lines
    )
    assert lines[0].endswith("a.grad = 1.0000") and lines[1].endswith("a.grad = 2.0000")
    assert shown(page, "a") == ("data 3.0000", "grad 2.0000")
    assert page.locator("g.node.current").count() == 2  # b and its op node
    assert page.locator("g.edge.active").count() == 3
    assert errors == [] and all(url.startswith("file://") for url in requests)


@pytest.mark.slow
def test_play_runs_to_the_end_and_stops(browser, tmp_path):
    page, _, errors = open_page(browser, reused(), tmp_path / "play.html")
    page.fill("#speed", "8")
    page.click("#play")
    page.wait_for_function("document.getElementById('play').textContent.includes('play')", timeout=5000)
    assert page.inner_text("#counter") == "step 4 of 4 · summary"  # b = a + a; a.grad, b.grad; summary
    assert errors == []


def test_unlabelled_results_are_named_from_their_inputs():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    run = run_of(o)
    assert [node["shown"] for node in run["nodes"]] == [
        "x1", "w1", "x1*w1", "x2", "w2", "x2*w2", "x1*w1 + x2*w2", "b", "n", "o"
    ]
    lines = [line for step in run["steps"] for line in step["lines"]]
    # the docs' and README's example line, word for word
    assert "x1.grad += (∂(x1*w1)/∂x1 = w1 = -3.0000) × (x1*w1).grad (0.5000) = -1.5000   ⇒ x1.grad = -1.5000" in lines
    assert not any("#" in node["shown"] for node in run["nodes"])


def names_of(root: Value) -> list[str]:
    return [node["shown"] for node in run_of(root)["nodes"]]


def test_derived_names_keep_precedence_and_shorten_long_formulas_never_to_an_index():
    x, y = Value(3.0, label="x"), Value(2.0, label="y")
    s = x + y
    q = (s * (x - y) / (-x) ** 2).exp()
    shown = {v: node["shown"] for v, node in zip(topological_order(q), run_of(q)["nodes"], strict=True)}
    assert shown[q._prev[0]] == "(x + y)*(x - y)/(-x)**2"
    assert shown[q._prev[0]._prev[1]] == "(-x)**2"
    assert shown[q] == "exp((x + y)*(x - y)/(-x)**2)"  # a little longer than 24 characters: kept whole
    long = ((x * y + y * x + x * x) * (y * y + x * y + y / x)).tanh()
    names = names_of(long)
    assert names[-2] == "(x*y + … + x*x)*(y*y + … + y/x)"  # long sums keep their ends
    assert names[-1] == "tanh(…)"  # and a call around a long formula its function
    assert "x*y + y*x + x*x" in names and "y/x" in names
    names = names_of((x + y) * s)  # a second, different node computing x + y
    assert names.count("x + y") == 1 and names[-1] == "(x + y)*(x + y [2])"
    assert names_of(x**-1.5)[-1] == "x**(-1.5)"
    w = [Value(float(k), label=f"w{k}") for k in range(1, 6)]
    total = sum((wk * x for wk in w), Value(0.5, label="b"))
    assert names_of(total)[-1] == "b + … + w5*x"
    for root in (q, long, total, (x + y) * s):
        assert not any(re.search(r"#\d|\w#", name) for name in names_of(root))


@pytest.mark.parametrize(
    "make, names",
    [
        (lambda x: 2 * x, ["2", "x", "2*x"]),  # a constant by its value
        (lambda x: x - 1.5, ["x", "1.5", "x - 1.5"]),
        (lambda x: (2 * x).exp(), ["2", "x", "2*x", "exp(2*x)"]),  # the lecture's tanh written out
        (lambda x: x * -0.25, ["x", "-0.25", "x*-0.25"]),
        (lambda x: (x - 6.8813735870195432) ** 2, ["x", "6.881", "x - 6.881", "(x - 6.881)**2"]),
    ],
)
def test_an_unlabelled_constant_is_named_by_its_value(make, names):
    assert names_of(make(Value(3.0, label="x"))) == names


def test_grads_that_are_values_after_create_graph_are_shown_as_numbers():
    x = Value(3.0, label="x")
    y = x * x * x
    y.label = "y"
    y.backward(create_graph=True)
    assert isinstance(x.grad, Value)
    assert run_of(y)["nodes"][0]["grad"] == "27.0000"
    require("dot", "apt-get install graphviz")
    page = stepper(y)
    assert '[0, "27.0000", "27.0"]' in page.html  # the step that sets x.grad: the number, shown and exact


@pytest.mark.parametrize("root", [glassgrad.Tensor(2.0), glassgrad.Tensor([1.0, 2.0]), 2.0, "x"])
def test_stepper_refuses_what_is_not_a_value(root):
    what = "a Tensor; stepper draws graphs of Values" if isinstance(root, glassgrad.Tensor) else "stepper draws"
    with pytest.raises(TypeError, match=what):
        stepper(root)


def lecture() -> Value:
    """The README's first graph: L = (a*b + c)*f, every node labelled."""
    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    e = a * b
    e.label = "e"
    d = e + c
    d.label = "d"
    f = Value(-2.0, label="f")
    L = d * f
    L.label = "L"
    return L


def titles(root: Value) -> list[str]:
    return [step["title"] for step in run_of(root)["steps"]]


def test_a_call_writes_its_argument_without_doubled_parentheses():
    out, _ = evaluate("tanh(x*w+b)", {"x": 2.0, "w": -3.0, "b": 6.88})
    shown = titles(out)
    assert "out = tanh(x*w+b)" in shown and "chain rule through out = tanh(x*w+b)" in shown
    assert "x*w+b = (x*w) + b" in shown  # an infix operator keeps the parentheses it may need
    assert not any("((" in title for title in shown)
    x = Value(2.0, label="x")
    assert titles((x * x + x).exp())[1:3] == ["x*x + x = (x*x) + x", "exp(x*x + x) = exp(x*x + x)"]

    @glassgrad.op(derivative=lambda g, out, v: (g * 3 * v * v,), formula="{0}³")
    def cube(v):
        return v**3

    y = cube(x + x)
    y.label = "y"
    assert "y = (x + x)³" in titles(y)  # not a call: the argument keeps its parentheses


def page_geometry(page) -> dict:
    """Where the graph's area, the root's box and the zoom buttons are on screen, in CSS pixels."""
    return page.evaluate(
        """() => {
        const box = (el) => { const b = el.getBoundingClientRect();
            return { left: b.left, top: b.top, right: b.right, bottom: b.bottom }; };
        const roots = [...document.querySelectorAll("g.node[id^=v]")];
        const root = roots.reduce((a, b) => Number(b.id.slice(1)) > Number(a.id.slice(1)) ? b : a);
        const t = root.querySelector("text");
        const $ = (id) => document.getElementById(id);
        return { view: box($("view")), root: box(root), tools: box($("tools")),
                 font: parseFloat(t.getAttribute("font-size")) * t.getScreenCTM().a };
    }"""
    )


def inside(inner: dict, outer: dict) -> bool:
    return all(inner[k] >= outer[k] for k in ("left", "top")) and all(inner[k] <= outer[k] for k in ("right", "bottom"))


def overlaps(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.parametrize(
    "name, root",
    [
        ("lecture", lecture),
        ("neuron", lambda: neuron()[0]),  # the lecture's main example: its tanh and output on screen
        ("explain-neuron", lambda: evaluate("tanh(x*w+b)", {"x": 2.0, "w": -3.0, "b": 6.88})[0]),
    ],
)
@pytest.mark.slow
def test_a_small_graph_opens_fitted_readable_and_uncovered(browser, tmp_path, name, root):
    page, _, errors = open_page(browser, root(), tmp_path / f"{name}.html")
    at_load = page_geometry(page)
    assert inside(at_load["root"], at_load["view"])  # the whole graph, its result included
    assert at_load["font"] >= 10  # and readable
    assert not overlaps(at_load["tools"], at_load["view"])  # the zoom buttons cover none of it
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"stepper-{name}-open.png")
    page.keyboard.press("End")
    page.keyboard.press("ArrowLeft")  # the last backward step: every grad is set, the view has not moved
    assert page_geometry(page) == at_load and "((" not in page.inner_text("#title")
    page.click("#zoom-in")
    assert page_geometry(page)["font"] > at_load["font"]
    page.keyboard.press("0")
    assert page_geometry(page) == at_load
    page.close()
    assert errors == []


@pytest.mark.slow
def test_inline_in_a_notebook_the_neuron_opens_whole_and_readable_with_the_panel_below(browser):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.set_content(f'<div style="width: 940px; margin: 20px">{stepper(neuron()[0])._repr_html_()}</div>')
    frame = page.frames[1]
    frame.wait_for_selector("#counter")
    at = page_geometry(frame)
    assert inside(at["root"], at["view"]) and at["font"] >= 10
    aside = frame.evaluate("(() => { const b = document.querySelector('aside').getBoundingClientRect(); "
                           "return { left: b.left, top: b.top, right: b.right, bottom: b.bottom }; })()")
    assert not overlaps(aside, at["view"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "stepper-in-notebook.png")
    page.close()


def written_out() -> Value:
    """The lecture's neuron with tanh written out, (e - 1)/(e + 1) with e = exp(2n): a graph too wide to fit."""
    o, _ = neuron()
    n = o._prev[0]
    e = (2 * n).exp()
    e.label = "e"
    out = (e - 1) / (e + 1)
    out.label = "o"
    return out


@pytest.mark.slow
def test_following_a_wide_graph_keeps_each_step_and_its_inputs_in_view(browser, tmp_path):
    root = written_out()
    page, _, errors = open_page(browser, root, tmp_path / "wide.html")
    assert page_geometry(page)["font"] >= 10
    view = page_geometry(page)["view"]
    total = len(run_of(root)["steps"])
    for _ in range(total):
        page.keyboard.press("ArrowRight")
        boxes = page.evaluate("""() => [...document.querySelectorAll("g.node.current, g.node.input")].map((g) => {
            const b = g.getBoundingClientRect();
            return { left: b.left, top: b.top, right: b.right, bottom: b.bottom }; })""")
        assert boxes and all(inside(box, view) for box in boxes), page.inner_text("#title")
        vb = [float(x) for x in page.get_attribute("#view svg", "viewBox").split()]
        width = float(page.evaluate("document.querySelector('#view svg g.graph').getBBox().width"))
        assert vb[0] >= -20 and vb[0] + vb[2] <= width + 40  # never scrolled past the graph into empty space
    assert errors == []


@pytest.mark.slow
def test_the_default_view_is_redone_when_the_area_changes_before_the_learner_moves_it(browser, tmp_path):
    """The fit is of the area the page settles to (a frame resized, the header's fonts come in late),
    not of the one there was when its script ran; a view the learner chose is kept."""
    settled = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
    fresh, _, _ = open_page(browser, neuron()[0], tmp_path / "fresh.html")
    fresh.set_viewport_size({"width": 1300, "height": 900})
    fresh.reload()
    fresh.evaluate(settled)
    expected = page_geometry(fresh)
    fresh.close()
    page, _, errors = open_page(browser, neuron()[0], tmp_path / "resized.html")
    page.set_viewport_size({"width": 1300, "height": 900})
    page.evaluate(settled)
    assert page_geometry(page) == expected
    page.click("#zoom-in")
    zoomed = page_geometry(page)["font"]
    page.set_viewport_size({"width": 1400, "height": 900})
    page.evaluate(settled)
    assert page_geometry(page)["font"] == pytest.approx(zoomed)  # the learner's zoom stays
    page.close()
    assert errors == []
