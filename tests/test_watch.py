"""The training-loop page: what it records from the engine, and the page in a real browser."""

import html
import math
import random
import re
from pathlib import Path

import pytest

import glassgrad
from glassgrad import Value, engine
from glassgrad.apps.cli import main
from glassgrad.data import LECTURE_XS, LECTURE_YS
from glassgrad.nn import MLP
from glassgrad.viz.backprop_page import record, stepper
from glassgrad.viz.network import Network
from glassgrad.viz.training_page import (
    MAX_ITERATIONS,
    WATCH_SEED,
    forward,
    forward_order,
    lecture_loss,
    watch,
)
from glassgrad.viz.visualize import GraphTooLarge

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ITERATIONS = 3
MACHINE_NAME = re.compile(r"#\d|\w#|^#")  # `#12`, `add#161`: a name made of an index


def engine_run(seed: int, iterations: int, lr: float = 0.1) -> tuple[list[float], list[list[tuple[float, float]]]]:
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
            p.data += -lr * p.grad
        updates.append(list(zip(before, [p.data for p in n.parameters()])))
        losses.append(loss.data)
    losses.append(sum((n(x) - y) ** 2 for x, y in zip(xs, ys)).data)
    return losses, updates


class LectureNeuron:
    """micrograd's Neuron as the lecture types it, on glassgrad Values (no labels anywhere)."""

    def __init__(self, nin, rng):
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(rng.uniform(-1, 1))

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh()

    def parameters(self):
        return self.w + [self.b]


class LectureLayer:
    def __init__(self, nin, nout, rng):
        self.neurons = [LectureNeuron(nin, rng) for _ in range(nout)]

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self):
        return [p for neuron in self.neurons for p in neuron.parameters()]


class LectureMLP:
    def __init__(self, nin, nouts, seed):
        rng = random.Random(seed)
        sz = [nin] + nouts
        self.layers = [LectureLayer(sz[i], sz[i + 1], rng) for i in range(len(nouts))]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


@pytest.fixture(scope="module")
def recorded():
    return watch(MLP.lecture(seed=0), LECTURE_XS, LECTURE_YS, steps=ITERATIONS)


def test_losses_and_updates_are_the_engines_own(recorded):
    losses, updates = engine_run(0, ITERATIONS)
    assert recorded.losses == losses
    assert [float(exact) for _, exact in recorded.data["losses"]] == losses
    for iteration, expected in zip(recorded.data["iterations"], updates, strict=True):
        shown = [s["update"] for s in iteration["steps"] if "update" in s]
        assert [(float(u[2]), float(u[3])) for u in shown] == expected
        assert [(u[0], u[1]) for u in shown] == [(f"{b:.4f}", f"{a:.4f}") for b, a in expected]


@pytest.mark.parametrize("seed", [WATCH_SEED])
@pytest.mark.parametrize("steps", [5, MAX_ITERATIONS])
def test_the_default_replay_shows_the_loss_falling_at_every_iteration(seed, steps):
    losses, _ = engine_run(seed, steps)
    assert all(now < was for was, now in zip(losses, losses[1:]))


def test_a_rising_loss_is_explained_on_the_page(recorded):
    rose = [i for i, (was, now) in enumerate(zip(recorded.losses, recorded.losses[1:])) if now > was]
    assert rose  # seed 0 with lr 0.1 overshoots once: 3.59 -> 5.27
    for i, iteration in enumerate(recorded.data["iterations"]):
        closing = iteration["steps"][-1]
        assert closing["loss"] == i + 1
        assert any("The loss rose" in line for line in closing["lines"]) == (i in rose)


def lecture_network(model):
    examples = forward(model, LECTURE_XS, LECTURE_YS)
    order = forward_order(examples)
    return order, Network(order, model, model.parameters(), examples)


@pytest.mark.parametrize("make", [lambda: MLP.lecture(seed=0), lambda: MLP.lecture(seed=0, fused=False),
                                  lambda: LectureMLP(3, [4, 4, 1], seed=0)], ids=["fused", "unfused", "learner"])
