"""The grouped view: where each node was made (record_origins), the group tree and its summaries, one
step of a program (`glassgrad watch script.py`, `glassgrad.watch(loss_fn)`), the training page's
large-graph fallback, and the page in Chromium on a 50,000-node GPT-like graph."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import glassgrad
from glassgrad import Value
from glassgrad.autograd import _changes, detect_anomaly, mode, record_origins, topological_order
from glassgrad.autograd.origins import origin_of
from glassgrad.data import LECTURE_XS, LECTURE_YS
from glassgrad.nn import MLP
from glassgrad.viz.grouped import GroupedPage, grouped_view, page_data, watch_script, watch_step

GPTISH = Path(__file__).with_name("gptish.py")
ROOT = Path(__file__).resolve().parents[1]


def square_sum(xs):
    return sum(x * x for x in xs)


def scaled(xs, k):
    return [x * k for x in xs]


def program(xs):
    total = square_sum(scaled(xs, 2.0))
    return total.tanh()


def test_origins_name_the_users_functions_and_lines_outermost_first():
    xs = [Value(float(i)) for i in range(3)]
    with record_origins() as records:
        out = program(xs)
        k = Value(0.5)
    here = program.__code__.co_firstlineno
    order = topological_order(out)
    chains = {tuple(f[2] for f in origin_of(records, v)) for v in order if origin_of(records, v)}
    test = "test_origins_name_the_users_functions_and_lines_outermost_first"
    assert chains == {
        (test, "program", "scaled", "scaled.<locals>.<listcomp>"),  # x * 2.0 (and its constant 2.0)
        (test, "program", "square_sum", "square_sum.<locals>.<genexpr>"),  # x * x
        (test, "program", "square_sum"),  # sum's + (and its start, 0) run in square_sum's line
        (test, "program"),  # tanh
    } or chains == {  # Python 3.12 and later run a list comprehension inside its function
        (test, "program", "scaled"), (test, "program", "square_sum", "square_sum.<locals>.<genexpr>"),
        (test, "program", "square_sum"), (test, "program")}
    assert origin_of(records, out)[-1][1] == here + 2 and str(origin_of(records, out)).endswith("return total.tanh()")
    assert all(origin_of(records, x) is None for x in xs)  # made before the block
    assert origin_of(records, k)[-1][2] == test  # a leaf made inside it is noted too


def test_nothing_is_noted_outside_the_block_nor_in_another_thread():
    assert _changes[0] == 0 and mode.anomaly is None
    seen = {}

    def other():
        seen["other"] = Value(1.0) * 2  # while this thread records

    with record_origins() as records:
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        mine = Value(1.0) * 2
    after = Value(1.0) * 2
    assert origin_of(records, mine) is not None
    assert origin_of(records, seen["other"]) is None and origin_of(records, after) is None
    assert _changes[0] == 0 and mode.anomaly is None


def test_outside_a_recording_no_origin_is_looked_for(monkeypatch):
    from glassgrad.autograd import origins

    def looked(*_):
        raise AssertionError("where_made ran outside record_origins")

    monkeypatch.setattr(origins, "where_made", looked)
    x = Value(2.0)
    (program([x, Value(1.0)]) * x).backward()  # leaves, results and a backward pass: nothing noted
    with glassgrad.no_grad():  # another mode open: still nothing
        program([x])
    with pytest.raises(AssertionError, match="where_made ran"), record_origins():
        x * 2


def test_recording_does_not_check_for_nan_and_detect_anomaly_inside_it_still_does():
    with record_origins() as records:
        bad = Value(-1.0).log() * 0.0  # nan, and no error: only noted
        assert math.isnan(bad.data) and origin_of(records, bad) is not None
        with pytest.raises(FloatingPointError, match=r"operation 'log' produced nan.*created at .*test_grouped.py"):
            with detect_anomaly():
                Value(-1.0).log()
        Value(-1.0).log()  # checking ended with the inner block
    with detect_anomaly(), record_origins():
        with pytest.raises(FloatingPointError, match="operation 'log' produced nan"):
            Value(-1.0).log()


def gptish_page(width: int, text: str = "hello glass box") -> GroupedPage:
    return watch_script(GPTISH, [str(width), text])


@pytest.fixture(scope="module")
def small():
    return gptish_page(4, "abcab")


def names_below(data: dict, g: int) -> list[str]:
    return [row[2] for row in data["groups"] if row[0] == g]


def test_groups_are_the_programs_functions_and_their_summaries_add_up(small):
    data = small.data
    groups = data["groups"]
    by_path: dict[tuple, int] = {}

    def path(g):
        return () if g == 0 else (*path(groups[g][0]), groups[g][2])

    for g in range(len(groups)):
        by_path[path(g)] = g
    top = data["top"]
    assert path(top) == ("<module>",)
    loss_of = by_path[("<module>", "loss_of")]
    gpt = by_path[("<module>", "loss_of", "gpt")]
    assert {"rmsnorm", "attend", "mlp", "matvec"} <= set(names_below(data, gpt))
    attend = [g for g, row in enumerate(groups) if row[0] == gpt and row[2] == "attend"][0]
    assert {"softmax", "matvec"} <= set(names_below(data, attend))
    assert groups[loss_of][4] == "loss = loss_of(TEXT)" and groups[loss_of][3] == "gptish.py:81"
    # every node in exactly one innermost group; each group's count, mean and max |grad| are its nodes'
    n = len(data["group"])
    assert groups[0][5] == n
    members: dict[int, list[int]] = {}
    for i, g in enumerate(data["group"]):
        while g >= 0:
            members.setdefault(g, []).append(i)
            g = groups[g][0]
    for g, nodes in members.items():
        count, mean, biggest, first = groups[g][5], groups[g][6], groups[g][7], groups[g][8]
        assert count == len(nodes) and first == nodes[0]
        assert mean == pytest.approx(sum(data["data"][i] for i in nodes) / len(nodes), rel=1e-3, abs=1e-3)
        assert biggest == pytest.approx(max(abs(data["grad"][i]) for i in nodes), rel=1e-3)
    assert all(count > 0 for count in (row[5] for row in groups))


def test_the_step_is_the_programs_first_backward_and_its_numbers_are_the_engines():
    """The page's numbers are the ones the program itself computes in its first step."""
    page = gptish_page(4, "abcab")
    namespace: dict = {}
    saved = sys.argv
    sys.argv = [str(GPTISH), "4", "abcab"]
    try:
        source = GPTISH.read_text().split("everything = ")[0]
        exec(compile(source, str(GPTISH), "exec"), namespace)
    finally:
        sys.argv = saved
    loss = namespace["loss_of"]("abcab")
    loss.backward()
    order = topological_order(loss)
    assert len(order) == len(page.data["group"])
    assert page.data["data"][-1] == float(f"{loss.data:.4g}")
    for i in range(0, len(order), 97):
        assert page.data["data"][i] == float(f"{order[i].data:.4g}")
        assert page.data["grad"][i] == float(f"{order[i].grad:.4g}")


