"""The `glassgrad` command: `demo`, `train`, `explain`, `watch`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    from glassgrad import __version__, explain, training, training_page

    parser = argparse.ArgumentParser(prog="glassgrad", description="A glass-box autograd engine.")
    parser.add_argument("--version", action="version", version=f"glassgrad {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    training.add_commands(commands)
    explain.add_command(commands)
    training_page.add_command(commands)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError) as error:  # bad input or an unusable path: one line, not a traceback
        print(f"glassgrad {args.command}: error: {error}", file=sys.stderr)
        return 1 if isinstance(error, OSError) and not isinstance(error, FileNotFoundError) else 2


if __name__ == "__main__":
    sys.exit(main())