def test_the_graph_is_found_as_the_network_it_is(make):
    model = make()
    order, net = lecture_network(model)
    units = [(u.kind, u.column, u.name) for u in net.units]
    neurons = [f"L{i}.N{j}" for i, size in enumerate((4, 4, 1)) for j in range(size)]
    assert units == ([("input", 0, f"x{k}") for k in (1, 2, 3)] +
                     [("neuron", int(n[1]) + 1, n) for n in neurons] + [("loss", 4, "loss")])
    params = {p: k for k, p in enumerate(model.parameters())}
    for unit, neuron in zip(net.units[3:12], [n for layer in model.layers for n in layer.neurons], strict=True):
        assert [order[i] for i in unit.params] == neuron.parameters()  # in the model's order
        for e, row in enumerate(unit.rows):
            assert order[row[-1]]._op == "tanh" and all(net.example[order[i]] == e for i in row)
            # every node of the neuron on example e reads only its parameters, its own nodes, constants and its inputs
            for i in row:
                for x in order[i]._prev:
                    assert x in params or order.index(x) in row or net.units[net.unit_of[x]].column == unit.column - 1
    assert sum(len(r) for u in net.units for r in u.rows) + len(params) == len(order)  # every node placed once


@pytest.mark.parametrize("make", [lambda: MLP.lecture(seed=0), lambda: MLP.lecture(seed=0, fused=False),
                                  lambda: LectureMLP(3, [4, 4, 1], seed=0)], ids=["fused", "unfused", "learner"])
def test_no_node_is_named_by_an_index(make):
    page = watch(make(), LECTURE_XS, LECTURE_YS, steps=1)
    nodes = page.data["nodes"]
    for node in nodes:
        assert not MACHINE_NAME.search(node["name"]) and not MACHINE_NAME.search(node["shown"]), node
    texts = [line for s in page.data["iterations"][0]["steps"] for line in [s["title"], *s["lines"]]]
    assert not any(MACHINE_NAME.search(text) for text in texts)
    names = {node["name"] for node in nodes}
    assert {"ex0.x1", "ex3.x3", "ex2.ygt", "ex3.loss", "loss", "L1.N2.b"} <= {n.strip("()") for n in names}


def test_names_inside_a_neuron_are_the_lectures():
    page = watch(MLP.lecture(seed=0, fused=False), LECTURE_XS, LECTURE_YS, steps=1)
    names = [node["name"] for node in page.data["nodes"]]
    assert {"ex0.L0.N0.n", "ex0.L0.N0.o", "L0.N0.w1", "(ex0.L0.N0[w1*x1])", "(ex0.L0.N0[b + w1*x1])",
            "(ex2.L1.N3[b + w1*x1 + w2*x2])"} <= set(names)
    steps = page.data["iterations"][0]["steps"]
    first = steps[0]
    assert page.data["nodes"][first["node"]]["scope"] == "ex0 · L0.N0"
    assert first["lines"] == [f"w1*x1 = w1 × x1 = {float(first['lines'][0].split()[-5]):.4f} × 2.0000 = "
                              f"{first['lines'][0].split()[-1]}", "where x1 = ex0.x1"]
    learner = watch(LectureMLP(3, [4, 4, 1], seed=0), LECTURE_XS, LECTURE_YS, steps=1)
    names = {node["name"] for node in learner.data["nodes"]}
    assert {"L0.N0.w[0]", "L0.N0.b", "ex0.L0.N0.o", "ex0.L0.N0.n", "(ex0.L0.N0[w[0]*x[0]])"} <= names
    places = learner.data["net"]["units"][3]["places"]
    assert places == ["layers[0].neurons[0].w[0]", "layers[0].neurons[0].w[1]", "layers[0].neurons[0].w[2]",
                      "layers[0].neurons[0].b"]  # where the learner's code keeps them, in parameters() order


