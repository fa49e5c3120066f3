"""The `glassgrad` command: `demo`, `train`, `explain`, `watch`. All of the command line is here;
the work is done by `training`, `digits`, `explain` and `training_page`."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from glassgrad.apps.training import (
    MAX_BATCH_SIZE,
    MAX_EPOCHS,
    MAX_STEPS,
    MOONS_SEED,
    MOONS_STEPS,
    check_positive,
    check_whole,
    expected_whole,
)

OUT_HELP = "folder for the model and pictures (default: %(default)s)"
EXPLAIN_PAGE = "glassgrad-out/explain.html"
WATCH_PAGE = "glassgrad-out/watch.html"


def whole_number(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` to `high` (no upper bound if None)."""
    expected = expected_whole(low, high)

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        try:
            return check_whole("", value, low, high)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}") from None

    return parse


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}") from None
    try:
        return check_positive("", value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}") from None


STEPS = whole_number(1, MAX_STEPS)
SEED = whole_number(0)
SEED_HELP = "data and initialisation seed (default: %(default)s)"


def _demo(args: argparse.Namespace) -> int:
    from glassgrad.apps.training import run_demo

    run_demo(Path(args.out), steps=args.steps, seed=args.seed)
    return 0


def _train_moons(args: argparse.Namespace) -> int:
    from glassgrad.apps.training import run_moons

    run_moons(Path(args.out), args.engine, args.steps, args.seed, Path(args.resume) if args.resume else None)
    return 0


def _train_digits(args: argparse.Namespace) -> int:
    from glassgrad.apps.digits import run_digits

    run_digits(Path(args.out), epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
               resume=Path(args.resume) if args.resume else None)
    return 0


def _rounded(x: float) -> str:
    """x to 4 decimals, as the lecture's drawings show numbers: -1.4999999999999993 is -1.5000."""
    return f"{x:.4f}"


def _write(path: str, text: str) -> str:
    """Write `text` to `path` atomically, creating its folder; the path written."""
    from glassgrad.io.storage import atomic_write

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    return str(atomic_write(target, lambda f: f.write(text.encode("utf-8"))))


def _explain(args: argparse.Namespace) -> int:
    """Print the formula's result and every name's gradient, and write the stepper page."""
    from graphviz import CalledProcessError

    from glassgrad.viz.backprop_page import stepper
    from glassgrad.viz.explain import ExplainError, evaluate, parse_values
    from glassgrad.viz.visualize import GraphTooLarge, GraphvizNotInstalled, draw_dot

    try:
        root, leaves = evaluate(args.expression, parse_values(args.values))
        root.backward()
        page = stepper(root, max_nodes=None).html  # evaluate() has bounded the graph
        svg = draw_dot(root, max_nodes=None).pipe(format="svg", encoding="utf-8") if args.svg else ""
    except (ExplainError, GraphTooLarge) as e:
        print(f"glassgrad explain: error: {e}", file=sys.stderr)
        return 2
    except (GraphvizNotInstalled, CalledProcessError) as e:  # no dot, or dot failed: not the user's formula
        print(f"glassgrad explain: error: {e}", file=sys.stderr)
        return 1
    shown = repr if args.full else _rounded
    formula = args.expression.strip()
    computed = "" if formula == root.label else f" = {formula}"  # a lone name is not written twice
    print(f"{root.label}{computed} = {shown(root.data)}")
    if leaves:
        width = max(len("name"), *(len(name) for name in leaves))
        column = 22 if args.full else 10
        print(f"\n{'name':<{width}}  {'value':<{column}}  gradient d({root.label})/d(name)")
        for name, leaf in leaves.items():
            print(f"{name:<{width}}  {shown(leaf.data):<{column}}  {shown(leaf.grad)}")
    else:
        print("\nno names in the expression: nothing to differentiate")
    try:
        written = [_write(args.out, page)] + ([_write(args.svg, svg)] if args.svg else [])
    except OSError as e:
        print(f"glassgrad explain: error: cannot write: {e}", file=sys.stderr)
        return 1
    print(f"\nwrote {', '.join(written)}: open the page in a browser to step through backpropagation")
    return 0


