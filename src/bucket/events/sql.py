"""The event SQL, the one portable source every engine runs (DESIGN §2.2, §10): the query
templates in this folder, their parameters written in, and the same text transpiled with
sqlglot to any other dialect. A leaf: it imports nothing else of the events folder.

The queries are written in DuckDB's SQL. For any other engine the text is parsed once and
regenerated in the target dialect; nothing is kept per engine. Two normalisations make the
portable subset portable everywhere: named windows (``WINDOW w AS``, which BigQuery's generator
cannot write) are written inline, and the frame is dropped from LAG/LEAD (frames do not apply
to them; Spark and BigQuery reject one).

``steps_query`` is the heavy part an engine runs where the data lives (purchases → a few
thousand steps); ``ledger_query`` is the whole thing, steps to a finished ledger table, for an
analyst to paste into a warehouse (``bucket ledger --print-sql``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bucket.io.periods import Period

TRANSACTIONS_SQL = Path(__file__).with_name("transactions.sql")
SUBSCRIPTIONS_SQL = Path(__file__).with_name("subscriptions.sql")
LEDGER_SQL = Path(__file__).with_name("ledger.sql")


PERIOD_SQL = {
    # date → period ordinal, as io/periods.Period counts them (consecutive periods differ by 1)
    "month": "(EXTRACT(YEAR FROM {x}) * 12 + EXTRACT(MONTH FROM {x}) - 1)",
    "quarter": "(EXTRACT(YEAR FROM {x}) * 4 + FLOOR((EXTRACT(MONTH FROM {x}) - 1) / 3))",
    # ISO weeks: 0001-01-01 was a Monday
    "week": "FLOOR(DATE_DIFF('day', DATE '0001-01-01', {x}) / 7)",
}


MONTHS_PER_PERIOD = {"month": "1", "quarter": "3", "week": "(12.0 / 52)"}


def render_sql(frequency: str, inactive: int, source: Path = TRANSACTIONS_SQL) -> str:
    """The query with its parameters written in (the same text runs on any engine)."""
    sql = source.read_text(encoding="utf-8")
    sql = sql.replace("{inactive_plus_one}", str(int(inactive) + 1))
    sql = sql.replace("{inactive}", str(int(inactive)))
    sql = sql.replace("{months_per_period}", MONTHS_PER_PERIOD[frequency])
    template = PERIOD_SQL[frequency]
    body = sql.split("\nWITH ", 1)
    head, rest = (body[0], "WITH " + body[1]) if len(body) == 2 else ("", sql)
    rest = re.sub(
        r"\{period\((.*?)\)\}",
        lambda m: "CAST(" + template.format(x=m.group(1)) + " AS INTEGER)",
        rest,
    )
    return head + "\n" + rest


def ident(name: str) -> str:
    """A quoted identifier (any name a user's column may have)."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A quoted string literal (a view takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def source_sql(kind: str, relation: str, columns: dict[str, str]) -> str:
    """The input view (tx or sub) over ``relation`` with the canonical columns, in DuckDB SQL:
    ids as trimmed text (NULL when blank: no customer), dates as DATE, money as integer cents. The same text, transpiled,
    reads the events on every engine."""
    c = {k: ident(v) for k, v in columns.items()}
    channel = f"COALESCE(CAST({c['channel']} AS VARCHAR), '')" if "channel" in c else "''"
    if kind == "transactions":
        return (
            f"SELECT NULLIF(TRIM(CAST({c['customer_id']} AS VARCHAR)), '') AS customer_id, "
            f"CAST({c['date']} AS DATE) AS day, "
            f"CAST(ROUND(CAST({c['amount']} AS DECIMAL(18, 2)) * 100) AS BIGINT) AS amount_cents, "
            f"{channel} AS channel FROM {relation}"
        )
    mrr = (
        f"CAST(ROUND(COALESCE(CAST({c['mrr']} AS DECIMAL(18, 2)), 0) * 100) AS BIGINT)"
        if "mrr" in c
        else "0"
    )
    # an end in the far future (9999-12-31 as "never") is an open subscription
    return (
        f"SELECT NULLIF(TRIM(CAST({c['customer_id']} AS VARCHAR)), '') AS customer_id, "
        f"CAST({c['start']} AS DATE) AS start_day, "
        f"CASE WHEN CAST({c['end']} AS DATE) >= DATE '9000-01-01' THEN NULL "
        f"ELSE CAST({c['end']} AS DATE) END AS end_day, {mrr} AS mrr_cents, "
        f"{channel} AS channel FROM {relation}"
    )


# what every engine checks in a subscriptions table before deriving anything from it
_FOLLOWED = "customer_id IS NOT NULL AND start_day IS NOT NULL"
SUBSCRIPTION_CHECKS = (  # over the subscriptions that can be followed; the rest are counted
    f"SELECT MIN(CASE WHEN {_FOLLOWED} THEN start_day END) AS first_start, "
    f"MAX(CASE WHEN {_FOLLOWED} THEN start_day END) AS last_start, "
    f"MAX(CASE WHEN {_FOLLOWED} THEN end_day END) AS last_end, COUNT(*) AS n, "
    f"SUM(CASE WHEN {_FOLLOWED} AND end_day < start_day THEN 1 ELSE 0 END) AS bad, "
    f"SUM(CASE WHEN {_FOLLOWED} THEN 0 ELSE 1 END) AS left_out, "
    "SUM(CASE WHEN customer_id IS NULL THEN 1 ELSE 0 END) AS no_id"
)


DIALECTS = ("duckdb", "spark", "bigquery", "snowflake", "postgres", "trino")
TABLE_SQL = Path(__file__).with_name("ledger_table.sql")
CANONICAL = {
    "transactions": ("customer_id", "date", "amount", "channel"),
    "subscriptions": ("customer_id", "start", "end", "mrr", "channel"),
}


def _portable(tree):
    """Inline named windows; no frame on LAG/LEAD."""
    from sqlglot import exp

    for select in list(tree.find_all(exp.Select)):
        named = {w.this.name: w for w in select.args.get("windows") or []}
        if not named:
            continue
        for use in list(select.find_all(exp.Window)):
            alias = use.args.get("alias")
            if not isinstance(alias, exp.Identifier) or alias.name not in named:
                continue
            spec = named[alias.name]
            use.set("alias", None)
            use.set("partition_by", [p.copy() for p in spec.args.get("partition_by") or []])
            use.set("order", spec.args["order"].copy() if spec.args.get("order") else None)
            frame = spec.args.get("spec")
            use.set("spec", frame.copy() if frame is not None else None)
        select.set("windows", None)
    for use in tree.find_all(exp.Window):
        if isinstance(use.this, (exp.Lag, exp.Lead)):
            use.set("spec", None)
    return tree


def _parse(text: str):
    import sqlglot

    return sqlglot.parse_one(text, read="duckdb")


def _split(tree):
    """(CTEs, the final query without its WITH)."""
    with_ = tree.args.get("with") or tree.args.get("with_")
    ctes = list(with_.expressions) if with_ is not None else []
    body = tree.copy()
    body.set("with", None)
    body.set("with_", None)
    return ctes, body


def _with(ctes, body):
    from sqlglot import exp

    out = body.copy()
    key = "with_" if "with_" in exp.Select.arg_types else "with"
    out.set(key, exp.With(expressions=ctes))
    return out


def _cte(name: str, query):
    from sqlglot import exp

    return exp.CTE(this=query, alias=exp.TableAlias(this=exp.to_identifier(name)))


def _events(kind: str, frequency: str, inactive: int, relation: str, columns: dict[str, str]):
    view = "tx" if kind == "transactions" else "sub"
    text = render_sql(
        frequency, inactive, TRANSACTIONS_SQL if kind == "transactions" else SUBSCRIPTIONS_SQL
    )
    ctes, body = _split(_parse(text))
    return [_cte(view, _parse(source_sql(kind, relation, columns))), *ctes], body


def _generate(tree, dialect: str, header: str = "") -> str:
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}")
    import logging

    log = logging.getLogger("sqlglot")
    level = log.level
    log.setLevel(logging.ERROR)  # "NULLS LAST not supported": our window keys are never null
    try:
        sql = _portable(tree).sql(dialect=dialect, pretty=True, comments=False)
    finally:
        log.setLevel(level)
    return header + sql + "\n"


