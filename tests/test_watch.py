"""The training-loop page: what it records from the engine, and the page in a real browser."""

from pathlib import Path

import pytest
from external_tools import require

import glassgrad
from glassgrad import Value
from glassgrad.apps.cli import main
from glassgrad.data import LECTURE_XS, LECTURE_YS
from glassgrad.nn import MLP
from glassgrad.viz.training_page import MAX_ITERATIONS, lecture_loss, neuron_groups, watch
from glassgrad.viz.visualize import GraphTooLarge

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ITERATIONS = 3


def engine_run(seed: int, iterations: int) -> tuple[list[float], list[list[tuple[float, float]]]]:
    """The lecture's loop, typed as in the lecture: the loss at each iteration and one after the
    last update, and each iteration's (before, after) for every parameter."""
    n = MLP.lecture(seed=seed)
    xs, ys = LECTURE_XS, LECTURE_YS
    losses, updates = [], []
    for _ in range(iterations):
        ypred = [n(x) for x in xs]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
        for p in n.parameters():
            p.grad = 0.0
        loss.backward()
        before = [p.data for p in n.parameters()]
        for p in n.parameters():
            p.data += -0.1 * p.grad
        updates.append(list(zip(before, [p.data for p in n.parameters()])))
        losses.append(loss.data)
    losses.append(sum((n(x) - y) ** 2 for x, y in zip(xs, ys)).data)
    return losses, updates


@pytest.fixture(scope="module")
def recorded():
    require("dot", "apt-get install graphviz")
    return watch(MLP.lecture(seed=0), LECTURE_XS, LECTURE_YS, steps=ITERATIONS)


def test_losses_and_updates_are_the_engines_own(recorded):
    losses, updates = engine_run(0, ITERATIONS)
    assert recorded.losses == losses
    assert [float(exact) for _, exact in recorded.data["losses"]] == losses
    for iteration, expected in zip(recorded.data["iterations"], updates, strict=True):
        shown = [s["update"] for s in iteration["steps"] if "update" in s]
        assert [(float(u[2]), float(u[3])) for u in shown] == expected
        assert [(u[0], u[1]) for u in shown] == [(f"{b:.4f}", f"{a:.4f}") for b, a in expected]
    assert losses[-1] < losses[0]


def test_the_page_names_every_node_and_groups_neurons(recorded):
    names = [node["shown"] for node in recorded.data["nodes"]]
    assert {"L0.N0.w1", "L2.N0.b", "ex0.x1", "ex3.x3", "ex1.L1.N2.o", "ex2.ygt", "ex3.loss", "loss"} <= set(names)
    assert not any(name.startswith(("#", "linear#")) for name in names)
    assert recorded.data["groups"] == [f"L{i}.N{j}" for i, size in enumerate((4, 4, 1)) for j in range(size)]
    loss = lecture_loss(MLP.lecture(seed=0, fused=False), LECTURE_XS, LECTURE_YS)
    from glassgrad.autograd import topological_order

    order = topological_order(loss)
    groups, of = neuron_groups(order)
    sums = [v for v, g in zip(order, of, strict=True) if v._op == "*" and g is not None]
    assert len(order) == 360 and len(sums) == 4 * (3 * 4 + 4 * 4 + 4)  # every product belongs to its neuron


def test_five_iterations_stay_small_and_large_graphs_are_refused(tmp_path):
    require("dot", "apt-get install graphviz")
    assert main(["watch", "--steps", "5", "--no-fused", "--out", str(tmp_path / "w.html")]) == 0
    assert (tmp_path / "w.html").stat().st_size < 5_000_000
    with pytest.raises(GraphTooLarge, match=r"has \d+ Values, more than max_nodes=500.*smaller network"):
        watch(MLP(3, [16, 16, 1]), LECTURE_XS, LECTURE_YS)
    with pytest.raises(ValueError, match=f"steps must be 1 to {MAX_ITERATIONS}"):
        watch(MLP.lecture(), LECTURE_XS, LECTURE_YS, steps=MAX_ITERATIONS + 1)
    with pytest.raises(TypeError, match="one Value per example"):
        watch(MLP(3, [2]), LECTURE_XS, LECTURE_YS)
    with pytest.raises(TypeError, match="scalar Values"):
        watch(glassgrad.nn.TensorMLP(3, [4, 1]), LECTURE_XS, LECTURE_YS)