def test_a_learners_mlp_trains_as_glassgrads_to_the_last_bit():
    learner = LectureMLP(3, [4, 4, 1], seed=3)
    ours = MLP.lecture(fused=False)
    for p, q in zip(ours.parameters(), learner.parameters(), strict=True):
        p.data = q.data
    theirs = watch(learner, LECTURE_XS, LECTURE_YS, steps=2).losses
    assert watch(ours, LECTURE_XS, LECTURE_YS, steps=2).losses == theirs


def test_the_stepper_names_a_learners_neuron_by_values_and_formulas():
    model = LectureMLP(3, [4, 4, 1], seed=0)
    loss = (model([2.0, 3.0, -1.0]) - 1.0) ** 2
    names = [node["name"] for node in stepper(loss).run["nodes"]]
    assert not any(MACHINE_NAME.search(n) for n in names)
    shown = [node["shown"] for node in stepper(loss).run["nodes"]]
    assert "2" in shown and "-1" in shown and "1" in shown  # the inputs and the target, by value


def test_the_forward_pass_is_the_engines_order_from_the_inputs(monkeypatch):
    created = []
    for name in ("_result",):  # the engine's one node factory
        made = getattr(engine, name)

        def recording(*args, made=made):
            out = made(*args)
            created.append(out)
            return out

        monkeypatch.setattr(engine, name, recording)
    model = MLP.lecture(seed=0)
    examples = forward(model, LECTURE_XS, LECTURE_YS)
    monkeypatch.undo()
    order = forward_order(examples)
    net = Network(order, model, model.parameters(), examples)
    run = record(examples.loss, order, net)
    computed = [order[s["node"]] for s in run["steps"] if s["phase"] == "forward"]
    assert computed == [v for v in created if v in set(order)]  # the order the engine made them in
    assert all(v._prev for v in computed)  # no step for a leaf: inputs and parameters are given
    first = run["steps"][0]
    assert net.scope[first["node"]] == "ex0 · L0.N0" and first["title"] == "n = w1·x1 + w2·x2 + w3·x3 + b"


def test_five_iterations_stay_small_and_large_graphs_are_refused(tmp_path):
    assert main(["watch", "--steps", "5", "--out", str(tmp_path / "f.html")]) == 0
    assert main(["watch", "--steps", "5", "--no-fused", "--out", str(tmp_path / "u.html")]) == 0
    assert (tmp_path / "f.html").stat().st_size < 700_000
    assert (tmp_path / "u.html").stat().st_size < 1_400_000
    with pytest.raises(GraphTooLarge, match=r"has \d+ Values, more than max_nodes=500.*smaller network"):
        watch(MLP(3, [16, 16, 1]), LECTURE_XS, LECTURE_YS)
    with pytest.raises(ValueError, match=f"steps must be 1 to {MAX_ITERATIONS}"):
        watch(MLP.lecture(), LECTURE_XS, LECTURE_YS, steps=MAX_ITERATIONS + 1)
    with pytest.raises(TypeError, match="one Value per example"):
        watch(MLP(3, [2]), LECTURE_XS, LECTURE_YS)
    with pytest.raises(TypeError, match="scalar Values"):
        watch(glassgrad.nn.TensorMLP(3, [4, 1]), LECTURE_XS, LECTURE_YS)


def test_watch_prints_the_loss_and_says_when_it_rose(glassgrad, tmp_path):
    ran = glassgrad("watch", "--steps", "3", "--out", str(tmp_path / "w.html"))
    losses, _ = engine_run(WATCH_SEED, 3)
    assert ran.returncode == 0 and f"loss {losses[0]:.4f} -> {losses[-1]:.4f} over 3 iterations\n" in ran.stdout
    ran = glassgrad("watch", "--steps", "3", "--seed", "0", "--out", str(tmp_path / "w.html"))
    assert "(it rose in 1 of them: the page says why)" in ran.stdout
    assert "the loss falls at every iteration" in glassgrad("watch", "--help").stdout.replace("\n", " ").replace(
        "  ", " ")


# ---- the page in Chromium ----

