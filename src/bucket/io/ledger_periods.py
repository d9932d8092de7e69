"""Checks across a ledger's periods: gaps in the periods, a channel without a row for a period
inside its span, and periods that do not start where the previous one ended (warnings)."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from bucket.io.ledger_checks import Collector, fmt_count
from bucket.io.periods import Period

if TYPE_CHECKING:
    import pandas as pd


def _listed(labels: list[str]) -> str:
    """The first six period labels, and how many more."""
    more = len(labels) - 6
    return ", ".join(labels[:6]) + (f" and {more} more" if more > 0 else "")


def check_gaps(periods: list[Period], labels: dict[str, str], out: Collector) -> None:
    """Warn about periods missing between the first and the last."""
    ps = periods
    missing: list[str] = []
    for a, b in itertools.pairwise(ps):
        missing.extend((a + j).label for j in range(1, b.ordinal - a.ordinal))
    if missing:
        shown = _listed(missing)
        out.warn(
            "period-gap",
            f"{len(missing)} period(s) missing between {ps[0].label} and {ps[-1].label}: {shown}",
            "add the missing rows; sums and rates skip them",
            column=labels.get("period", "period"),
        )


def check_channel_gaps(frame: pd.DataFrame, labels: dict[str, str], out: Collector) -> None:
    """Warn when a channel has no row for a period of the ledger between its first and its
    last: the period's totals then miss that channel's customers and spend (a silent dip in the
    base, churn and spend), which no other check sees."""
    if frame["channel"].nunique() < 2:
        return
    label_of = dict(zip(frame["ordinal"], frame["period"]))
    every = sorted(label_of)
    gaps: list[tuple[str, list[str]]] = []
    for channel, g in frame.groupby("channel", sort=False):
        have = set(g["ordinal"])
        lo, hi = min(have), max(have)
        missing = [label_of[o] for o in every if lo < o < hi and o not in have]
        if missing:
            gaps.append((str(channel), missing))
    if not gaps:
        return

    if len(gaps) == 1:
        channel, missing = gaps[0]
        whose = "that period's" if len(missing) == 1 else "those periods'"
        text = (
            f"channel {channel} has no row for {_listed(missing)}, between its first and last "
            f"periods; {whose} totals leave out its customers and spend"
        )
    else:
        each = "; ".join(f"{c}: {_listed(m)}" for c, m in gaps[:4])
        rest = f"; and {len(gaps) - 4} more channels" if len(gaps) > 4 else ""
        text = (
            f"{len(gaps)} channels have no row for some periods between their first and last "
            f"({each}{rest}); those periods' totals leave out their customers and spend"
        )
    out.warn(
        "channel-gap",
        text,
        "add the missing rows (with zeros where the channel spent nothing and won nobody)",
        column=labels.get("channel", "channel"),
    )


def check_continuity(frame: pd.DataFrame, labels: dict[str, str], out: Collector) -> None:
    """Warn when a period does not start with the customers the previous one ended with."""
    breaks: list[tuple[int, str]] = []
    for _, g in frame.groupby("channel", sort=False):
        ords, starts, ends, rows = (
            g["ordinal"].to_numpy(),
            g["customers_start"].to_numpy(),
            g["customers_end"].to_numpy(),
            g["row"].to_numpy(),
        )
        for i in range(1, len(g)):
            if ords[i] == ords[i - 1] + 1 and abs(starts[i] - ends[i - 1]) > 0.5:
                breaks.append(
                    (
                        int(rows[i]),
                        f"customers_start {fmt_count(starts[i])} ≠ previous customers_end "
                        f"{fmt_count(ends[i - 1])}",
                    )
                )
    if breaks:
        breaks.sort()
        row_no, text = breaks[0]
        others = len(breaks) - 1
        more = f" ({others} more {'row' if others == 1 else 'rows'} like it)" if others else ""
        out.warn(
            "continuity",
            f"{text}{more}",
            "each period should start with the customers the previous one ended with",
            row=row_no,
            column=labels.get("customers_start", "customers_start"),
        )