def steps_query(
    kind: str, frequency: str, inactive: int, relation: str, columns: dict[str, str], dialect: str
) -> str:
    """Events → steps (the heavy part) in ``dialect``."""
    ctes, body = _events(kind, frequency, inactive, relation, columns)
    return _generate(_with(ctes, body), dialect)


def subscription_checks_query(relation: str, columns: dict[str, str], dialect: str) -> str:
    """The embedded engine's checks of a subscriptions table (first/last start, last end, rows,
    subscriptions ending before they start), in ``dialect``."""
    view = _parse(source_sql("subscriptions", relation, columns)).subquery("sub")
    return _generate(_parse(SUBSCRIPTION_CHECKS + " FROM sub").from_(view, append=False), dialect)


def periods_sql(periods: list[Period]) -> str:
    """The periods as a UNION ALL of literal rows (VALUES lists are not portable)."""
    rows = [
        f"SELECT {p.ordinal} AS ordinal, '{p.label}' AS label, DATE '{p.start.isoformat()}' "
        f"AS start_day, DATE '{p.end.isoformat()}' AS end_day"
        for p in periods
    ]
    return " UNION ALL ".join(rows)


def ledger_query(
    kind: str,
    frequency: str,
    inactive: int,
    relation: str,
    columns: dict[str, str],
    *,
    periods: list[Period],
    dialect: str,
) -> str:
    """Events → the finished ledger table (period, channel, customers_start, new, reactivated,
    churned, customers_end, revenue), one statement in ``dialect``. ``periods`` starts with the
    period before the first one reported."""
    ev_ctes, steps = _events(kind, frequency, inactive, relation, columns)
    led_ctes, _ = _split(_parse(render_sql(frequency, 0, LEDGER_SQL)))
    keep = {"first_period", "clamped", "channel_steps", "channels", "grid", "ledger"}
    led_ctes = [c for c in led_ctes if c.alias in keep]
    table = TABLE_SQL.read_text(encoding="utf-8")
    if "channel" not in columns:
        table = table.replace("    l.channel,\n", "")
    ctes = [
        *ev_ctes,
        _cte("steps", steps),
        _cte("periods", _parse(periods_sql(periods))),
        *led_ctes,
    ]
    first, last = periods[1], periods[-1]
    # names go into a comment: one line each, whatever they hold
    cols = " ".join(", ".join(f"{k}={v}" for k, v in columns.items()).split())
    header = (
        f"-- bucket: {kind} in {' '.join(relation.split())} ({cols}) → ledger per {frequency}, "
        f"{first.label} to {last.label}"
        + (f", inactive after {inactive} days" if kind == "transactions" else "")
        + f"; dialect {dialect}.\n"
        "-- The result is a ledger CSV that `bucket plan` reads as it is.\n"
    )
    return _generate(_with(ctes, _parse(table)), dialect, header)
