"""Fixtures shared by the page tests: one Chromium for the whole session."""

import pytest
from external_tools import CHROMIUM_ARGS, require


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright, launched once (pages need Graphviz's `dot` too)."""
    require("dot", "apt-get install graphviz")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        executable = require("chromium", "apt-get install chromium")
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Ran:
    """What a `glassgrad` command run in this process returned and printed."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def glassgrad(capsys):
    """`glassgrad ARGS...` run in this process (as the `glassgrad` script runs `cli.main`): its exit
    status and output. Each command also has one test that runs it as a real subprocess."""
    from glassgrad.apps import cli

    def run(*args: str) -> Ran:
        capsys.readouterr()
        try:
            code = cli.main(list(args))
        except SystemExit as exit_:  # argparse: --help, --version, bad arguments
            code = exit_.code
        out, err = capsys.readouterr()
        return Ran(code, out, err)

    return run


@pytest.fixture(autouse=True)
def default_dtypes_restored():
    """Each test starts with the default floating dtypes it found, glassgrad's and PyTorch's (float32):
    a lecture script that sets float64 when it is loaded does not change the tests after it."""
    import torch

    import glassgrad

    ours, theirs = glassgrad.get_default_dtype(), torch.get_default_dtype()
    yield
    glassgrad.set_default_dtype(ours)
    torch.set_default_dtype(theirs)


@pytest.fixture
def torch_float64():
    """PyTorch's default floating dtype float64 for one test (to compare with the float64 scalar engine)."""
    import torch

    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.fixture
def float64():
    """float64 as the default floating dtype of both libraries for one test (`default_dtypes_restored` puts
    the defaults back)."""
    import torch

    import glassgrad

    torch.set_default_dtype(torch.float64)
    glassgrad.set_default_dtype(glassgrad.float64)
