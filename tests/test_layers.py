"""Imports point one way (DESIGN §1): cli → render → core → io/model. The core never imports
typer or rich, never the renderers or the CLI."""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "bucket"
CORE = [p for p in SRC.rglob("*.py") if p.parts[-2] not in ("cli", "render") and p.name != "__main__.py"]


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(SRC)))
def test_core_does_not_import_the_cli_or_the_terminal(path):
    bad = {n for n in imports(path) if n.split(".")[0] in ("typer", "rich", "click")
           or n.startswith(("bucket.cli", "bucket.render"))}  # fmt: skip
    assert not bad, f"{path.name} imports {bad}"


def test_renderers_do_not_import_the_cli():
    for path in (SRC / "render").rglob("*.py"):
        assert not {n for n in imports(path) if n.startswith("bucket.cli")}, path.name
