"""notebooks/lecture.ipynb is stored with its outputs, so GitHub shows them, and they are what a fresh
run gives: the test executes the notebook in a fresh kernel and fails on any difference. After
changing the notebook or what it shows, store fresh outputs with `python tests/test_notebook.py`.

Only what varies between equal runs is set aside: memory addresses in reprs, and the geometry of
SVG drawings (Graphviz's layout differs between its versions), which are compared by their texts.
"""

from __future__ import annotations

import copy
import html
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "lecture.ipynb"
REFRESH = "python tests/test_notebook.py"
MAX_BYTES = 1_000_000

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_SVG_TEXT = re.compile(r"<(text|title)\b[^>]*>(.*?)</\1>", re.S)
_SRCDOC = re.compile(r'srcdoc="([^"]*)"')
_COMMENT = re.compile(r"<!--.*?-->", re.S)  # Graphviz writes its version in one


def svg_texts(svg: str) -> str:
    """An SVG drawing as what it says: its texts and titles in order (Graphviz names nodes and edges
    in titles), without the coordinates."""
    return "<svg: " + " | ".join(html.unescape(m[2]).strip() for m in _SVG_TEXT.finditer(svg)) + ">"


def normalised(text: str) -> str:
    """`text` (an output) without what changes between equal runs."""
    text = _SRCDOC.sub(lambda m: 'srcdoc="' + normalised(html.unescape(m[1])) + '"', text)
    return _ADDRESS.sub(" at 0x…", _COMMENT.sub("", _SVG.sub(lambda m: svg_texts(m[0]), text)))


def outputs_of(cell: nbformat.NotebookNode) -> list:
    """A code cell's outputs as comparable values: streams joined, each result's formats normalised."""
    shown: list = []
    for out in cell.get("outputs", []):
        kind = out.output_type
        if kind == "stream":
            if shown and shown[-1][0] == out.name:  # a stream may arrive in several pieces
                shown[-1] = (out.name, shown[-1][1] + out.text)
            else:
                shown.append((out.name, out.text))
        elif kind in ("execute_result", "display_data"):
            shown.append((kind, {mime: normalised(str(data)) for mime, data in out.data.items()}))
        else:
            shown.append((kind, out.get("ename"), out.get("evalue")))
    return shown


def execute(notebook: nbformat.NotebookNode, where: Path) -> float:
    """Run every cell of `notebook` in a fresh kernel working in `where`, as Jupyter would; the seconds taken."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    client = NotebookClient(notebook, kernel_name="python3", timeout=120, record_timing=False,
                            resources={"metadata": {"path": str(where)}})
    start = time.perf_counter()
    client.execute(env=env)
    return time.perf_counter() - start


def without_outputs(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    fresh = copy.deepcopy(notebook)
    for cell in fresh.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return fresh


@pytest.mark.slow
def test_the_stored_outputs_are_what_a_fresh_run_gives(tmp_path):
    from external_tools import require

    require("dot", "apt-get install graphviz")
    stored = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in stored.cells if cell.cell_type == "code"]
    assert NOTEBOOK.stat().st_size < MAX_BYTES
    fresh = without_outputs(stored)
    execute(fresh, tmp_path)
    for k, (old, new) in enumerate(zip(code, [cell for cell in fresh.cells if cell.cell_type == "code"])):
        first_line = new.source.splitlines()[0]
        assert outputs_of(old) == outputs_of(new), f"code cell {k} ({first_line!r}) shows something else now: {REFRESH}"

    outputs = [out for cell in fresh.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    text = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    for line in (  # the lecture's numbers
        "slope at 3: 14.0",
        "slope dda = -3.0000",
        "by hand: [6.0, -4.0, -2.0, -2.0, -2.0, 4.0]",
        "dL/da: by hand  6.0, by nudging 6.0000",
        "dL/df: by hand  4.0, by nudging 4.0000",
        "by hand: n 0.5 x1 -1.5 w1 1.0 x2 0.5 w2 0.0",
        "calling each _backward(): [-1.5, 1.0, 0.5, 0.0]",
        "reversed order, each _backward(): [-1.5, 1.0, 0.5, 0.0]",
        "same order: True",
        "o.backward(): [-1.5, 1.0, 0.5, 0.0]",
        "with =:  a.grad = 1.0",
        "with +=: a.grad = 2.0",
        "written out: o 0.7071 x1 -1.5 w1 1.0 x2 0.5 w2 0.0",
        "41 parameters: ['L0.N0.w1', 'L0.N0.w2', 'L0.N0.w3', 'L0.N0.b', 'L0.N1.w1']",
        "nodes for one example, fused: 62 unfused: 117 same output: True",
    ):
        assert line.replace("dda", "dd/da") in text, line
    raised = float(text.split("along the gradient: ")[1].split()[0])
    assert -8.0 < raised < -7.0
    torch_row, glassgrad_row, values_row = (
        eval(text.split(name)[1].splitlines()[0]) for name in ("PyTorch:   ", "glassgrad: ", "Values:    ")
    )
    assert torch_row == pytest.approx(glassgrad_row, rel=1e-15) and values_row == pytest.approx(torch_row, rel=1e-14)
    assert float(text.split("final loss: ")[1].split()[0]) < 0.05
    results = [out.data for out in outputs if out.output_type in ("execute_result", "display_data")]
    assert sum("image/svg+xml" in data for data in results) == 6  # the drawings, inline as SVG text
    pages = [data["text/html"] for data in results if "text/html" in data]
    assert len(pages) == 2 and pages[0].startswith("<iframe srcdoc=")  # the stepper, inline
    assert 'src="glassgrad-out/watch.html"' in pages[1] and (tmp_path / "glassgrad-out" / "watch.html").is_file()


def refresh() -> None:
    """Store fresh outputs in notebooks/lecture.ipynb (run from anywhere: `python tests/test_notebook.py`)."""
    notebook = without_outputs(nbformat.read(NOTEBOOK, as_version=4))
    with tempfile.TemporaryDirectory() as where:
        seconds = execute(notebook, Path(where))
    nbformat.write(notebook, NOTEBOOK)
    print(f"wrote {NOTEBOOK.relative_to(ROOT)}: {NOTEBOOK.stat().st_size / 1e6:.2f} MB, executed in {seconds:.1f} s")


if __name__ == "__main__":
    sys.exit(refresh())
