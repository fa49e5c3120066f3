"""`glassgrad explain` on hostile input: every expression finishes within a bound or is refused with a
clear limit, and Graphviz's `dot` never outlives glassgrad or its time limit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from external_tools import require

from glassgrad import Value
from glassgrad.apps.cli import main
from glassgrad.viz import visualize

# Seconds for parsing, the engine, the page and Graphviz's layout together. The cases take 0.1-0.3 s on a
# quiet machine; before explain bounded its work, 60 terms of x+x took 12.7 s. The bound catches that kind
# of blow-up while leaving room for a loaded CI machine (speed itself is measured in benchmarks/).
TIME_LIMIT = 5.0


def names(n: int) -> tuple[str, list[str]]:
    return "+".join(f"x{i}" for i in range(n)), [f"x{i}=1" for i in range(n)]


CASES = [  # (id, expression, values, exit status, what stdout's first line or stderr says)
    ("x+x 60 terms", "+".join(["x"] * 60), ["x=1"], 0, "out = x+x"),
    ("x+x 150 terms", "+".join(["x"] * 150), ["x=1"], 0, "out = x+x"),
    ("x+x 200 terms", "+".join(["x"] * 200), ["x=1"], 0, "out = x+x"),
    ("x+x 400 terms", "+".join(["x"] * 400), ["x=1"], 2, "makes 400 Values, more than explain's limit of 200"),
    ("(x+y) product 60", "*".join(["(x+y)"] * 60), ["x=1", "y=2"], 0, "out = (x+y)*"),
    ("x*x 95 terms twice", "*".join(["x"] * 95) + "+" + "*".join(["y"] * 95), ["x=1", "y=2"], 0, "out = x*x"),
    ("x*x 140 terms twice", "*".join(["x"] * 140) + "+" + "*".join(["y"] * 140), ["x=1", "y=2"], 2, "limit of 200"),
    ("100 distinct names", *names(100), 0, "out = x0+x1"),
    ("300 distinct names", *names(300), 2, "characters, more than explain's limit of 1000"),
    ("nested parentheses 150", "(" * 150 + "x" + ")" * 150, ["x=1"], 0, "x = " + "(" * 150),
    ("nested parentheses 300", "(" * 300 + "x" + ")" * 300, ["x=1"], 2, "too many nested parentheses"),
    ("unary minus 900", "-" * 900 + "x", ["x=1"], 2, "nested too deeply"),
    ("tanh nested 100", "tanh(" * 100 + "x" + ")" * 100, ["x=1"], 0, "out = tanh(tanh("),
    ("huge exponent", "2**1000000000", [], 0, "out = 2**1000000000 = inf"),
    ("tower of exponents", "(x**2)**2**2**2**2**2", ["x=2"], 0, "out = (x**2)**2**2**2**2**2 = inf"),
    ("long integer", "1" * 900, [], 2, "too large"),
    ("long float", "1." + "1" * 5000, [], 2, "5002 characters, more than explain's limit of 1000"),
    ("long name", "x" * 5000, ["x" * 5000 + "=1"], 2, "characters, more than explain's limit"),
    ("numbers only", "1+2", [], 0, "out = 1+2 = 3.0"),
    ("one number", "2", [], 0, "out = 2 = 2.0"),
    ("nan", "x", ["x=nan"], 0, "x = nan"),
    ("inf", "x*2", ["x=inf"], 0, "out = x*2 = inf"),
    ("huge value", "x", ["x=" + "9" * 400], 0, "x = inf"),
]


@pytest.mark.parametrize("expression, values, status, says", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_expressions_finish_fast_or_are_refused_clearly(tmp_path, capsys, expression, values, status, says):
    require("dot", "Graphviz")
    start = time.perf_counter()
    got = main(["explain", "--out", str(tmp_path / "p.html"), "--", expression, *values])
    elapsed = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert got == status, err
    assert elapsed < TIME_LIMIT, f"{elapsed:.2f} s"
    if status == 0:
        assert out.splitlines()[0].startswith(says), out[:300]
        assert (tmp_path / "p.html").exists() and err == ""
    else:
        assert err.count("\n") == 1 and err.startswith("glassgrad explain: error: ") and says in err, err
        assert list(tmp_path.iterdir()) == []


def test_a_leaf_or_a_formula_of_numbers_prints_clean_lines(tmp_path, capsys):
    assert main(["explain", "--out", str(tmp_path / "p.html"), "x", "x=nan"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "x = nan" and out[3].split() == ["x", "nan", "1.0000"]
    assert main(["explain", "--out", str(tmp_path / "p.html"), "1+2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "out = 1+2 = 3.0000" and out[2] == "no names in the expression: nothing to differentiate"


@pytest.mark.slow
def test_dot_runs_once_per_drawing_written(tmp_path, monkeypatch, capsys):
    require("dot", "Graphviz")
    runs = []
    real = visualize.Drawing.pipe
    monkeypatch.setattr(visualize.Drawing, "pipe", lambda self, *a, **k: runs.append(1) or real(self, *a, **k))
    assert main(["explain", "--out", str(tmp_path / "p.html"), "x*y", "x=1", "y=2"]) == 0
    assert len(runs) == 1  # the page's drawing
    svg = tmp_path / "g.svg"
    assert main(["explain", "--out", str(tmp_path / "p.html"), "--svg", str(svg), "x*y", "x=1", "y=2"]) == 0
    assert len(runs) == 3 and "<svg" in svg.read_text() and "grad 1.0000" in svg.read_text()


def fake_dot(folder: Path) -> Path:
    """A `dot` that records its pid and never finishes: the worst Graphviz could do."""
    script = folder / "dot"
    script.write_text(f"#!/bin/sh\necho $$ > {folder / 'dot.pid'}\nexec sleep 600\n")
    script.chmod(0o755)
    return folder / "dot.pid"


def gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":  # exited, waiting for its parent to reap it
            return True
        time.sleep(0.02)
    return False


def test_dot_is_stopped_at_the_time_limit_with_a_clear_error(tmp_path, monkeypatch):
    pidfile = fake_dot(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    monkeypatch.setattr(visualize, "DOT_TIMEOUT", 0.3)
    start = time.perf_counter()
    with pytest.raises(visualize.GraphTooLarge, match=r"Graphviz took more than 0.3 s to lay out the graph"):
        visualize.draw_dot(Value(1.0) * 2).pipe(format="svg")
    assert time.perf_counter() - start < 2.0
    assert gone(int(pidfile.read_text()), within=1.0)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="dying with the parent is Linux's PR_SET_PDEATHSIG")
def test_dot_dies_when_glassgrad_is_killed(tmp_path):
    pidfile = fake_dot(tmp_path)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    child = subprocess.Popen([sys.executable, "-m", "glassgrad", "explain", "x*2", "x=1", "--out",
                              str(tmp_path / "p.html")], env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline and child.poll() is None
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert gone(int(pidfile.read_text()), within=2.0), "dot outlived glassgrad"