def test_watch_of_a_loss_function_records_one_step():
    model = MLP(3, [4, 1], activation="tanh", seed=0)

    def step():
        return sum((model(x) - y) ** 2 for x, y in zip(LECTURE_XS, LECTURE_YS))

    page = glassgrad.watch(step)
    assert isinstance(page, GroupedPage) and "one step of step" in page.title
    groups = page.data["groups"]
    assert any(row[1] == "call" and row[2].endswith("step") for row in groups)
    assert any(row[2] == "made before recording" for row in groups)  # the model's parameters, made earlier
    assert any(row[1] == "label" and row[2] == "L0" for row in groups)  # ... by their labels
    assert model.parameters()[0].grad != 0.0  # the step's backward ran
    with pytest.raises(TypeError, match="watch: got float"):
        watch_step(lambda: 1.0)


def test_the_training_pages_large_graph_becomes_the_grouped_view():
    page = glassgrad.watch(MLP(3, [16, 16, 1], seed=0), LECTURE_XS, LECTURE_YS)
    assert isinstance(page, GroupedPage) and "more than the 500 the training page steps through" in page.title
    groups = page.data["groups"]
    top = [row[2] for row in groups if row[0] == 0]
    assert {"L0", "L1", "L2", "ex0", "ex3"} <= set(top)
    ex0 = [g for g, row in enumerate(groups) if row[0] == 0 and row[2] == "ex0"][0]
    assert set(names_below(page.data, ex0)) >= {"L0", "L1", "L2"}
    small = glassgrad.watch(MLP.lecture(seed=0), LECTURE_XS, LECTURE_YS, steps=1)
    assert not isinstance(small, GroupedPage)  # the lecture's network still gets the training page


def test_without_records_the_labels_group_and_unlabelled_nodes_join_their_user():
    model = MLP(2, [3, 1], activation="tanh", seed=0, fused=False)
    out = model([1.0, -2.0])
    out.backward()
    data = page_data(out, None)
    groups = data["groups"]
    path = []
    for g in data["group"]:
        names = []
        while g > 0:
            names.append(groups[g][2])
            g = groups[g][0]
        path.append(tuple(reversed(names)))
    order = topological_order(out)
    for v, p in zip(order, path):
        if v.label.startswith("L0.N1"):
            assert p == ("L0", "N1")
    products = [p for v, p in zip(order, path) if v._op == "*"]
    assert products and all(p[:1] in (("L0",), ("L1",)) and len(p) == 2 for p in products)
    grouped_view(out)  # and the page is made from them


def test_a_program_without_backward_and_a_missing_program_say_so(tmp_path):
    quiet = tmp_path / "quiet.py"
    quiet.write_text("from glassgrad import Value\nprint((Value(1.0) * 2).data)\n")
    with pytest.raises(ValueError, match=r"quiet.py ran to its end without calling backward\(\)"):
        watch_script(quiet)
    with pytest.raises(FileNotFoundError, match="cannot read the program"):
        watch_script(tmp_path / "missing.py")
    assert "backward" not in Value.__dict__  # the stop is undone


