"""`detect_anomaly`'s checks: which operation first made a NaN or inf, forward or backward, and
the line of the user's code that made its node. numpy is imported only when an array is met."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from glassgrad.autograd.modes import mode
from glassgrad.autograd.origins import origin_of, record


def _all_finite(x: Any) -> bool:
    if isinstance(x, float):
        return math.isfinite(x)
    import numpy as np

    return bool(np.isfinite(x).all())


def _any_nan(x: Any) -> bool:
    if isinstance(x, float):
        return x != x
    import numpy as np

    return bool(np.isnan(x).any())


def _produced_anomaly(result: Any, inputs: Sequence[Any]) -> bool:
    """NaN from NaN-free inputs, or inf from finite inputs: this operation made it."""
    if _all_finite(result):
        return False
    if _any_nan(result):
        return not any(_any_nan(x) for x in inputs)
    return all(_all_finite(x) for x in inputs)


def check_forward(out: Any, inputs: Sequence[Any]) -> None:
    """Record where `out` was made; under `detect_anomaly`, raise if its operation produced a NaN or inf."""
    records = mode.anomaly
    line = record(records, out)
    if records.checks and _produced_anomaly(out._data, [x._data for x in inputs]):
        shown = ", ".join(_brief(x._data) for x in inputs)
        raise FloatingPointError(
            f"detect_anomaly: operation '{out._op}' produced {_brief(out._data)} "
            f"from inputs ({shown}), created at {line}"
        )


def _line_of(node: Any) -> str:
    """Where the user's code made `node`, if it was made while detecting anomalies."""
    origin = origin_of(mode.anomaly, node)
    return "<made outside detect_anomaly>" if origin is None else str(origin)


def check_backward(node: Any, k: int, share: Any) -> None:
    """Raise if `node`'s rule gave input #k a NaN or inf share (`share`: its raw number or array)."""
    if _all_finite(share):
        return
    shown = ", ".join(_brief(x._data) for x in node._prev)
    raise FloatingPointError(
        f"detect_anomaly: the backward rule of '{node._op}' produced {_brief(share)} for its "
        f"input #{k} (inputs: {shown}), node created at {_line_of(node)}"
    )


def rule_anomaly(node: Any, error: FloatingPointError) -> FloatingPointError:
    """The error for a step of `node`'s rule, recorded as a node (`create_graph`), that made a NaN or inf."""
    shown = ", ".join(_brief(x._data) for x in node._prev)
    step = str(error).removeprefix("detect_anomaly: ")
    return FloatingPointError(
        f"detect_anomaly: the backward rule of '{node._op}' (inputs: {shown}), node created at {_line_of(node)}, "
        f"failed with create_graph=True: {step}"
    )


def _brief(x: Any) -> str:
    if type(x) is float:
        return repr(x)
    import numpy as np

    x = np.asarray(x)  # a numpy scalar (a 0-d result) is shown as the 0-d array it stands for
    return f"array{tuple(x.shape)} with min {x.min() if x.size else '-'}, max {x.max() if x.size else '-'}"
