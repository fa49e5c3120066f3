"""Loss functions on lists of scalar Values: how wrong a network's outputs are, as one Value."""

from __future__ import annotations

from collections.abc import Sequence

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


def hinge(scores: Sequence[Value], labels: Sequence[float]) -> Value:
    """SVM max-margin loss for labels -1 and +1: mean(relu(1 - label * score))."""
    _check_lengths(scores, labels, "hinge")
    if any(y not in (-1, 1) for y in labels):
        raise ValueError(f"hinge: labels must be -1 or +1, got {sorted(set(labels))}")
    return sum((1 + -y * s).relu() for s, y in zip(scores, labels)) * (1.0 / len(scores))


def l2(parameters: Sequence[Value], alpha: float) -> Value:
    """L2 regularisation: alpha * sum(p^2), pulling weights towards 0."""
    return alpha * sum(p * p for p in parameters)


def bce_with_logits(logits: Sequence[Value], targets: Sequence[float]) -> Value:
    """Binary cross-entropy of sigmoid(logit) against targets in [0, 1], stable for large |logit|.

    Uses max(x, 0) - x*t + log(1 + e^-|x|), which equals -t log s(x) - (1-t) log(1 - s(x))
    without ever computing e^x for a large positive x.
    """
    _check_lengths(logits, targets, "bce_with_logits")
    if any(not 0.0 <= t <= 1.0 for t in targets):
        raise ValueError("bce_with_logits: targets must lie in [0, 1]")
    terms = []
    for x, t in zip(logits, targets):
        magnitude = x.relu() + (-x).relu()
        terms.append(x.relu() - x * t + (1 + (-magnitude).exp()).log())
    return sum(terms) * (1.0 / len(terms))
