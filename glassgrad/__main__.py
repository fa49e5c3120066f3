"""`python -m glassgrad`: the same as the `glassgrad` command."""

import sys

from glassgrad.apps.cli import main

sys.exit(main())