def open_page(browser, page_object, name, viewport=(1400, 900)):
    path = page_object.save(Path(browser.tmp) / f"{name}.html")
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    page.errors, page.requests = [], []
    page.on("request", lambda r: page.requests.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(path.as_uri())
    page.path = path
    return page


@pytest.fixture(scope="module")
def chromium(browser, tmp_path_factory):
    browser.tmp = tmp_path_factory.mktemp("watch")
    return browser


@pytest.fixture(scope="module")
def page(chromium, recorded):
    page = open_page(chromium, recorded, "watch")
    yield page
    assert page.errors == []
    assert page.requests == [page.path.as_uri()]  # the page itself, nothing from the network
    page.close()


SMALLEST_TEXT = """() => {
    const view = document.getElementById("view").getBoundingClientRect();
    let smallest = Infinity;
    for (const t of document.querySelectorAll("#view svg text")) {
        const b = t.getBoundingClientRect();
        if (b.width === 0 || b.right < view.left || b.left > view.right || b.bottom < view.top || b.top > view.bottom)
            continue;
        smallest = Math.min(smallest, parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
    }
    return smallest;
}"""

GEOMETRY = """() => {
    const box = (el) => { const b = el.getBoundingClientRect();
        return { left: b.left, top: b.top, right: b.right, bottom: b.bottom }; };
    const $ = (id) => document.getElementById(id);
    const drawn = [...document.querySelectorAll("#view svg g.unit")].map(box);
    return { view: box($("view")), aside: box(document.querySelector("aside")), tools: box($("tools")),
             units: drawn, loss: box(document.querySelector("#view svg g.unit.k-loss")) };
}"""


def inside(inner: dict, outer: dict) -> bool:
    return all(inner[k] >= outer[k] - 0.5 for k in ("left", "top")) and all(
        inner[k] <= outer[k] + 0.5 for k in ("right", "bottom"))


def overlaps(a: dict, b: dict) -> bool:
    return a["left"] < b["right"] and b["left"] < a["right"] and a["top"] < b["bottom"] and b["top"] < a["bottom"]


@pytest.mark.slow
@pytest.mark.parametrize("fused", [True, False], ids=["fused", "unfused"])
def test_the_page_opens_on_the_whole_network_readable_beside_its_panel(chromium, fused):
    model = MLP.lecture(seed=WATCH_SEED, fused=fused)
    page = open_page(chromium, watch(model, LECTURE_XS, LECTURE_YS, steps=1), f"open-{fused}")
    at = page.evaluate(GEOMETRY)
    assert len(at["units"]) == 3 + 9 + 1 and all(inside(unit, at["view"]) for unit in at["units"])
    assert page.evaluate(SMALLEST_TEXT) >= 10
    assert not overlaps(at["aside"], at["view"]) and not overlaps(at["tools"], at["view"])
    assert page.locator("#u3 text.title").first.text_content().startswith("L0.N0  tanh(w·x + b)")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"watch-open-{'fused' if fused else 'unfused'}.png")
    page.keyboard.press("e")  # every neuron unfolded into its nodes, then folded again
    nodes = page.evaluate("JSON.parse(document.getElementById('run').textContent).nodes.length")
    assert page.locator("#view g.chip").count() == nodes - 3 * 4  # every node but the inputs
    page.keyboard.press("c")
    assert page.locator("#view g.chip").count() == 0
    assert page.errors == []
    page.close()


FOLDS = {  # a fold state: the keys and clicks that reach it from the page as it opens
    "open": [],
    "unfold all": ["e"],
    "fold all again": ["e", "c"],
    "the last neuron unfolded": ["#u{last}t"],
    "unfolded, default view": ["e", "0"],
    "unfolded, stepped": ["e", "ArrowRight", "ArrowRight"],
}


@pytest.mark.slow
@pytest.mark.slow
@pytest.mark.parametrize("make", [lambda: MLP.lecture(seed=WATCH_SEED),
                                  lambda: MLP.lecture(seed=WATCH_SEED, fused=False),
                                  lambda: MLP(3, [8, 8, 1], seed=WATCH_SEED)], ids=["lecture", "unfused", "8x8"])
