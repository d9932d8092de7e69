"""Number formatting shared by the human-readable renderers (table, markdown)."""

from __future__ import annotations

from bucket.analysis import wording
from bucket.analysis.wording import plural  # noqa: F401  (the renderers' word for it)

DASH = "—"
PERIOD_WORD = {"month": "month", "week": "week", "quarter": "quarter"}


def money(x: float | None, currency: str | None = None) -> str:
    if x is None:
        return DASH
    digits = 0 if abs(x) >= 1000 else 2
    text = f"{abs(x):,.{digits}f}"
    sign = "-" if x < 0 else ""
    if not currency:
        return sign + text
    if len(currency) == 1:
        return f"{sign}{currency}{text}" if currency in "$£¥" else f"{sign}{text} {currency}"
    return f"{sign}{text} {currency}"


def count(x: float | None) -> str:
    return DASH if x is None else f"{x:,.0f}"


def pct(x: float | None, digits: int = 1) -> str:
    """A share as the headline writes it (12.3 %), or a dash for an undefined one."""
    return DASH if x is None else wording.pct(x, digits)


def times(x: float | None) -> str:
    return DASH if x is None else f"{x:.1f}×"


def number(x: float | None, digits: int = 1) -> str:
    return DASH if x is None else f"{x:,.{digits}f}"


def periods(x: float | None, frequency: str) -> str:
    if x is None:
        return DASH
    word = PERIOD_WORD.get(frequency, "period")
    return f"{x:.1f} {word}s"
