"""The house rules, as tests (DESIGN §1).

- Imports point one way: cli → render → analysis → model → settings/events → results/io →
  errors. A module imports its own folder and the layers below it, never above, and no two
  modules import each other, directly or round a circle (lazy imports inside functions count).
- The core (everything but cli/ and render/) never imports typer, rich or click.
- No private name crosses a module: nothing imports ``_name`` from another module, and no module
  is private.
- Size budgets: modules ≤ 500 lines; functions ≤ 60 lines (docstring aside) and ≤ 6 positional
  parameters, except the commands, whose signatures are their options.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "bucket"
MODULES = sorted(p for p in SRC.rglob("*.py"))
# rank of each layer: a module may import modules of its own layer or of a lower rank
RANK = {
    "errors": 0,
    "io": 1,
    "results": 1,
    "settings": 2,
    "events": 2,
    "model": 3,
    "analysis": 4,
    "render": 5,
    "cli": 6,
    "__main__": 7,
}
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
MAX_POSITIONAL = 6


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "package"


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names imported from it) for every import, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, []) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names]))
    return found


def bucket_targets(path: Path) -> set[str]:
    """The bucket modules a file imports (``from bucket.x import y`` may name module y)."""
    known = {module_name(p) for p in MODULES}
    out = set()
    for module, names in imports(path):
        if not module.startswith("bucket"):
            continue
        subs = {f"{module}.{n}" for n in names} & known
        out |= subs or {module}
    return out - {"bucket"}


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path):
    here = layer(module_name(path))
    if here == "package":
        return
    up = {t for t in bucket_targets(path) if layer(t) != here and RANK[layer(t)] > RANK[here]}
    assert not up, f"{module_name(path)} ({here}) imports a higher layer: {sorted(up)}"


def test_no_import_cycles():
    graph = {module_name(p): bucket_targets(p) for p in MODULES}
    # a package's __init__ importing its own modules is how a package is assembled, not a cycle
    graph = {
        m: {t for t in ts if (not m.startswith(t + ".") and not t.startswith(m + ".")) or m == t}
        - {m}
        for m, ts in graph.items()
    }
    index, low, stack, on, cycles = {}, {}, [], set(), []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


CORE = [p for p in MODULES if layer(module_name(p)) not in ("cli", "render", "__main__", "package")]


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(SRC)))
def test_core_does_not_import_the_cli_or_the_terminal(path):
    bad = {m for m, _ in imports(path) if m.split(".")[0] in ("typer", "rich", "click")}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_private_name_crosses_a_module(path):
    crossing = []
    for module, names in imports(path):
        if not module.startswith("bucket"):
            continue
        if any(part.startswith("_") for part in module.split(".")):
            crossing.append(module)
        crossing += [f"{module}.{n}" for n in names if n.startswith("_") and n != "__version__"]
    assert not crossing, f"{module_name(path)} imports private names: {crossing}"


def _is_command(fn: ast.FunctionDef) -> bool:
    """A CLI command: its signature is its options (decorated with ``@command()``)."""
    return any(
        isinstance(d, ast.Call) and getattr(d.func, "id", "") == "command"
        for d in fn.decorator_list
    )


def _functions():
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield path, node


def _body_lines(fn: ast.FunctionDef) -> int:
    body = fn.body
    if (
        len(body) > 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    return (fn.end_lineno or fn.lineno) - body[0].lineno + 1


def test_modules_stay_small():
    big = {
        str(p.relative_to(SRC)): n
        for p in MODULES
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert not big, f"modules over {MAX_MODULE_LINES} lines: {big}"


def test_functions_stay_short():
    long = [
        f"{p.relative_to(SRC)}:{fn.lineno} {fn.name} ({_body_lines(fn)} lines)"
        for p, fn in _functions()
        if not _is_command(fn) and _body_lines(fn) > MAX_FUNCTION_LINES
    ]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_few_positional_parameters():
    def positional(fn: ast.FunctionDef) -> int:
        args = [*fn.args.posonlyargs, *fn.args.args]
        return len(args) - (1 if args and args[0].arg in ("self", "cls") else 0)

    many = [
        f"{p.relative_to(SRC)}:{fn.lineno} {fn.name} ({positional(fn)})"
        for p, fn in _functions()
        if not _is_command(fn) and positional(fn) > MAX_POSITIONAL
    ]
    assert not many, f"functions with more than {MAX_POSITIONAL} positional parameters: {many}"


def test_the_guards_catch_what_they_guard(tmp_path):
    """Each rule fails on a file that breaks it (so a passing rule is not a blind one)."""
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from bucket.cli._common import x\nfrom bucket.io.text import _private\n"
        "def f(a, b, c, d, e, f, g):\n" + "    pass\n" * 61
    )
    tree = ast.parse(bad.read_text())
    fn = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))
    assert _body_lines(fn) == 61 and len(fn.args.args) == 7
    assert ("bucket.cli._common", ["x"]) in imports(bad) and (
        "bucket.io.text",
        ["_private"],
    ) in imports(bad)
