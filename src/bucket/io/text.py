"""From a path (or ``-`` for stdin) to CSV records with spreadsheet row numbers.

Steps: read the bytes; refuse what is not text (images, PDFs, Excel workbooks, NUL bytes) with
a fix; decode UTF-8 (BOM or not), UTF-16 with a BOM, or fall back to Windows-1252 (a superset
of Latin-1 for printable text); pick the delimiter from the header line (``,`` ``;`` tab ``|``);
then parse with the standard ``csv`` module in strict mode, numbering records as a spreadsheet
numbers rows (header = 1; blank lines count, a quoted cell spanning lines is one row).
"""

from __future__ import annotations

import csv
import io
import sys
from dataclasses import dataclass
from pathlib import Path

from bucket.errors import InputError, Problem

STDIN = "-"
_MAGIC: list[tuple[bytes, str, str]] = [
    (b"\x89PNG", "a PNG image", "export the ledger from your spreadsheet as CSV"),
    (b"\xff\xd8\xff", "a JPEG image", "export the ledger from your spreadsheet as CSV"),
    (b"GIF8", "a GIF image", "export the ledger from your spreadsheet as CSV"),
    (b"%PDF", "a PDF document", "export the ledger from its source as CSV"),
    (
        b"PK\x03\x04",
        "a ZIP archive (an Excel .xlsx or ODS workbook?)",
        "open it and use File > Save As > CSV",
    ),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook", "open it and use File > Save As > CSV"),
    (b"\x1f\x8b", "a gzip archive", "decompress it first (gunzip)"),
    (b"SQLite format 3", "an SQLite database", "export the table as CSV"),
    (b"PAR1", "a Parquet file", "export it as CSV"),
]
_DELIMITERS = [",", ";", "\t", "|"]


@dataclass
class Records:
    """The parsed CSV: header, data rows with their spreadsheet row numbers, and how it was read."""

    file: str
    header: list[str]
    header_row: int
    rows: list[tuple[int, list[str]]]  # (spreadsheet row, cells); blank rows left out
    delimiter: str
    encoding: str


def display_name(path: str) -> str:
    return "stdin" if path == STDIN else path


def read_bytes(path: str) -> bytes:
    """Read a path or stdin; a missing or unreadable file is an ``InputError``."""
    name = display_name(path)
    if path == STDIN:
        return sys.stdin.buffer.read()
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError(
            Problem("error", "file-not-found", "no such file", "check the path", name)
        ) from None
    except IsADirectoryError:
        raise InputError(
            Problem("error", "is-directory", "this is a directory", "pass a CSV file", name)
        ) from None
    except PermissionError:
        raise InputError(
            Problem("error", "permission", "permission denied", "make the file readable", name)
        ) from None
    except OSError as exc:
        raise InputError(
            Problem("error", "unreadable", f"cannot read ({exc.strerror})", "check the file", name)
        ) from None


def _utf16_without_bom(data: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' when the bytes look like UTF-16 text without its byte-order
    mark (mostly ASCII: every other byte is zero), else None."""
    head = data[:4096]
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def decode(data: bytes, name: str) -> tuple[str, str]:
    """Bytes → (text, encoding). Raises ``InputError`` for files that are not text."""

    def fail(code: str, message: str, fix: str) -> InputError:
        return InputError(Problem("error", code, message, fix, name))

    if not data.strip() or not data.strip().lstrip(b"\xef\xbb\xbf").strip():
        raise fail("empty", "the file is empty", "export the ledger with a header row and data")
    for magic, what, fix in _MAGIC:
        if data.startswith(magic):
            raise fail("not-text", f"this is {what}, not a CSV file", fix)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise fail("not-text", "broken UTF-16 text", "export the file as UTF-8 CSV") from None
    bom_less = _utf16_without_bom(data)
    if bom_less is not None:
        try:
            return data.decode(bom_less), bom_less
        except UnicodeDecodeError:
            raise fail("not-text", "broken UTF-16 text", "export the file as UTF-8 CSV") from None
    if b"\x00" in data[:65536]:
        raise fail("not-text", "this is a binary file, not CSV text", "export the ledger as CSV")
    nul = data.find(b"\x00")
    if nul >= 0:  # past the sniffed start: a stray NUL would silently join two digits
        row = data.count(b"\n", 0, nul) + 1
        raise InputError(
            Problem(
                "error",
                "nul-byte",
                "the row holds a NUL byte (export debris), which could join two numbers into one",
                "remove it, or export the file again",
                name,
                row=row,
            )
        )
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _header_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def sniff_delimiter(text: str) -> str | None:
    """The delimiter that splits the top lines most consistently into more than one cell
    (None: no line splits). Judged on up to 12 non-blank lines, so a title line above the
    header or a header whose names contain commas does not decide alone."""
    from collections import Counter

    lines = [line for line in text.splitlines() if line.strip()][:12]
    best, best_key = None, (0, 0)
    for delim in _DELIMITERS:
        counts = []
        for line in lines:
            try:
                counts.append(len(next(csv.reader([line], delimiter=delim))))
            except (csv.Error, StopIteration):
                continue
        split = Counter(c for c in counts if c > 1)
        if not split:
            continue
        modal, agree = max(split.items(), key=lambda kv: (kv[1], kv[0]))
        if (agree, modal) > best_key:
            best, best_key = delim, (agree, modal)
    return best


def read_records(path: str) -> Records:
    """Read and parse a CSV file into records. Raises ``InputError`` on unreadable input."""
    name = display_name(path)
    text, encoding = decode(read_bytes(path), name)
    return parse_records(text, name, encoding)


def parse_records(text: str, name: str, encoding: str = "utf-8") -> Records:
    """Parse decoded CSV text (``name`` for messages) into records."""
    # NUL survives only in UTF-16 text; it is export debris, and Python < 3.11's csv refuses it
    text = text.replace("\x00", "")
    delimiter = sniff_delimiter(text)
    if delimiter is None:
        first = _header_line(text).strip()
        shown = first if len(first) <= 40 else first[:37] + "..."
        raise InputError(
            Problem(
                "error",
                "not-csv",
                f"the first line '{shown}' has no delimiter, so this is not a CSV table",
                "export a CSV with a header row such as period,acquisition_spend,new_customers,...",
                name,
                row=1,
            )
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    header_row = 0
    rows: list[tuple[int, list[str]]] = []
    row = 0
    try:
        for cells in reader:
            row += 1
            if not any(c.strip() for c in cells):
                continue
            if header is None:
                header = cells
                header_row = row
            else:
                rows.append((row, cells))
    except csv.Error as exc:
        what = str(exc)
        if "end of data" in what or "EOF" in what:
            message = "a quoted cell opens on this row and never closes"
            fix = "remove the stray double quote or close it"
        else:
            message = f"malformed CSV ({what})"
            fix = "check the quotes on this row"
        raise InputError(Problem("error", "bad-quoting", message, fix, name, row=row + 1)) from None
    if header is None:  # only blank lines
        raise InputError(
            Problem("error", "empty", "the file has no content", "export the ledger again", name)
        )
    return Records(name, header, header_row, rows, delimiter, encoding)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """A text cell a spreadsheet shows as text: one that starts like a formula (``=HYPERLINK``,
    ``+cmd|``, ``@SUM``, ``-2+3``) gets a leading apostrophe, so opening the CSV runs nothing."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
