"""The package's folders are layers, and imports point one way: no module imports a layer above its own.

Every `import` in every module is read with `ast` (those inside functions too, which load lazily),
so a lazy import cannot hide an upward dependency. The package's `__init__.py` is the facade that
names everything, and is left out.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "glassgrad"

LAYERS = [  # bottom first; a module may import its own layer and the ones before it
    ("autograd",),
    ("ops",),
    ("engine", "_tensor"),
    ("nn", "optim", "data", "losses", "utils"),
    ("io",),
    ("viz",),
    ("apps", "__main__"),
]
RANK = {top: rank for rank, tops in enumerate(LAYERS) for top in tops}
FACADE = RANK["apps"]  # a name from glassgrad/__init__.py itself (`from glassgrad import __version__`): the top


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "__init__.py")


def layer_of(dotted: str) -> str:
    """The top-level part of glassgrad that a dotted module name belongs to ('' for the package itself)."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else ""


def rank_of(dotted: str) -> int:
    return RANK.get(layer_of(dotted), FACADE)


def dotted_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, glassgrad module) for each import in `path` (or in `source`, read as if it were there)."""
    package = dotted_name(path) if path.name == "__init__.py" else dotted_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8") if source is None else source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found += [(node.lineno, f"{base}.{alias.name}" if base == "glassgrad" else base) for alias in node.names]
    return [(line, name) for line, name in found if name == "glassgrad" or name.startswith("glassgrad.")]


def test_every_top_level_part_has_a_layer():
    tops = {p.stem if p.parent == PACKAGE else p.relative_to(PACKAGE).parts[0] for p in modules()}
    assert tops <= set(RANK), f"modules with no layer in LAYERS: {sorted(tops - set(RANK))}"
    folders = {p.parent for p in modules()} - {PACKAGE}
    assert all((f / "__init__.py").exists() for f in folders), "each layer folder is a package (installs with it)"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_layer_above_its_own(path):
    mine = rank_of(dotted_name(path))
    upward = [f"line {line}: {name}" for line, name in imported(path) if rank_of(name) > mine]
    assert not upward, f"{path.relative_to(PACKAGE)} (layer {mine}) imports upward: {upward}"


def test_the_check_sees_lazy_and_relative_imports():
    source = "import math\ndef f():\n    from glassgrad import viz\n    from ..apps import cli\n"
    names = [name for _, name in imported(PACKAGE / "ops" / "tensor_ops.py", source)]
    assert names == ["glassgrad.viz", "glassgrad.apps"]
    assert all(rank_of(n) > RANK["ops"] for n in names)