def _watch(args: argparse.Namespace) -> int:
    if args.script:
        return _watch_script(args)
    from glassgrad.data import LECTURE_XS, LECTURE_YS
    from glassgrad.nn import MLP
    from glassgrad.viz.training_page import watch

    page = watch(MLP.lecture(seed=args.seed, fused=args.fused), LECTURE_XS, LECTURE_YS, args.steps, args.lr)
    path = page.save(args.out)
    rose = sum(now > was for was, now in zip(page.losses, page.losses[1:]))
    print(f"loss {page.losses[0]:.4f} -> {page.losses[-1]:.4f} over {args.steps} iterations"
          + (f" (it rose in {rose} of them: the page says why)" if rose else ""))
    print(f"wrote {path}: open it in a browser to step through the training loop")
    return 0


def _watch_script(args: argparse.Namespace) -> int:
    """Run the program up to its first backward() and write the grouped view of that step."""
    from glassgrad.viz.grouped import watch_script

    page = watch_script(args.script, args.script_args)
    path = page.save(args.out)
    top = page.data["groups"][0]
    print(f"one step of {args.script}: {top[5]:,} Values in {len(page.data['groups']) - 1:,} groups by the code "
          f"that made them")
    print(f"wrote {path}: open it in a browser and click a group to open it")
    return 0


def parser() -> argparse.ArgumentParser:
    """The `glassgrad` command line and its subcommands."""
    from glassgrad import __version__

    top = argparse.ArgumentParser(prog="glassgrad", description="A glass-box autograd engine.")
    top.add_argument("--version", action="version", version=f"glassgrad {__version__}")
    commands = top.add_subparsers(dest="command", required=True)
    for add in (_add_demo, _add_train, _add_explain, _add_watch):
        add(commands)
    return top


def _add_demo(commands: Any) -> None:
    """`glassgrad demo`."""
    demo = commands.add_parser("demo", help="train micrograd's moons MLP with the scalar engine")
    demo.add_argument("--out", default="glassgrad-out", help=OUT_HELP)
    demo.add_argument("--steps", type=STEPS, default=MOONS_STEPS, help="training steps (default: %(default)s)")
    demo.add_argument("--seed", type=SEED, default=MOONS_SEED, help=SEED_HELP)
    demo.set_defaults(run=_demo)


def _add_train(commands: Any) -> None:
    """`glassgrad train moons` and `glassgrad train digits`."""
    train = commands.add_parser("train", help="train a model: moons (either engine) or handwritten digits")
    datasets = train.add_subparsers(dest="dataset", required=True)
    moons = datasets.add_parser("moons", help="micrograd's moons MLP")
    moons.add_argument("--engine", choices=("scalar", "tensor"), default="scalar",
                       help="scalar Values or numpy Tensors (default: %(default)s)")
    moons.add_argument("--out", default="glassgrad-out", help=OUT_HELP)
    moons.add_argument("--steps", type=STEPS, default=MOONS_STEPS, help="training steps (default: %(default)s)")
    moons.add_argument("--seed", type=SEED, default=MOONS_SEED, help=SEED_HELP)
    moons.add_argument("--resume", metavar="MODEL", help="start from a saved model instead of a fresh one")
    moons.set_defaults(run=_train_moons)

    digits = datasets.add_parser("digits", help="scikit-learn's 8x8 digits with the Tensor engine")
    digits.add_argument("--out", default="glassgrad-out", help=OUT_HELP)
    digits.add_argument("--epochs", type=whole_number(1, MAX_EPOCHS), default=40,
                        help="passes over the data (default: %(default)s)")
    digits.add_argument("--batch-size", type=whole_number(1, MAX_BATCH_SIZE), default=32,
                        help="minibatch size (default: %(default)s)")
    digits.add_argument("--lr", type=positive_float, default=2e-3, help="Adam's learning rate (default: %(default)s)")
    digits.add_argument("--seed", type=SEED, default=0,
                        help="split, initialisation and shuffling seed (default: %(default)s)")
    digits.add_argument("--resume", metavar="MODEL", help="start from a saved model instead of a fresh one")
    digits.set_defaults(run=_train_digits)


