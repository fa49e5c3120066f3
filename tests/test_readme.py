"""Every Python snippet in the README (and in docs/save_and_export.md) runs, in order, in one
namespace, as a reader would run them."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def snippets(path: Path = README) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_snippets():
    assert len(snippets()) >= 7


def test_readme_snippets_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for i, code in enumerate(snippets()):
            try:
                exec(compile(code, f"README.md snippet {i + 1}", "exec"), namespace)
            except Exception as e:  # name the snippet that failed
                raise AssertionError(f"README snippet {i + 1} failed: {e!r}\n{code}") from e
    printed = output.getvalue()
    # the lecture's numbers, as the README promises them
    assert "6.0 -4.0 -2.0 -2.0 -2.0 4.0" in printed
    assert "0.7071 -1.5 1.0 0.5 0.0" in printed


def test_save_and_export_doc_snippets_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for i, code in enumerate(snippets(ROOT / "docs" / "save_and_export.md")):
            exec(compile(code, f"docs/save_and_export.md snippet {i + 1}", "exec"), namespace)
    printed = output.getvalue()
    assert "False" not in printed and printed.count("True") >= 3, printed
    assert "glassgrad 1 tensor MLP" in printed
    assert (tmp_path / "lecture.json").exists() and (tmp_path / "model.npz").exists()
