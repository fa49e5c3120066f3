"""notebooks/lecture.ipynb runs top to bottom in a fresh kernel and shows the lecture's numbers."""

from pathlib import Path

import nbformat
from external_tools import require
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def test_the_lecture_notebook_runs_and_shows_the_lectures_numbers():
    require("dot", "apt-get install graphviz")
    notebook = nbformat.read(ROOT / "notebooks" / "lecture.ipynb", as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")  # committed clean
    client = NotebookClient(notebook, kernel_name="python3", timeout=60, resources={"metadata": {"path": str(ROOT)}})
    client.execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    text = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    for line in (
        "slope at 3: 14.0",
        "by hand:    [6.0, -4.0, -2.0, -2.0, -2.0, 4.0]",
        "backward(): [6.0, -4.0, -2.0, -2.0, -2.0, 4.0]",
        "neuron: 0.7071 -1.5 1.0 0.5 0.0",
        "written out: 0.7071 -1.5 1.0",
        "41 parameters: ['L0.N0.w1', 'L0.N0.w2', 'L0.N0.w3', 'L0.N0.b', 'L0.N1.w1']",
        "nodes for one example, fused: 62 unfused: 117 same output: True",
        "ReLU default, final loss: 4.0",
    ):
        assert line in text
    final = float(text.split("final loss: ")[1].split()[0])
    assert final < 0.05
    results = [out.data for out in outputs if out.output_type == "execute_result"]
    assert sum("image/svg+xml" in data for data in results) == 4  # the drawings, inline as SVG
    pages = [data["text/html"] for data in results if "text/html" in data]
    assert len(pages) == 2 and all(page.startswith("<iframe srcdoc=") for page in pages)