def _add_explain(commands: Any) -> None:
    """`glassgrad explain`."""
    from glassgrad.viz.explain import FUNCTIONS, MAX_LENGTH, MAX_VALUES

    explain = commands.add_parser(
        "explain",
        help="compute a formula, print its gradients and write a page that steps through backpropagation",
        description="Compute EXPR with glassgrad Values, print d(EXPR)/d(name) for every name, and write "
        "the backprop stepper page. EXPR uses numbers, names, + - * / **, unary minus, parentheses and "
        f"{', '.join(FUNCTIONS)}; at most {MAX_LENGTH} characters and {MAX_VALUES} Values. The page's "
        "drawing needs Graphviz's dot. Put -- before an EXPR that starts with '-'.",
    )
    explain.add_argument("expression", metavar="EXPR", help='e.g. "tanh(x1*w1 + x2*w2 + b)"')
    explain.add_argument("values", nargs="*", metavar="NAME=VALUE", help="a number for each name, e.g. x1=2")
    explain.add_argument("--out", default=EXPLAIN_PAGE, metavar="FILE.html", help="the page (default: %(default)s)")
    explain.add_argument("--svg", metavar="FILE.svg", help="also write the graph drawing as SVG")
    explain.add_argument("--full", action="store_true", help="print every number in full instead of to 4 decimals")
    explain.set_defaults(run=_explain)


def _add_watch(commands: Any) -> None:
    """`glassgrad watch`."""
    from glassgrad.viz.training_page import MAX_ITERATIONS, WATCH_SEED

    watch = commands.add_parser(
        "watch",
        help="train the lecture's MLP on its four examples and write a page replaying the training loop",
        description="Train the lecture's network (MLP(3, [4, 4, 1]) with tanh) on its four examples with the "
        "lecture's loop, and write one self-contained page that replays every iteration: forward pass and loss, "
        "backward pass node by node, the update of every parameter, and the loss after it. With the defaults "
        f"the loss falls at every iteration (for up to {MAX_ITERATIONS}); with another seed or a larger lr it can "
        "rise on the way, and the page says why.",
    )
    watch.add_argument("--steps", type=whole_number(1, MAX_ITERATIONS), default=5,
                       help="iterations (default: %(default)s)")
    watch.add_argument("--lr", type=positive_float, default=0.1, help="learning rate (default: %(default)s)")
    watch.add_argument("--seed", type=SEED, default=WATCH_SEED, help="initial weights' seed (default: %(default)s)")
    watch.add_argument("--fused", action=argparse.BooleanOptionalAction, default=True,
                       help="each neuron's w.x + b as one node; --no-fused builds it from * and + as the lecture "
                       "does (default: fused)")
    watch.add_argument("--out", default=WATCH_PAGE, metavar="FILE.html", help="the page (default: %(default)s)")
    watch.add_argument("script", nargs="?", metavar="SCRIPT.py",
                       help="instead, run this program of glassgrad Values up to its first backward() and show that "
                       "step's graph grouped by the functions and lines that made it (options before SCRIPT.py)")
    watch.add_argument("script_args", nargs=argparse.REMAINDER, metavar="ARGS", help="the program's arguments")
    watch.set_defaults(run=_watch)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    try:
        args = parser().parse_args(argv)  # --help prints too
        return args.run(args)
    except BrokenPipeError:  # the reader went away (`glassgrad explain ... | head`): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush of stdout is silent
        return 128 + 13  # the shell's status of a command that SIGPIPE stopped
    except (ValueError, OSError) as error:  # bad input or an unusable path: one line, not a traceback
        print(f"glassgrad {args.command}: error: {error}", file=sys.stderr)
        return 1 if isinstance(error, OSError) and not isinstance(error, FileNotFoundError) else 2


if __name__ == "__main__":
    sys.exit(main())