def test_at_every_fold_state_no_box_runs_under_the_panel(chromium, make):
    model = make()
    page = open_page(chromium, watch(model, LECTURE_XS, LECTURE_YS, steps=1, max_nodes=None), "folds")
    last = len(page.evaluate(GEOMETRY)["units"]) - 2  # the output neuron, beside the loss
    for state, actions in FOLDS.items():
        page.keyboard.press("Home")
        page.keyboard.press("c")
        page.keyboard.press("0")
        for action in actions:
            if action.startswith("#"):
                page.click(action.format(last=last))
            else:
                page.keyboard.press(action)
        at = page.evaluate(GEOMETRY)
        cut = [k for k, unit in enumerate(at["units"])
               if unit["left"] < at["view"]["left"] - 0.5 or unit["right"] > at["view"]["right"] + 0.5]
        assert cut == [], state  # every box whole from left to right: none ends under the side panel
        assert not overlaps(at["aside"], at["view"]) and page.evaluate(SMALLEST_TEXT) >= 10, state
        if len(model.layers[0].neurons) == 4 and state in ("open", "fold all again"):
            assert all(inside(unit, at["view"]) for unit in at["units"]), state  # the lecture's: all of it
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"watch-folds-{len(at['units'])}-{state.replace(' ', '-')}.png")
    assert page.errors == []
    page.close()


@pytest.mark.slow
def test_update_phase_shows_each_parameters_engine_values(page, recorded):
    _, updates = engine_run(0, ITERATIONS)
    page.keyboard.press("d")
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
    assert page.text_content("#u12total text.value").startswith(f"{recorded.losses[1]:.4f}")  # the graph agrees


def test_the_summary_ends_as_the_lecture_does(page, recorded):
    shown = page.eval_on_selector_all("circle.loss-point", "cs => cs.map(c => c.dataset.loss)")
    assert shown == [repr(x) for x in recorded.losses]
    page.keyboard.press("End")
    assert page.inner_text("#counter").endswith("summary")
    summary = page.inner_text("#summary")
    assert f"Loss before training: {recorded.losses[0]:.4f}; after 3 iterations: {recorded.losses[-1]:.4f}" in summary
    assert page.locator("#summary table.moved tr").count() == 6  # a header and the five parameters that moved most
    rows = page.eval_on_selector_all("#summary table.predictions tr", "rs => rs.map(r => r.innerText.split('\\t'))")
    assert rows[1] == ["ygt", *[f"{y:.4f}" for y in LECTURE_YS], ""]
    model = MLP.lecture(seed=0)
    losses, _ = engine_run(0, ITERATIONS)
    for k, row in enumerate(rows[2:]):  # each iteration's predictions, then the trained network's
        assert row[0] == (f"{k + 1}" if k < ITERATIONS else "trained")
        assert row[1:] == [f"{model(x).data:.4f}" for x in LECTURE_XS] + [f"{losses[k]:.4f}"]
        if k < ITERATIONS:
            loss = sum((model(x) - y) ** 2 for x, y in zip(LECTURE_XS, LECTURE_YS))
            model.zero_grad()
            loss.backward()
            for p in model.parameters():
                p.data += -0.1 * p.grad
    assert page.text_content("#u12total text.value").startswith(f"{recorded.losses[-1]:.4f}")  # the graph agrees
    page.screenshot(path=ARTIFACTS / "watch-summary.png")


def test_the_loss_curve_is_log_scaled_with_ticks(page, recorded):
    page.keyboard.press("End")
    ys = page.eval_on_selector_all("circle.loss-point", "cs => cs.map(c => Number(c.getAttribute('cy')))")
    logs = [math.log10(x) for x in recorded.losses]
    per_decade = [(ys[0] - y) / (logs[0] - v) for y, v in zip(ys[1:], logs[1:]) if abs(logs[0] - v) > 1e-3]
    assert per_decade and max(per_decade) - min(per_decade) < 1e-6 * abs(max(per_decade))  # log scale
    ticks = page.eval_on_selector_all("#curve text.tick", "ts => ts.map(t => t.textContent)")
    low, high = math.floor(min(logs)), math.ceil(max(logs))
    assert {str(10**p) if p >= 0 else str(10.0**p) for p in range(low, high + 1)} <= set(ticks)
    assert len(ticks) >= 3


