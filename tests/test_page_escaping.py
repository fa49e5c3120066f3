"""Labels are data: whatever a Value's label says, the stepper page shows it as text, once, and the page's
template cannot be steered by it (no marker expanded twice, no tag or script injected)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from importlib.resources import files

import pytest

from glassgrad import Value
from glassgrad.viz.backprop_page import stepper

HOSTILE = [
    "{{RUN}}",
    "{{SVG}}",
    "{{TITLE}}",
    "</script><script>alert(1)</script>",
    "<!--<script>",
    "<img src=x onerror=alert(1)>",
    "&lt;b&gt; & \" '",
    "line\u2028break",
]


class Page(HTMLParser):
    """The tags of a page, the text of its <title> (not the SVG's) and the contents of its JSON script."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.title = ""
        self.run = ""
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if (tag == "title" and "svg" not in self.tags) or (tag == "script" and ("type", "application/json") in attrs):
            self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "title":
            self.title += data
        elif self._in == "script":
            self.run += data


def graph(root_label: str, leaf_label: str) -> Value:
    a = Value(2.0, label=leaf_label)
    b = Value(-3.0, label="b")
    out = a * b + a
    out.label = root_label
    return out


@pytest.mark.parametrize("label", HOSTILE)
def test_a_hostile_label_is_shown_as_text_once_and_cannot_steer_the_template(label):
    page = stepper(graph(label, label)).html
    plain = Page(stepper(graph("out", "a")).html)
    parsed = Page(page)
    assert parsed.tags == plain.tags  # the same elements as a page of harmless labels: nothing injected
    run = json.loads(parsed.run)
    assert run["nodes"][-1]["name"] == f"({label})"  # the root; a name that is no identifier is parenthesised
    assert parsed.title == f"glassgrad backprop stepper: ({label})"
    assert [n["shown"] for n in run["nodes"]].count(label) == 2
    assert page.count('"steps"') == 1 and page.count("<svg") == 1


def test_all_hostile_labels_in_one_graph_keep_the_page_small():
    leaves = [Value(float(i), label=label) for i, label in enumerate(HOSTILE)]
    root = sum(leaves[1:], leaves[0])
    root.label = "{{RUN}}{{SVG}}{{RUN}}"
    page = stepper(root).html
    parsed = Page(page)
    assert parsed.tags.count("script") == 2 and "img" not in parsed.tags
    template = files("glassgrad.viz").joinpath("backprop_page.html").read_text(encoding="utf-8")
    assert len(page) - len(template) < 35_000  # one copy of the run data, not one per marker in a label
    assert {n["shown"] for n in json.loads(parsed.run)["nodes"]} >= set(HOSTILE)
