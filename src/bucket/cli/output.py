"""One way out for everything a command writes: results to stdout or a file, and the one-line
messages on stderr.

``write`` is the only function that creates or replaces a file (``--output``, ledger's
``--cohorts-output``, the report page, the printed SQL): atomically (a temporary file beside the
target, then a rename), only after success, and never over one of the command's inputs (the
ledger, events, spend, config or cohort files, followed through symlinks).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import signal
import stat
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
    """One line on stderr: printable (a cell's escape sequences never reach the terminal raw)
    and capped."""
    from bucket.errors import one_line

    sys.stderr.write(one_line(line.rstrip("\n"), 2000) + "\n")
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
    """``text`` to stdout (``path`` None or ``-``) or to ``path``: a regular file (or a new one)
    is replaced atomically, through a symlink to the file it points at; a device or a FIFO is
    written through, never replaced. Every byte is checked to arrive; a write that fails is one
    ``Error:`` line (exit 1), and the old file is left as it was."""
    if to_stdout(path):
        write_stdout(text)
        return
    assert path is not None
    refuse_inputs(path, inputs, option)
    target = Path(os.path.realpath(path))  # a symlink stays a symlink: its target is written
    try:
        special = target.exists() and not stat.S_ISREG(target.stat().st_mode)
    except OSError:
        special = False
    if special:
        _write_through(target, text)
    else:
        _write_atomic(target, text)


def make_folder(directory: Path) -> None:
    """Create ``directory`` (and its parents) if needed; OutputError when it cannot be."""
    from bucket.errors import OutputError

    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{directory}: cannot create the folder ({exc.strerror}); choose a writable folder"
        ) from None


def write_stdout(text: str) -> None:
    """All of ``text`` on stdout, or an error: a full disk under ``> file`` is exit 1, not a
    silently cut file; a reader that closed the pipe (``| head``) ends the command quietly."""
    from bucket.errors import OutputError

    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):  # a test runner's capture
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        sys.stdout.flush()
        _write_all(fd, text.encode("utf-8"))
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)  # nothing more reaches the closed pipe
        os.dup2(devnull, fd)
        raise typer.Exit(0) from None
    except OSError as exc:
        raise OutputError(
            f"stdout: cannot write ({exc.strerror or exc}); the output is incomplete, "
            "free some space or write elsewhere with --output"
        ) from None


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is out (a short write is retried, never ignored)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[n:]


def _write_through(target: Path, text: str) -> None:
    """A device or FIFO named by --output: write into it (replacing it would break it)."""
    from bucket.errors import OutputError

    try:
        fd = os.open(target, os.O_WRONLY)
        try:
            _write_all(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
    except OSError as exc:
        raise OutputError(
            f"{target}: cannot write ({exc.strerror or exc}); the output is incomplete"
        ) from None


def emit(
    result: Any, out: Destination, inputs: Iterable[str | Path | None], detail: bool = True
) -> None:
    """Render ``result`` in the chosen format and write it (colour only on a terminal);
    ``detail=False``: a plan's first screen only, on standard output in the table format."""
    from bucket.render import render

    if not to_stdout(out.output):  # a file keeps every table: it is read, not glanced at
        text = render(result, out.format, color=False, width=120, wrap=False)
    else:
        tty = sys.stdout.isatty()
        color = out.format == "table" and tty and "NO_COLOR" not in os.environ
        text = render(result, out.format, color=color, width=_width(), wrap=tty, detail=detail)
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
    previous = _terminate_as_exit()
    try:
        try:
            _write_all(fd, text.encode("utf-8"))
        finally:
            os.close(fd)
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
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminate_as_exit():
    """While a temporary file exists, SIGTERM unwinds (so the file is removed) instead of
    killing the process outright; returns the handler to restore (None off the main thread)."""

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    try:
        return signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread
        return None


def stdin_is_a_file() -> bool:
    """Whether standard input is a file redirected in (``bucket plan < ledger.csv``): read it
    as ``-``. A pipe or a terminal is not taken without ``-`` (a pipe left open by a scheduler
    would wait for ever)."""
    try:
        return stat.S_ISREG(os.fstat(sys.stdin.fileno()).st_mode)
    except (AttributeError, OSError, ValueError):
        return False


def spinner(text: str):
    """A transient spinner with ``text`` on stderr while a slow step runs, only when stderr is
    a terminal (never in pipes, files or cron); nothing for an empty text."""
    if not text or not sys.stderr.isatty():
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(text, spinner="dots")