def test_forward_and_backward_steps_and_the_gradient_flowing_back(page, recorded):
    total = sum(len(iteration["steps"]) for iteration in recorded.data["iterations"]) + 1  # and the summary
    page.keyboard.press("d")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#counter") == f"step 1 of {total} · iteration 1 of 3 · forward"
    assert page.inner_text("#title") == "Forward: ex0 · L0.N0: n = w1·x1 + w2·x2 + w3·x3 + b"
    assert page.locator("#u3r0.current").count() == 1 and page.locator("#u0r0.input").count() == 1
    page.screenshot(path=ARTIFACTS / "watch-forward.png")
    page.keyboard.press("2")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#title").startswith("Backward: chain rule through loss")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#title").startswith("Backward: chain rule through ex3.L2.N0.o - ex3.ygt")
    assert page.locator("path.link.back").count() == 1  # into the output neuron's unit, dashed, flowing back
    page.screenshot(path=ARTIFACTS / "watch-backward.png")
    page.keyboard.press("]")
    assert page.inner_text("#counter").endswith("iteration 2 of 3 · forward")


def blocks(recorded, grain):
    """The steps of iteration 1 grouped as the page groups them for `grain`, from the recorded data."""
    net = recorded.data["net"]
    steps = recorded.data["iterations"][0]["steps"]
    depth = {"neuron": 5, "layer": 4, "example": 3, "phase": 2}[grain]

    def key(s):
        u = net["unit_of"][s["node"]]
        e = net["example_of"][s["node"]]
        return (s["phase"], -1 if e is None else e, net["units"][u]["column"], u)[: depth - 1]

    sizes, previous = [], None
    for s in steps:
        if sizes and key(s) == previous:
            sizes[-1] += 1
        else:
            sizes.append(1)
        previous = key(s)
    return sizes


@pytest.mark.parametrize("grain, key, title, size", [
    ("neuron", "n", "Forward · ex0 · L0.N0", 2),  # its sum n and its output o
    ("layer", "l", "Forward · ex0 · layer 0", 4 * 2),
    ("example", "x", "Forward · ex0", 9 * 2),  # 9 neurons: the lecture's ypred = [n(x) for x in xs]
    ("phase", "p", "Forward", 4 * (9 * 2 + 2) + 3),  # then each squared error and the 3 sums
])
def test_each_grain_steps_a_block_and_back(page, recorded, grain, key, title, size):
    sizes = blocks(recorded, grain)
    assert sizes[0] == size
    page.keyboard.press("Home")
    page.keyboard.press(key)
    assert "chosen" in page.get_attribute(f"#by-{grain}", "class")
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#counter").startswith(f"step {size} of")
    assert page.inner_text("#title") == f"{title}: {size} steps"
    page.keyboard.press("ArrowRight")
    assert page.inner_text("#counter").startswith(f"step {sizes[0] + sizes[1]} of")
    page.keyboard.press("ArrowLeft")
    assert page.inner_text("#counter").startswith(f"step {sizes[0]} of")
    page.keyboard.press("ArrowLeft")
    assert page.inner_text("#counter").startswith("step 0 of")
    page.keyboard.press("d")


