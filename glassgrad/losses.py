"""Loss functions on lists of scalar Values: how wrong a network's outputs are, as one Value."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from glassgrad.engine import Value


def _check_lengths(outputs: Sequence, targets: Sequence, name: str) -> None:
    bad = next((o for o in outputs if not isinstance(o, Value)), None)
    if bad is not None:
        raise TypeError(f"{name}: outputs must be Values (a network's outputs, to backpropagate through), "
                        f"got {type(bad).__name__} {bad!r}")
    if len(outputs) != len(targets):
        raise ValueError(f"{name}: {len(outputs)} outputs but {len(targets)} targets")
    if not outputs:
        raise ValueError(f"{name}: needs at least one output")


def mse(outputs: Sequence[Value], targets: Sequence[float]) -> Value:
    """Mean squared error: mean((output - target)^2)."""
    _check_lengths(outputs, targets, "mse")
    return sum((o - t) ** 2 for o, t in zip(outputs, targets)) * (1.0 / len(outputs))


def _labels(values: Sequence, name: str, what: str, verb: str, allowed: str, ok: Callable[[float], bool]) -> None:
    """TypeError for a label that is not a real number, ValueError naming the first one `ok` refuses."""
    for i, y in enumerate(values):
        if isinstance(y, bool) or not isinstance(y, (int, float)):
            shown = type(y).__name__ + ("" if isinstance(y, Value) else f" {y!r}")
            raise TypeError(f"{name}: {what}s must be numbers {allowed}, got {shown} ({what} {i})")
        if not ok(y):
            raise ValueError(f"{name}: {what}s must {verb} {allowed}, got {y!r} ({what} {i})")


def hinge(scores: Sequence[Value], labels: Sequence[float]) -> Value:
    """SVM max-margin loss for labels -1 and +1: mean(relu(1 - label * score))."""
    _check_lengths(scores, labels, "hinge")
    _labels(labels, "hinge", "label", "be", "-1 or +1", lambda y: y in (-1, 1))
    return sum((1 + -y * s).relu() for s, y in zip(scores, labels)) * (1.0 / len(scores))


def l2(parameters: Sequence[Value], alpha: float) -> Value:
    """L2 regularisation: alpha * sum(p^2), pulling weights towards 0."""
    return alpha * sum(p * p for p in parameters)


def bce_with_logits(logits: Sequence[Value], targets: Sequence[float]) -> Value:
    """Binary cross-entropy of sigmoid(logit) against targets in [0, 1], stable for large |logit|.

    Per logit x and target t it is softplus(x) - x*t, written for each sign of x so that e^x is
    never computed for a large positive x: (1-t)*x + log(1 + e^-x) for x >= 0, -t*x + log(1 + e^x)
    below. Both are smooth and equal, so every derivative (sigmoid(x) - t first) is exact at 0 too.
    """
    _check_lengths(logits, targets, "bce_with_logits")
    _labels(targets, "bce_with_logits", "target", "lie", "in [0, 1]", lambda t: 0.0 <= t <= 1.0)
    terms = []
    for x, t in zip(logits, targets):
        if x.data >= 0:
            terms.append(x * (1.0 - t) + (1 + (-x).exp()).log())
        else:
            terms.append(-x * t + (1 + x.exp()).log())
    return sum(terms) * (1.0 / len(terms))
