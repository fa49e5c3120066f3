"""The lecture's training loop, as typed in the lecture; numpy-free, so test_without_numpy's blocked
process runs the very loop test_nn does."""

from glassgrad.data import LECTURE_XS, LECTURE_YS


def lecture_loop(model, steps: int) -> list[float]:
    """`steps` iterations of forward pass, squared-error loss, zeroed grads, backward and update by -0.1
    times the gradient; the loss at every step."""
    history = []
    for _ in range(steps):
        ypred = [model(x) for x in LECTURE_XS]
        loss = sum((yout - ygt) ** 2 for ygt, yout in zip(LECTURE_YS, ypred))
        for p in model.parameters():
            p.grad = 0.0
        loss.backward()
        for p in model.parameters():
            p.data += -0.1 * p.grad
        history.append(loss.data)
    return history
