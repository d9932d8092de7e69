"""One way out for everything a command writes: results to stdout or a file, and the one-line
messages on stderr.

``write`` is the only function that creates or replaces a file (``--output``, ledger's
``--cohorts-output``, the report page, the printed SQL): atomically (a temporary file beside the
target, then a rename), only after success, and never over one of the command's inputs (the
ledger, events, spend, config or cohort files, followed through symlinks).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import typer


class Destination(Protocol):
    """Where a rendered result goes (``cli.options.OutputOptions``)."""

    @property
    def format(self) -> str: ...

    @property
    def output(self) -> Path | None: ...


def err(line: str) -> None:
    """One line on stderr."""
    sys.stderr.write(line.rstrip("\n") + "\n")
    sys.stderr.flush()


def warn_all(warnings: Iterable[str], quiet: bool) -> None:
    if not quiet:
        for w in warnings:
            err(f"Warning: {w}")


def _same_file(a: Path, b: str) -> bool:
    if b == "-":
        return False
    try:
        return a.resolve() == Path(b).resolve() or (a.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def refuse_inputs(
    path: Path, inputs: Iterable[str | Path | None], option: str = "--output"
) -> None:
    """A file to write must not be one of the inputs (``None`` for an option not given)."""
    for given in inputs:
        if given and _same_file(path, str(given)):
            raise typer.BadParameter(
                f"{path} is an input file; choose another path", param_hint=option
            )


def to_stdout(path: Path | None) -> bool:
    """No file, or ``-``: the result goes to stdout."""
    return path is None or str(path) == "-"


def write(
    text: str, path: Path | None, *, inputs: Iterable[str | Path | None], option: str = "--output"
) -> None:
    """``text`` to stdout (``path`` None or ``-``) or atomically to ``path``."""
    if to_stdout(path):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    assert path is not None
    refuse_inputs(path, inputs, option)
    _write_atomic(path, text)


def emit(result: Any, out: Destination, inputs: Iterable[str | Path | None]) -> None:
    """Render ``result`` in the chosen format and write it (colour only on a terminal)."""
    from bucket.render import render

    if not to_stdout(out.output):
        text = render(result, out.format, color=False, width=120)
    else:
        color = out.format == "table" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        text = render(result, out.format, color=color, width=_width())
    write(text, out.output, inputs=inputs)


def _width() -> int:
    try:
        if sys.stdout.isatty():
            return max(60, os.get_terminal_size(sys.stdout.fileno()).columns)
    except OSError:
        pass
    try:
        return max(60, int(os.environ.get("COLUMNS", "120")))
    except ValueError:
        return 120


def _write_atomic(path: Path, text: str) -> None:
    import tempfile

    from bucket.errors import OutputError

    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(
            f"{path}: cannot write ({exc.strerror}); choose a writable path"
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        # mkstemp creates 0600; give the file the mode a plain open() would (or keep the old one)
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):  # a full disk or a lost mount is not a bug: one line, exit 1
            raise OutputError(
                f"{path}: cannot write ({exc.strerror or exc}); the file is as it was, "
                "free some space or choose another path"
            ) from None
        raise