@pytest.mark.slow
def test_glassgrad_watch_script_writes_the_page(tmp_path):
    out = tmp_path / "step.html"
    ran = subprocess.run(
        [sys.executable, "-m", "glassgrad", "watch", "--out", str(out), str(GPTISH), "4", "abcab"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    assert "step 0 loss" not in ran.stdout  # stopped inside its first step, before it printed
    assert "Values in" in ran.stdout and out.stat().st_size > 10_000
    missing = subprocess.run([sys.executable, "-m", "glassgrad", "watch", str(tmp_path / "nope.py")],
                             capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert missing.returncode == 2 and "cannot read the program" in missing.stderr


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    page = gptish_page(13)
    path = page.save(tmp_path_factory.mktemp("grouped") / "big.html")
    return page, path


@pytest.mark.slow
def test_a_50000_node_graph_opens_folded_within_a_bound_and_drills_down(browser, big):
    page_obj, path = big
    assert len(page_obj.data["group"]) >= 50_000
    assert path.stat().st_size < 5_000_000
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    start = time.perf_counter()
    page.goto(path.as_uri())
    page.wait_for_function("document.body.dataset.ready")
    assert time.perf_counter() - start < 6.0  # about 1.1 s on a quiet machine: catches a blow-up, not a slowdown
    boxes = lambda: page.eval_on_selector_all("#graph .box:not(.outside) text.name", "ts => ts.map(t => t.textContent)")  # noqa: E731
    assert "loss_of()" in boxes() and len(boxes()) < 20  # folded: the program's top level
    assert page.locator("#graph .box").count() == page.locator("#graph .box rect.frame").count()
    page.locator("#graph .box text.name", has_text="loss_of()").click()
    page.locator("#graph .box text.name", has_text="gpt()").click()
    assert {"rmsnorm()", "attend()", "mlp()"} <= set(boxes())
    assert "gpt()" in page.locator("#crumbs").inner_text()
    page.locator("#graph .box text.name", has_text="attend()").click()
    page.locator("#graph .box text.name", has_text="softmax()").click()
    page.locator("#graph .box text.name", has_text="line 43").click()  # exps = [(s - top).exp() ...]
    shown = boxes()
    # 315 nodes, more than are drawn one by one: grouped by operation (the constant `top` is a leaf)
    assert sorted(shown) == ["- × 105", "exp × 105", "leaves × 105"]
    page.locator("#graph .box text.name", has_text="exp ×").click()
    assert len(boxes()) == 105 and set(boxes()) == {"exp at gptish.py:43"}  # too long a formula: its line
    page.locator("#graph .box.node").nth(7).click()
    out, (into,) = page.evaluate("(() => { const i = current.items[picked].i; "
                                 "return [D.data[i], Array.from(inputsOf(i)).map(x => D.data[x])]; })()")
    assert out == pytest.approx(math.exp(into), rel=2e-3)  # the node is an exp of its one input
    panel_text = page.locator("#picked").inner_text()
    assert "made by exp" in panel_text and f"{out:.4f}" in panel_text
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    assert page.locator("#where").inner_text().startswith(("softmax()", "line 43"))
    smallest = page.evaluate("Math.min(...[...document.querySelectorAll('#graph text')].map("
                             "t => parseFloat(getComputedStyle(t).fontSize)))")
    assert smallest >= 11
    panel = page.locator("aside").bounding_box()
    graph = page.locator("#graph").bounding_box()
    assert graph["x"] + graph["width"] <= panel["x"] + 1  # the panel never covers the graph
    assert not errors
    page.close()


OVERFLOWING = """() => [...document.querySelectorAll("#graph .box")].flatMap((box) => {
    const frame = box.querySelector("rect.frame").getBoundingClientRect();
    return [...box.querySelectorAll("text")].filter((t) => t.getBoundingClientRect().right > frame.right - 4)
        .map((t) => t.textContent);
})"""


@pytest.mark.slow
def test_every_text_fits_its_box_and_the_tooltip_holds_it_whole(browser, tmp_path):
    path = gptish_page(4, "abcab").save(tmp_path / "gptish.html")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(path.as_uri())
    page.wait_for_function("document.body.dataset.ready")
    groups = page.evaluate("D.groups.length")
    cut = 0
    for g in range(groups):  # every group's level, as a click on its box opens it
        page.evaluate("g => go({g, op: -1})", g)
        assert page.evaluate(OVERFLOWING) == [], g
        boxes = page.eval_on_selector_all("#graph .box:not(.outside)", "bs => bs.map(b => "
                                          "[b.querySelector('title').textContent.split('\\n')[0], "
                                          "b.querySelector('text.name').textContent])")
        for whole, shown in boxes:
            if shown != whole:  # cut to fit: its start and "…", and the tooltip has all of it
                cut += 1
                assert shown.endswith("…") and whole.startswith(shown[:-1].rstrip()), (whole, shown)
    assert groups > 10 and cut > 0  # the program's long lines were met and cut
    page.close()
