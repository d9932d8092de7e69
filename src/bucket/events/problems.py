"""What can be wrong with an event file before DuckDB reads it, as one line each: a Parquet
column of the wrong type. A leaf of the events folder."""

from __future__ import annotations

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
