"""Which column of an event file or table is which (DESIGN §2.2): the aliases teams export
under, matched with the ledger's rules (case, spaces, dashes and underscores ignored), and
``--map canonical=theirs`` first, on every engine."""

from __future__ import annotations

from bucket.errors import InputError, Problem
from bucket.io.columns import normalize

TX_ALIASES = {
    "customer_id": (
        "customer_id",
        "customer",
        "client_id",
        "user_id",
        "customerid",
        "клиент",
        "id клиента",
        "客户id",
        "kunden_id",
        "kundennummer",
        "id_client",
        "id_cliente",
    ),
    "date": (
        "date",
        "day",
        "order_date",
        "purchase_date",
        "created_at",
        "timestamp",
        "дата",
        "日期",
        "datum",
        "fecha",
    ),
    "amount": (
        "amount",
        "revenue",
        "value",
        "total",
        "order_total",
        "price",
        "сумма",
        "金额",
        "betrag",
        "montant",
        "importe",
    ),
    "channel": ("channel", "source", "канал", "渠道", "kanal", "canal"),
}
SUB_ALIASES = {
    "customer_id": TX_ALIASES["customer_id"],
    "start": (
        "start",
        "start_date",
        "started_at",
        "subscription_start",
        "начало",
        "开始日期",
        "beginn",
        "début",
        "inicio",
    ),
    "end": (
        "end",
        "end_date",
        "ended_at",
        "cancelled_at",
        "canceled_at",
        "subscription_end",
        "окончание",
        "结束日期",
        "ende",
        "fin",
    ),
    "mrr": ("mrr", "monthly_revenue", "monthly_amount", "price", "amount"),
    "channel": TX_ALIASES["channel"],
}
REQUIRED = {
    "transactions": ("customer_id", "date", "amount"),
    "subscriptions": ("customer_id", "start", "end"),
}
ALIASES = {"transactions": TX_ALIASES, "subscriptions": SUB_ALIASES}


def _detect(header: list[str], aliases: dict[str, tuple[str, ...]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for canon, names in aliases.items():
        wanted = {normalize(n) for n in names}
        for h in header:
            if normalize(h) in wanted:
                found[canon] = h
                break
    return found


def event_columns(
    header: list[str], name: str, kind: str, mapping: dict[str, str] | None = None
) -> dict[str, str]:
    """Canonical → the file's (or table's) column: ``--map`` first (theirs ``-`` = no such
    column), then the aliases, then the check that the required ones are there."""
    mapping = mapping or {}
    found = {c: v for c, v in mapping.items() if v != "-"}
    dropped = {c for c, v in mapping.items() if v == "-"}
    missing = [c for c, v in found.items() if v not in header]
    if missing:
        raise InputError(
            Problem(
                "error",
                "missing-column",
                f"--map names {found[missing[0]]}, which is not a column "
                f"(columns: {', '.join(header)})",
                "fix the --map value",
                name,
                column=missing[0],
            )
        )
    detected = _detect(header, ALIASES[kind])
    cols = {c: v for c, v in detected.items() if c not in dropped and c not in found}
    cols.update(found)
    required = REQUIRED[kind]
    for canon in required:
        if canon not in cols:
            raise InputError(
                Problem(
                    "error",
                    "missing-column",
                    f"required column {canon} not found (columns found: {', '.join(header)})",
                    f"the {kind} need {', '.join(required)}; name yours with --map {canon}=theirs",
                    name,
                    row=1,
                    column=canon,
                )
            )
    return cols


def parse_event_map(values: list[str], kind: str) -> dict[str, str]:
    """``--map`` values for event columns: canonical=theirs, canonical among the event columns
    (theirs ``-`` for a column the events do not have). ValueError names a bad pair."""
    known = (*ALIASES[kind],)
    found: dict[str, str] = {}
    for value in values:
        for pair in value.split(","):
            canon, sep, theirs = pair.partition("=")
            canon, theirs = canon.strip(), theirs.strip()
            if not sep or not theirs or canon not in known:
                raise ValueError(
                    f"'{pair}': use canonical=theirs with canonical one of "
                    f"{', '.join(known)} (theirs '-' for none)"
                )
            found[canon] = theirs
    return found