def test_the_backward_pass_by_neuron_is_that_neurons_chain_rule(page, recorded):
    page.keyboard.press("Home")
    page.keyboard.press("2")
    page.keyboard.press("ArrowLeft")  # to the end of the forward pass
    page.keyboard.press("n")
    for _ in range(4):  # loss.grad = 1 with the sum, then the squared errors: to the output neuron on ex3
        page.keyboard.press("ArrowRight")
        if "L2.N0" in page.inner_text("#title"):
            break
    assert page.inner_text("#title") == "Backward · ex3 · L2.N0: 2 steps"
    lines = page.locator("#lines li").all_inner_texts()
    assert lines[0] == "ex3 · L2.N0: chain rule through o = tanh(n)"
    assert lines[1].startswith("n.grad += (∂o/∂n = 1 − o² = ")
    assert any(line.startswith("w1.grad += (∂n/∂w1 = x1 = ") for line in lines)
    assert any(line.startswith("b.grad += (∂n/∂b = 1.0000) × n.grad") for line in lines)
    assert lines[-1] == "where x1 = ex3.L1.N0.o, x2 = ex3.L1.N1.o, x3 = ex3.L1.N2.o, x4 = ex3.L1.N3.o"
    page.screenshot(path=ARTIFACTS / "watch-backward-neuron.png")
    page.keyboard.press("i")
    page.keyboard.press("ArrowRight")  # to the end of this iteration: the loss after its update
    assert page.inner_text("#counter").endswith("iteration 1 of 3 · update")
    assert page.inner_text("#title") == f"Iteration 1: {len(recorded.data['iterations'][0]['steps'])} steps"
    page.keyboard.press("d")


def test_iteration_keys_at_the_ends(page, recorded):
    starts = [0]
    for iteration in recorded.data["iterations"]:
        starts.append(starts[-1] + len(iteration["steps"]))
    page.keyboard.press("d")
    page.keyboard.press("End")
    page.keyboard.press("[")  # from the summary: the last iteration's start
    assert page.inner_text("#counter") == f"step {starts[2] + 1} of {starts[3] + 1} · iteration 3 of 3 · forward"
    page.keyboard.press("]")  # from the last iteration: the summary
    assert page.inner_text("#counter").endswith("summary")
    page.keyboard.press("Home")
    page.keyboard.press("]")
    assert page.inner_text("#counter").endswith("iteration 1 of 3 · forward")
    page.keyboard.press("[")  # at the first iteration's start: it stays
    assert page.inner_text("#counter").startswith("step 1 of")
    page.keyboard.press("]")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("[")  # in an iteration: its start
    assert page.inner_text("#counter").startswith(f"step {starts[1] + 1} of")
    page.keyboard.press("[")  # at its start: the one before
    assert page.inner_text("#counter").startswith("step 1 of")


def view_box(page) -> list[float]:
    return [float(x) for x in page.get_attribute("#view svg", "viewBox").split()]


def test_zoom_and_pan_with_wheel_drag_buttons_and_keys(page):
    page.keyboard.press("0")
    start = view_box(page)
    page.mouse.move(500, 500)
    page.mouse.wheel(0, -300)
    zoomed = view_box(page)
    assert zoomed[2] < start[2] and zoomed[3] < start[3]  # a smaller part of the graph, larger
    page.mouse.move(500, 600)
    page.mouse.down()
    page.mouse.move(400, 520, steps=4)
    page.mouse.up()
    panned = view_box(page)
    assert panned[0] > zoomed[0] and panned[1] > zoomed[1] and panned[2:] == zoomed[2:]
    page.click("#zoom-out")
    assert view_box(page)[2] > panned[2]
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("0")
    assert view_box(page) == start


@pytest.mark.slow
def test_a_neuron_folds_and_unfolds_on_a_click(page):
    page.keyboard.press("0")
    page.keyboard.press("Home")
    assert page.locator("#u3 g.chip").count() == 0
    page.click("#u3t")  # the neuron's name
    assert page.locator("#u3 g.chip").count() == 4 + 2 * 4  # its parameters, and n and o on each example
    assert page.locator("#u3 g.chip text.name").first.text_content() == "w1"
    page.keyboard.press("ArrowRight")
    assert page.locator("g.chip.current").count() == 1 and page.locator("#u3 g.chip.input").count() == 4
    page.screenshot(path=ARTIFACTS / "watch-unfolded.png")
    page.click("#u3t")
    assert page.locator("#u3 g.chip").count() == 0


