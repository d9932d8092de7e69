"""Every error bucket raises, and the problems found in an input.

Exception tree (the CLI catches ``BucketError`` once and prints ``Error: <message>``):

    BucketError            anything the user can fix; exit code 1
    ├── InputError         a data file is unreadable or wrong (names file, row, column, fix)
    ├── ConfigError        an option or config value is out of its domain
    ├── ModelError         the model cannot be evaluated on these numbers (say, infinite value)
    └── OutputError        the result cannot be written where the user asked (the old file stays)

A ``Problem`` is one finding of input validation: an error (the data cannot be used) or a
warning (the data is used, but something deserves a look). Readers collect every problem
before failing, so ``bucket validate`` can list them all; other commands raise the first
error as an ``InputError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


def one_line(text: str, limit: int = 2000) -> str:
    """``text`` as one printable line of at most ``limit`` characters: control characters
    (escape sequences that clear a screen or set a window title), line and paragraph
    separators (a vertical tab or U+2028 would start a fake ``Error:`` line) and format
    characters are shown escaped (``\\x1b``); newlines become spaces; a long text is cut in the
    middle with the count of what was left out."""
    if text.isprintable():  # the common case, fast
        shown = text
    else:
        parts = []
        for ch in text:
            if ch.isprintable():
                parts.append(ch)
            elif ch in "\n\r\t":
                parts.append(" ")
            else:
                code = ord(ch)
                parts.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        shown = "".join(parts)
    if len(shown) <= limit:
        return shown
    keep = max(limit - 40, 10)
    cut = len(shown) - keep
    return f"{shown[: keep // 2]} … ({cut:,} characters left out) … {shown[-(keep - keep // 2) :]}"


@dataclass(frozen=True)
class Problem:
    """One finding about an input file.

    ``row`` is the row number a spreadsheet shows (the header is row 1; blank lines count);
    ``column`` is the column's header as written in the file. Either may be ``None`` when
    the problem concerns the whole file or a whole row.
    """

    severity: Severity
    code: str
    message: str
    fix: str
    file: str
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def location(self) -> str:
        parts = [self.file]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        return ", ".join(parts)

    def line(self) -> str:
        """The one-line form: ``<file>, row <n>, column <c>: <what is wrong>; <how to fix>``
        (each part made printable and capped: a cell or a file name cannot add lines, move the
        cursor or fill a screen)."""
        text = f"{one_line(self.location(), 300)}: {one_line(self.message, 600)}"
        return f"{text}; {one_line(self.fix, 300)}" if self.fix else text


class BucketError(Exception):
    """Base of every error the user can fix. ``str(err)`` is the whole message line."""

    exit_code = 1


class InputError(BucketError):
    """A data file cannot be read or fails validation."""

    def __init__(self, problem: Problem, more: int = 0) -> None:
        self.problem = problem
        self.more = more
        super().__init__(problem.line())


class ConfigError(BucketError):
    """An option or configuration value is outside its domain."""

    def __init__(self, message: str, fix: str) -> None:
        self.fix = fix
        super().__init__(f"{message}; {fix}")


class OutputError(BucketError):
    """The result cannot be written where the user asked."""


class ModelError(BucketError):
    """The model cannot be evaluated (e.g. infinite customer equity)."""