@pytest.fixture(scope="module")
def page(browser, recorded, tmp_path_factory):
    path = recorded.save(tmp_path_factory.mktemp("watch") / "watch.html")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    yield page
    assert errors == []
    assert requests == [path.as_uri()]  # the page itself, nothing from the network
    page.close()


def focused_font_px(frame) -> float:
    """The on-screen size, in CSS pixels, of the name text of the node being processed."""
    return frame.evaluate(
        """() => {
        const t = document.querySelector("g.node.current text");
        return parseFloat(t.getAttribute("font-size")) * t.getScreenCTM().a;
    }"""
    )


def test_update_phase_shows_each_parameters_engine_values(page, recorded):
    _, updates = engine_run(0, ITERATIONS)
    page.keyboard.press("Home")
    page.keyboard.press("3")
    assert page.inner_text("#counter").endswith("iteration 1 of 3 · update")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "watch-update.png")
    for before, after in updates[0]:
        assert page.get_attribute("#update", "data-before") == repr(before)
        assert page.get_attribute("#update", "data-after") == repr(after)
        assert f"before {before:.4f} → after {after:.4f}" in page.inner_text("#update")
        page.keyboard.press("ArrowRight")
    assert page.inner_text("#title") == f"Update: after the update the loss is {recorded.losses[1]:.4f} " + (
        f"(it was {recorded.losses[0]:.4f})"
    )


def test_losses_shown_are_the_engines(page, recorded):
    shown = page.eval_on_selector_all("circle.loss-point", "cs => cs.map(c => c.dataset.loss)")
    assert shown == [repr(x) for x in recorded.losses]
    page.keyboard.press("End")
    assert page.inner_text("#counter").endswith("summary")
    summary = page.inner_text("#summary")
    assert f"Loss before training: {recorded.losses[0]:.4f}; after 3 iterations: {recorded.losses[-1]:.4f}" in summary
    assert page.locator("#summary tr").count() == 6  # a header and the five parameters that moved most
    page.screenshot(path=ARTIFACTS / "watch-summary.png")


def test_forward_and_backward_steps_and_the_gradient_flowing_back(page, recorded):
    total = sum(len(iteration["steps"]) for iteration in recorded.data["iterations"]) + 1  # and the summary
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#counter") == f"step 1 of {total} · iteration 1 of 3 · forward"
    assert focused_font_px(page) >= 11
    page.screenshot(path=ARTIFACTS / "watch-forward.png")
    page.keyboard.press("2")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#title").startswith("Backward: chain rule through loss")
    back = page.locator("g.edge.back").count()
    assert back >= 2 and page.locator("polygon.back-arrow").count() == back
    assert focused_font_px(page) >= 11
    page.screenshot(path=ARTIFACTS / "watch-backward.png")
    page.keyboard.press("]")
    assert page.inner_text("#counter").endswith("iteration 2 of 3 · forward")


def boxes(page, *selectors: str) -> list[dict]:
    return [page.locator(selector).first.bounding_box() for selector in selectors]


def within(inner: dict, outer: dict) -> bool:
    return (outer["x"] <= inner["x"] and inner["x"] + inner["width"] <= outer["x"] + outer["width"]
            and outer["y"] <= inner["y"] and inner["y"] + inner["height"] <= outer["y"] + outer["height"])


