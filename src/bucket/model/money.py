"""Money over time: the discount rate per period, and the domains of margin and discount
(DESIGN §3, §5)."""

from __future__ import annotations

import math

from bucket.errors import ConfigError
from bucket.io.periods import PERIODS_PER_YEAR


def period_discount_rate(annual: float, frequency: str) -> float:
    """(1 + annual)^(1 / periods per year) − 1 (DESIGN §5)."""
    return (1.0 + annual) ** (1.0 / PERIODS_PER_YEAR[frequency]) - 1.0


def check_assumptions(margin: float, annual_discount_rate: float) -> None:
    if not (0.0 < margin <= 1.0) or not math.isfinite(margin):
        raise ConfigError(
            f"margin {margin:g} is outside (0, 1]", "give the gross margin as a fraction, e.g. 0.7"
        )
    if not (0.0 <= annual_discount_rate <= 10.0) or not math.isfinite(annual_discount_rate):
        raise ConfigError(
            f"annual discount rate {annual_discount_rate:g} is outside [0, 10]",
            "give it as a fraction per year, e.g. 0.1 for 10 %",
        )
