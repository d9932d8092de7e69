"""What can be wrong with an event file before or while DuckDB reads it, as one line each: a
Parquet column of the wrong type, a header naming a column twice, and DuckDB's own errors
turned into our words (its messages quote the SQL and say "LINE 1" of it; neither is the
user's). A leaf of the events folder: it imports no DuckDB, it only reads its messages."""

from __future__ import annotations

import re

from bucket.errors import InputError, Problem

# Parquet column types (DuckDB's names, without parameters) that can be read as each column
NUMBER_TYPES = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "DECIMAL",
    "FLOAT",
    "DOUBLE",
    "VARCHAR",  # text amounts are converted, and each bad one is named
}
DATE_TYPES = {
    "DATE",
    "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE",
    "TIMESTAMP_S",
    "TIMESTAMP_MS",
    "TIMESTAMP_NS",
    "VARCHAR",
}
FORMAT_FIX = "dates as YYYY-MM-DD, amounts as plain numbers (1234.56)"


def check_types(types: dict[str, str], cols: dict[str, str], name: str) -> None:
    """Refuse a typed (Parquet) column that cannot mean what it stands for: a boolean or a date
    as the amount (True would be read as 1.00), a number or a boolean as the date."""
    wanted = {"amount": NUMBER_TYPES, "mrr": NUMBER_TYPES, "date": DATE_TYPES}
    wanted |= {"start": DATE_TYPES, "end": DATE_TYPES}
    for canon, allowed in wanted.items():
        if canon not in cols:
            continue
        found = types.get(cols[canon], "")
        if found.split("(")[0].strip() in allowed:
            continue
        what = "numbers" if allowed is NUMBER_TYPES else "dates"
        raise InputError(
            Problem(
                "error",
                "column-type",
                f"the {canon} column holds {found or 'unknown'} values, not {what}",
                "export it as numbers (integer, decimal or float)"
                if what == "numbers"
                else "export it as dates (DATE, TIMESTAMP) or as text YYYY-MM-DD",
                name,
                column=cols[canon],
            )
        )


def check_header(header: list[str], cols: dict[str, str], name: str) -> None:
    """A column the events use must be named once: two columns called ``amount`` leave it open
    which one is meant (and DuckDB would read the row as one cell too many)."""
    for canon, column in cols.items():
        at = [i + 1 for i, h in enumerate(header) if h == column]
        if len(at) > 1:
            raise InputError(
                Problem(
                    "error",
                    "duplicate-column",
                    f"the header names {column} twice (columns {at[0]} and {at[1]})",
                    f"rename or remove one, or pass --map {canon}=<the one to use>",
                    name,
                    row=1,
                    column=column,
                )
            )


def unique_names(header: list[str]) -> list[str]:
    """The header with names made unique (a repeated unused name, or two empty ones from
    trailing delimiters, gets a suffix): DuckDB needs one name per column."""
    seen: set[str] = set()
    out = []
    for i, h in enumerate(header):
        h = h or f"column{i + 1}"  # trailing delimiters: columns without a name
        new, n = h, 1
        while new in seen:
            n += 1
            new = f"{h}_{n}"
        seen.add(new)
        out.append(new)
    return out


def duck_problem(exc: Exception, name: str, encoding: str = "utf-8") -> Problem:
    """DuckDB's error → one of our lines: the CSV line it names (never the "LINE 1" of the SQL
    text), the column, and what is wrong, without the SQL or DuckDB's advice."""
    text = " ".join(str(exc).split())
    m = re.search(r"CSV Error on Line: (\d+)", text)
    row = int(m.group(1)) if m else None
    col = re.search(r'column "([^"]+)"', text) or re.search(r"source column (\S+)", text)
    column = col.group(1) if col else None
    what, fix = _what(text, encoding)
    return Problem("error", "bad-event", what, fix, name, row, column)


def _what(text: str, encoding: str) -> tuple[str, str]:
    conv = re.search(r"Could not convert string \"(.*?)\" to '(\w+)'", text)
    if conv:
        kind = {"DATE": "date", "DECIMAL": "number"}.get(conv.group(2), conv.group(2).lower())
        return f"'{conv.group(1)}' is not a {kind}", FORMAT_FIX
    count = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if count:
        return (
            f"the row has {count.group(2)} cells, the header {count.group(1)}",
            "quote cells that hold the delimiter, or fix the row",
        )
    if "unterminated quote" in text:
        return "a quote opens here and never closes", "close the quote, or remove the stray one"
    if "Invalid unicode" in text:
        return (
            f"the text is not {encoding.upper()} from this row on",
            "export the file again as UTF-8 CSV",
        )
    if re.search(r"magic bytes|Footer length|Parquet|parquet", text):
        return "this is not a readable Parquet file (cut short or damaged)", "export it again"
    cast = re.search(r"cast \((\w+) -> (\w+)\)", text)
    if cast:
        return f"{cast.group(1)} values cannot be read as {cast.group(2)}", FORMAT_FIX
    if "Out of Memory" in text or "memory limit" in text.lower():
        return "the events do not fit in the memory allowed", "raise --memory-limit"
    # DuckDB's first sentence, without the SQL it quotes ("LINE 1: ...") or its advice
    first = re.split(r" LINE \d+:| Original Line:| Possible fixes:|\. ", text)[0]
    first = re.sub(r"^[\w ]*Error: ", "", first)[:160]
    return f"cannot read the events ({first})", FORMAT_FIX
