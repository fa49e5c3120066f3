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
