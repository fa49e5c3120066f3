"""The learner's path needs nothing but Python: `Value`, `glassgrad.nn.MLP`, the losses, an optimizer
and the lecture's loop run in a process where importing numpy fails, and give the very numbers
they give with numpy present."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LECTURE = """
import json, sys

class NoNumpy:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy" or name.startswith("numpy."):
            raise ImportError(f"{name} is blocked in this test")

if sys.argv[1] == "blocked":
    sys.meta_path.insert(0, NoNumpy())
import glassgrad
from glassgrad import Value, losses
from glassgrad.data import LECTURE_XS, LECTURE_YS
from glassgrad.nn import MLP
from glassgrad.optim import SGD
from lecture_loop import lecture_loop

history = []
for fused in (True, False):
    model = MLP.lecture(seed=0, fused=fused)
    history += lecture_loop(model, 30)  # the lecture's loop, as typed in the lecture (tests/lecture_loop.py)
    optimizer = SGD(model.parameters(), lr=0.05)
    for _ in range(5):  # and with a loss function and an optimizer
        loss = losses.mse([model(x) for x in LECTURE_XS], LECTURE_YS)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.data)
x = Value(0.5)
(g,) = glassgrad.grad((x * x).tanh(), [x])
with glassgrad.no_grad():
    y = (x.exp() / 0.0).log()
try:
    with glassgrad.detect_anomaly():
        x.exp() / 0.0
except FloatingPointError as error:
    caught = str(error)
print(json.dumps({"history": history, "grad": g, "y": y.data, "caught": caught,
                  "numpy": "numpy" in sys.modules}))
"""


def run(mode: str) -> dict:
    path = os.pathsep.join([str(ROOT), str(ROOT / "tests")])  # glassgrad, and tests/lecture_loop.py
    done = subprocess.run([sys.executable, "-c", LECTURE, mode], capture_output=True, text=True, cwd=ROOT,
                          env={"PYTHONPATH": path, "PATH": ""}, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_lecture_trains_with_numpy_blocked_and_matches_the_run_with_numpy():
    blocked, free = run("blocked"), run("free")
    assert not blocked["numpy"]
    assert blocked["history"] == free["history"]  # the same numbers, to the last bit
    assert blocked["history"][29] < 0.05 and blocked["history"][65] < 0.05  # it learned, fused and unfused
    assert blocked["history"][30:35] == sorted(blocked["history"][30:35], reverse=True)
    assert (blocked["grad"], blocked["y"]) == (free["grad"], free["y"]) and blocked["y"] == float("inf")
    assert blocked["caught"].startswith("detect_anomaly: operation '/' produced inf from inputs (1.6487")