@pytest.mark.slow
def test_embedded_as_in_a_notebook_the_text_is_readable_and_the_panel_below(chromium, recorded):
    page = chromium.new_page(viewport={"width": 1100, "height": 900})
    page.set_content(f'<div style="width: 940px; margin: 20px">{recorded._repr_html_()}</div>')
    frame = page.frames[1]
    frame.wait_for_selector("#counter")
    at = frame.evaluate(GEOMETRY)
    assert frame.evaluate(SMALLEST_TEXT) >= 10 and all(inside(unit, at["view"]) for unit in at["units"])
    assert not overlaps(at["aside"], at["view"])
    assert frame.evaluate("document.documentElement.scrollHeight <= document.documentElement.clientHeight")
    page.screenshot(path=ARTIFACTS / "watch-in-notebook.png")
    page.close()


class Hidden:
    """A model whose parameters live in a closure, out of reach of its attributes."""

    def __init__(self):
        weights = [Value(0.5), Value(-0.3), Value(0.8), Value(0.1)]
        self.parameters = lambda: weights
        self.forward = lambda x: (weights[0] * x[0] + weights[1] * x[1] + weights[2] * x[2] + weights[3]).tanh()

    def __call__(self, x):
        return self.forward(x)


def test_a_model_that_hides_its_parameters_is_still_one_readable_neuron():
    page = watch(Hidden(), LECTURE_XS, LECTURE_YS, steps=2)
    units = page.data["net"]["units"]
    assert [u["kind"] for u in units] == ["input"] * 3 + ["neuron", "loss"]
    assert units[3]["places"] == [f"parameters()[{k}]" for k in range(4)]
    names = [node["name"] for node in page.data["nodes"]]
    assert not any(MACHINE_NAME.search(n) for n in names) and "ex0.L0.N0.o" in names
    losses, model = [], Hidden()
    for _ in range(3):
        loss = sum((model(x) - y) ** 2 for x, y in zip(LECTURE_XS, LECTURE_YS))
        losses.append(loss.data)
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        for p in model.parameters():
            p.data += -0.1 * p.grad
    assert page.losses == losses


def test_package_level_name_and_a_hand_built_model_with_labels_of_its_own():
    model = MLP(3, [2, 1], activation="tanh", seed=1)
    model.layers[1].neurons[0].b.label = "bias_out"
    page = glassgrad.watch(model, LECTURE_XS[:2], LECTURE_YS[:2], steps=1, lr=0.05)
    assert "bias_out" in [node["shown"] for node in page.data["nodes"]]
    assert len(page.losses) == 2 and page.data["lr"] == "0.05"
    assert isinstance(lecture_loss(model, LECTURE_XS[:1], LECTURE_YS[:1]), Value)


def test_a_learners_mlp_has_no_machine_name_in_any_view():
    """A lecture-style MLP written by the learner on Values, no labels anywhere: every view names each
    node by its label, its value (a constant) or its formula, or by the source line that made it."""
    from glassgrad.autograd import record_origins, topological_order
    from glassgrad.viz.grouped import grouped_view
    from glassgrad.viz.visualize import draw_dot

    model = LectureMLP(3, [4, 4, 1], seed=0)
    with record_origins() as records:
        loss = sum((model(x) - y) ** 2 for x, y in zip(LECTURE_XS, LECTURE_YS))
    order = topological_order(loss)
    nodes = stepper(loss, max_nodes=None).run["nodes"]
    formulas = [node["shown"] for node, v in zip(nodes, order, strict=True) if v._prev]
    assert len(set(formulas)) == len(formulas)  # each result its own name: `tanh(…) [2]`, `tanh(…) [3]`, ...
    assert not any(MACHINE_NAME.search(node["name"]) for node in nodes)
    names = grouped_view(loss, records).data["names"]
    assert not any(MACHINE_NAME.search(n) or re.fullmatch(r"(node|leaf) ?\d*", n) for n in names)
    here = Path(__file__).name
    lined = [n for n, v in zip(names, order, strict=True) if " at " in n]
    assert lined and all(re.fullmatch(rf"(tanh|\+|\*|-|\*\*2) at {here}:\d+", n) for n in lined), lined[:3]
    svg = draw_dot(model(LECTURE_XS[0]), format="svg").pipe(format="svg", encoding="utf-8")
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    assert texts and not any(MACHINE_NAME.search(t) for t in texts)