def test_a_large_graph_opens_readable_on_the_first_node_with_its_frame_and_nothing_over_it(page):
    page.keyboard.press("Home")
    page.keyboard.press("0")
    page.keyboard.press("ArrowRight")
    first = int(page.get_attribute("g.node.current[id^=v]", "id")[1:])
    neuron = page.evaluate("() => JSON.parse(document.getElementById('run').textContent).group_of")[first]
    node, frame_title, view, tools = boxes(page, f"#v{first}", f"#g{neuron} > text", "#view", "#tools")
    assert within(node, view) and within(frame_title, view)  # the first node, and the title of its neuron
    assert focused_font_px(page) >= 11
    assert tools["y"] + tools["height"] <= view["y"]  # the zoom buttons are in the toolbar, above the graph
    page.screenshot(path=ARTIFACTS / "watch-open.png")


def view_box(page) -> list[float]:
    return [float(x) for x in page.get_attribute("#view svg", "viewBox").split()]


def test_zoom_and_pan_with_wheel_drag_buttons_and_keys(page):
    page.keyboard.press("0")
    start = view_box(page)
    page.mouse.move(500, 500)
    page.mouse.wheel(0, -300)
    zoomed = view_box(page)
    assert zoomed[2] < start[2] and zoomed[3] < start[3]  # a smaller part of the graph, larger
    page.mouse.down()
    page.mouse.move(400, 420, steps=4)
    page.mouse.up()
    panned = view_box(page)
    assert panned[0] > zoomed[0] and panned[1] > zoomed[1] and panned[2:] == zoomed[2:]
    page.click("#zoom-out")
    assert view_box(page)[2] > panned[2]
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("f")
    assert view_box(page)[2] > start[2]  # the whole graph
    page.keyboard.press("0")
    assert view_box(page)[2] == start[2]


def test_neurons_collapse_into_one_box_and_expand(page):
    page.keyboard.press("0")
    page.click("#zoom-fit")
    members = page.evaluate("() => JSON.parse(document.getElementById('run').textContent).group_of")
    first = [f"#v{i}" for i, g in enumerate(members) if g == 0]
    box = page.locator("#g0 polygon").bounding_box()
    page.mouse.click(box["x"] + 3, box["y"] + 3)  # the neuron's frame
    assert "collapsed" in page.get_attribute("#g0", "class")
    assert all(not page.locator(node).is_visible() for node in first)
    assert "L0.N0: " in page.text_content("#g0 .fold-note")
    page.mouse.click(box["x"] + 3, box["y"] + 3)
    assert "collapsed" not in page.get_attribute("#g0", "class") and page.locator(first[0]).is_visible()
    page.keyboard.press("c")
    assert page.locator("g.cluster.collapsed").count() == 9
    page.screenshot(path=ARTIFACTS / "watch-collapsed.png")
    page.keyboard.press("e")
    assert page.locator("g.cluster.collapsed").count() == 0


def test_embedded_as_in_a_notebook_the_text_is_readable_and_fits_the_frame(browser, recorded):
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.set_content(f'<div style="width: 940px; margin: 20px">{recorded._repr_html_()}</div>')
    frame = page.frames[1]
    frame.wait_for_selector("#counter")
    frame.click("#next")
    assert focused_font_px(frame) >= 11
    assert frame.evaluate("document.documentElement.scrollHeight <= document.documentElement.clientHeight")
    page.screenshot(path=ARTIFACTS / "watch-in-notebook.png")
    page.close()


def test_package_level_name_and_a_hand_built_model_with_labels_of_its_own():
    require("dot", "apt-get install graphviz")
    model = MLP(3, [2, 1], activation="tanh", seed=1)
    model.layers[1].neurons[0].b.label = "bias_out"
    page = glassgrad.watch(model, LECTURE_XS[:2], LECTURE_YS[:2], steps=1, lr=0.05)
    assert "bias_out" in [node["shown"] for node in page.data["nodes"]]
    assert len(page.losses) == 2 and page.data["lr"] == "0.05"
    assert isinstance(lecture_loss(model, LECTURE_XS[:1], LECTURE_YS[:1]), Value)
