"""The embedded engine: the event SQL run in DuckDB, in process (DESIGN §2.2, §10).

The file is read by DuckDB itself, streaming, with explicit column types: 10 million
transactions never pass through pandas. Only the header (first 64 KiB) is read in Python, to
match column names with the same aliases and delimiter rules as ledgers. Amounts are summed
as integer cents, so revenue carries no float noise. DuckDB's memory is capped (768MB unless
--memory-limit says otherwise) and it spills to a temporary folder beyond that, so the peak
stays under 1 GiB whatever the file's size. DuckDB is imported only here and in ``derived``
(which finishes every engine's steps).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from bucket.errors import InputError, Problem
from bucket.events.columns import event_columns
from bucket.events.derived import (
    FIRST_YEAR,
    LAST_YEAR,
    Derived,
    check_subscriptions,
    finish_steps,
    from_steps,
    period_range,
    plausible,
)
from bucket.events.problems import (
    check_header,
    check_types,
    duck_problem,
    unique_names,
)
from bucket.events.sql import (
    SUBSCRIPTION_CHECKS,
    SUBSCRIPTIONS_SQL,
    ident,
    literal,
    render_sql,
    source_sql,
)
from bucket.io.text import decode, display_name, sniff_delimiter

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection


def derive_transactions(
    path: str,
    frequency: str = "month",
    inactive: int = 90,
    memory_limit: str | None = None,
    mapping: dict[str, str] | None = None,
) -> Derived:
    """Aggregate a transactions CSV into ledger rows and cohort survival counts."""

    name = display_name(path)
    with _spooled(path) as source, _connection(memory_limit, name) as con:
        return _derive_transactions(con, source, name, frequency, inactive, mapping or {})


# DuckDB's cap unless --memory-limit names one. Uncapped, the peak grew by about 69 MiB per
# million purchases (0.9 GiB at 10 M, 1.6 GiB at 20 M); capped, DuckDB spills and the whole
# process peaked at 0.86 to 0.89 GiB at 10, 20 and 40 M rows, for 4 to 16 % more CPU where the
# cap binds and none at 2 M, with identical ledgers (benchmarks/events.py --memory).
MEMORY_LIMIT = "768MB"  # DuckDB's MB is 10^6 bytes (732 MiB)
_LIMIT_BYTES = 768 * 10**6
_UNITS = {"bytes": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


@contextlib.contextmanager
def _connection(memory_limit: str | None, name: str) -> Iterator[DuckDBPyConnection]:
    """An in-process DuckDB that spills to a temporary folder (removed afterwards) rather than
    grow past ``memory_limit``: MEMORY_LIMIT unless one is given, or DuckDB's own default (80 %
    of the memory the machine or container has) where that is lower. No progress bar: the
    core never prints."""
    import tempfile

    import duckdb

    with tempfile.TemporaryDirectory(prefix="bucket-duckdb-") as spill:
        con = duckdb.connect(config={"temp_directory": spill})
        con.execute("SET enable_progress_bar = false")
        try:
            default = con.execute("SELECT current_setting('memory_limit')").fetchone()
            limit = memory_limit or _cap(str(default[0]) if default else "")
            if limit:
                con.execute(f"SET memory_limit = {literal(limit)}")
        except duckdb.Error:
            con.close()
            raise InputError(
                Problem(
                    "error",
                    "memory-limit",
                    f"--memory-limit {memory_limit} is not an amount of memory",
                    "give one such as 768MB or 2GB",
                    name,
                )
            ) from None
        try:
            yield con
        finally:
            con.close()


def _cap(default: str) -> str | None:
    """MEMORY_LIMIT, or None (DuckDB's default stays) when the default, as DuckDB shows it
    ("18.8 GiB"), is lower."""
    number, _, unit = default.partition(" ")
    try:
        lower = float(number) * _UNITS[unit] < _LIMIT_BYTES
    except (ValueError, KeyError):
        return MEMORY_LIMIT
    return None if lower else MEMORY_LIMIT


@contextlib.contextmanager
def _spooled(path: str):
    """A real file for the path: stdin is copied to a temporary file first, since DuckDB and
    the header sniffing both need to read it, and a pipe can be read only once."""
    if path != "-":
        yield path
        return
    import shutil
    import sys
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".csv") as tmp:
        shutil.copyfileobj(sys.stdin.buffer, tmp)
        tmp.flush()
        yield tmp.name


def _derive_transactions(
    con: DuckDBPyConnection,
    source: str,
    name: str,
    frequency: str,
    inactive: int,
    mapping: dict[str, str],
) -> Derived:
    import duckdb

    con.execute("SET preserve_insertion_order = false")
    if _is_parquet(source):
        return _derive_parquet(con, source, name, frequency, inactive, mapping)
    header, delimiter, encoding = _header(source, name)
    cols = event_columns(header, name, "transactions", mapping)
    check_header(header, cols, name)
    # ids stay text ("007" and "7" are two customers); as integers they sorted no faster here
    types = dict.fromkeys(unique_names(header), "VARCHAR")
    types[cols["date"]] = "DATE"
    types[cols["amount"]] = "DECIMAL(18, 2)"
    try:
        con.execute(
            "CREATE VIEW tx AS "
            + source_sql("transactions", _csv_relation(source, delimiter, types, encoding), cols)
        )
        # the one pass over the file: purchases → a few thousand steps (transactions.sql)
        con.execute("CREATE TEMP TABLE steps AS " + render_sql(frequency, inactive))
    except duckdb.Error as exc:
        raise InputError(duck_problem(exc, name, encoding)) from None
    at = [header.index(cols["customer_id"]), header.index(cols["date"])]
    try:
        return from_steps(
            con,
            frequency,
            name,
            "channel" in cols,
            "transactions",
            row=2,
            locate=lambda reason: _first_unplaced(source, delimiter, at, reason, encoding),
        )
    except InputError as exc:
        if exc.problem.code == "date-range":
            raise _first_bad_date(con, source, name, [("tx", "day", cols["date"])]) or exc from None
        raise


def _csv_relation(source: str, delimiter: str, types: dict[str, str], encoding: str) -> str:
    """read_csv with explicit column types: DuckDB streams and converts, no sniffing."""
    columns = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in types.items())
    utf16 = ", encoding = 'utf-16'" if encoding.startswith("utf-16") else ""
    return (
        f"read_csv({literal(source)}, header = true, delim = {literal(delimiter)}, "
        f"columns = {{{columns}}}, auto_detect = false{utf16})"
    )


def _is_parquet(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"PAR1"
    except OSError:
        return False


def _derive_parquet(
    con, source: str, name: str, frequency: str, inactive: int, mapping: dict[str, str]
) -> Derived:
    """Transactions in a Parquet file: the same query over read_parquet (typed columns, so
    no header sniffing; the casts make any integer, decimal or text column work)."""
    import duckdb

    relation = f"read_parquet({literal(source)})"
    try:
        types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
        cols = event_columns(list(types), name, "transactions", mapping)
        check_types(types, cols, name)
        con.execute("CREATE VIEW tx AS " + source_sql("transactions", relation, cols))
        con.execute("CREATE TEMP TABLE steps AS " + render_sql(frequency, inactive))
    except duckdb.Error as exc:
        raise InputError(duck_problem(exc, name)) from None

    def locate(reason: int) -> int | None:  # the 1-based record: a Parquet file has no header
        blank = f"NULLIF(TRIM(CAST({ident(cols['customer_id'])} AS VARCHAR)), '') IS NULL"
        cond = blank if reason == 1 else f"NOT {blank} AND {ident(cols['date'])} IS NULL"
        found = con.execute(
            f"SELECT MIN(file_row_number) FROM read_parquet({literal(source)}, "
            f"file_row_number = true) WHERE {cond}"
        ).fetchone()
        return None if found is None or found[0] is None else int(found[0]) + 1

    try:
        return from_steps(con, frequency, name, "channel" in cols, "transactions", locate=locate)
    except InputError as exc:
        if exc.problem.code == "date-range":
            raise _first_bad_date(con, source, name, [("tx", "day", cols["date"])]) or exc from None
        raise


def _first_unplaced(
    source: str, delimiter: str, at: list[int], reason: int, encoding: str
) -> int | None:
    """The row of the first event without a customer id (reason 1) or, with one, without a
    date (2): read only on this warning path, and only up to that row."""
    import csv

    id_at, date_at = at
    encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    with open(source, encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        next(reader, None)
        for cells in reader:
            no_id = id_at >= len(cells) or not cells[id_at].strip()
            no_date = date_at >= len(cells) or not cells[date_at].strip()
            if (no_id if reason == 1 else not no_id and no_date) and any(cells):
                return reader.line_num
    return None


def _header(path: str, name: str) -> tuple[list[str], str, str]:
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except FileNotFoundError:
        raise InputError(
            Problem("error", "file-not-found", "no such file", "check the path", name)
        ) from None
    text, encoding = decode(head, name)
    if encoding not in ("utf-8", "utf-16", "utf-16-le") or head.startswith(b"\xfe\xff"):
        # DuckDB reads UTF-8 and little-endian UTF-16; anything else would be garbled
        raise InputError(
            Problem(
                "error",
                "encoding",
                f"the file is {'UTF-16 big-endian' if 'utf-16' in encoding else encoding} text",
                "export it again as UTF-8 CSV",
                name,
            )
        )
    delimiter = sniff_delimiter(text)
    if delimiter is None:
        raise InputError(
            Problem(
                "error",
                "not-csv",
                "the first line has no delimiter",
                "export the transactions as CSV",
                name,
                row=1,
            )
        )
    import csv

    lines = text.splitlines()
    header = next(csv.reader([lines[0]], delimiter=delimiter))
    return [h.strip().lstrip("\ufeff") for h in header], delimiter, encoding


def derive_subscriptions(
    path: str,
    frequency: str = "month",
    memory_limit: str | None = None,
    mapping: dict[str, str] | None = None,
) -> Derived:
    """Aggregate a subscriptions CSV (customer_id, start, end[, mrr, channel]; empty end =
    active) into ledger rows and cohort survival counts."""
    name = display_name(path)
    with _spooled(path) as source, _connection(memory_limit, name) as con:
        return _derive_subscriptions(con, source, name, frequency, mapping or {})


def _derive_subscriptions(
    con: DuckDBPyConnection, source: str, name: str, frequency: str, mapping: dict[str, str]
) -> Derived:
    import duckdb

    header, delimiter, encoding = _header(source, name)
    cols = event_columns(header, name, "subscriptions", mapping)
    check_header(header, cols, name)
    types = dict.fromkeys(unique_names(header), "VARCHAR")
    types[cols["start"]] = types[cols["end"]] = "DATE"
    if "mrr" in cols:
        types[cols["mrr"]] = "DECIMAL(18, 2)"
    try:
        con.execute(
            "CREATE TABLE sub AS "
            + source_sql("subscriptions", _csv_relation(source, delimiter, types, encoding), cols)
        )
        first, last_start, last_end, rows, bad, left_out, no_id = con.execute(
            SUBSCRIPTION_CHECKS + " FROM sub"
        ).fetchone()  # type: ignore[misc]
    except duckdb.Error as exc:
        raise InputError(duck_problem(exc, name, encoding)) from None
    if not all(plausible(d) for d in (first, last_start, last_end) if d is not None):
        found = _first_bad_date(
            con,
            source,
            name,
            [("sub", "start_day", cols["start"]), ("sub", "end_day", cols["end"])],
        )
        if found:
            raise found
        period_range(first, last_end or last_start, frequency, name)  # says the range
    notes = check_subscriptions(
        rows,
        bad,
        last_start,
        last_end,
        name,
        row=2,
        start=cols["start"],
        left_out=left_out,
        no_id=no_id,
        customer=cols["customer_id"],
    )
    as_of = max(d for d in (last_start, last_end) if d is not None)
    periods = period_range(first, as_of, frequency, name)
    try:
        con.execute("CREATE TEMP TABLE steps AS " + render_sql(frequency, 0, SUBSCRIPTIONS_SQL))
    except duckdb.Error as exc:
        raise InputError(duck_problem(exc, name, encoding)) from None
    derived = finish_steps(con, periods, as_of, "channel" in cols, frequency, name)
    derived.warnings.extend(notes)
    return derived


def _first_bad_date(
    con, source: str, name: str, columns: list[tuple[str, str, str]]
) -> InputError | None:
    """The first date outside the plausible years, as one error naming its row and column (the
    row is found in the file itself: only on this error path)."""
    for view, column, header in columns:
        found = con.execute(
            f"SELECT CAST({column} AS VARCHAR) FROM {view} WHERE {column} IS NOT NULL AND "
            f"NOT ({column} BETWEEN DATE '{FIRST_YEAR}-01-01' AND DATE '{LAST_YEAR}-12-31') LIMIT 1"
        ).fetchone()
        if found is None:
            continue
        shown = found[0]
        raw = shown
        if shown.endswith(" (BC)"):  # year -2024 is 2025 BC (there is no year 0)
            year, rest = shown[: -len(" (BC)")].split("-", 1)
            raw = f"-{int(year) - 1:04d}-{rest}"
        return InputError(
            Problem(
                "error",
                "date-range",
                f"'{raw}' is not a date of real events (years {FIRST_YEAR}–{LAST_YEAR})",
                "fix the typo or remove the placeholder date",
                name,
                _line_of(source, raw),
                header,
                raw,
            )
        )
    return None


def _line_of(source: str, text: str) -> int | None:
    """The first line of the file holding ``text`` (1 = the header), or None."""
    needle = text.encode("utf-8")
    try:
        with open(source, "rb") as fh:
            for number, line in enumerate(fh, start=1):
                if needle in line:
                    return number
    except OSError:
        pass
    return None
