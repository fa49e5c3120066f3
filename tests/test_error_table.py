"""The README's table of bad inputs: each row's code raises the error the table shows."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import glassgrad
from glassgrad import Tensor, Value
from glassgrad.nn import MLP

README = Path(__file__).resolve().parent.parent / "README.md"


def rows() -> list[tuple[str, str]]:
    table = README.read_text(encoding="utf-8").split("## Bad input, and the error it gets")[1]
    return re.findall(r"^\| `(.+?)`.*? \| (.+) \|$", table, flags=re.M)


def test_table_is_there():
    assert len(rows()) >= 9


@pytest.mark.parametrize("code, error", [r for r in rows() if "explain" not in r[0] and "load(" not in r[0]])
def test_row_raises_what_the_table_says(code, error):
    kind = re.search(r"(\w+Error)", error).group(1)
    with pytest.raises({"TypeError": TypeError, "ValueError": ValueError}[kind]) as info:
        eval(code, {"Value": Value, "Tensor": Tensor, "MLP": MLP, "np": np})
    message = str(info.value)
    fragments = re.findall(r"`([^`]+)`", error)
    for fragment in fragments:
        text = fragment.split(": ", 1)[1] if fragment.startswith(kind + ": ") else fragment
        if text != kind:
            assert text in message, (code, message)


def test_tampered_file_row(tmp_path):
    path = glassgrad.save(MLP(2, [3, 1], seed=0), tmp_path / "tampered.json")
    doc = json.loads(path.read_text())
    doc["layers"][0]["weights"][0][0] = "nan"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="expected a finite number, got 'nan'"):
        glassgrad.load(path)


def test_hostile_explain_row(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "glassgrad", "explain", "__import__('os')", "--out", str(tmp_path / "p.html")],
        capture_output=True, text=True,
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "p.html").exists()
