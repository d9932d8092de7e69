"""The calibration window of a ledger (DESIGN §5): its last periods, their numeric columns and
the period of each row, so that observe sums anything per period in one step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bucket.errors import InputError, Problem
from bucket.io.columns import NUMERIC

if TYPE_CHECKING:
    import pandas as pd

    from bucket.io.ledger import Ledger
    from bucket.settings import PlanSettings


MIN_WINDOW = 3  # periods: fewer cannot tell churn, spend response and noise apart


def calibration_error(ledger: Ledger, message: str, fix: str) -> InputError:
    """The error of a ledger the model cannot be calibrated on."""
    return InputError(Problem("error", "calibration", message, fix, ledger.file))


@dataclass(frozen=True)
class CalibrationWindow:
    """The calibration window's rows, their numeric columns and the period of each row."""

    rows: pd.DataFrame
    first: str
    last: str
    last_ordinal: int  # the ledger's last period
    periods: int
    period_idx: np.ndarray  # each row's period in the window, 0 … periods − 1
    col: dict[str, np.ndarray]  # the numeric columns present, empty cells as 0
    organic: np.ndarray  # per row; zeros when the column is absent
    referral: np.ndarray
    reactivated: np.ndarray
    paid: np.ndarray  # new − organic − referral

    def per_period(self, x: np.ndarray) -> np.ndarray:
        return np.bincount(self.period_idx, weights=x, minlength=self.periods)


def calibration_window(ledger: Ledger, settings: PlanSettings) -> CalibrationWindow:
    """The last ``settings.window`` calendar periods of the ledger, ready to sum per period."""
    frame = ledger.frame
    ords = sorted(set(frame["ordinal"].tolist()))
    window = [o for o in ords if o > ords[-1] - settings.window]  # calendar periods
    win = frame[frame["ordinal"] >= window[0]]
    labels = dict(zip(frame["ordinal"].tolist(), frame["period"].tolist()))
    first, last = labels[window[0]], labels[window[-1]]
    if len(window) < MIN_WINDOW:
        n, unit = len(window), ledger.frequency
        raise calibration_error(
            ledger,
            f"the calibration window holds {n} {unit}{'s' if n != 1 else ''} ({first} to {last}); "
            f"a plan needs at least {MIN_WINDOW} to measure churn and what spend buys, "
            "and would otherwise rest on its assumptions alone",
            f"export at least {MIN_WINDOW} {unit}s of history"
            + (f" (or use --window {MIN_WINDOW} or more)" if len(ords) >= MIN_WINDOW else ""),
        )
    if "acquisition_spend" not in ledger.present:
        raise calibration_error(
            ledger,
            "the ledger has no acquisition_spend column, so the planner cannot tell what spend buys",
            "add acquisition spend per period (or per period and channel)",
        )
    col = {c: win[c].fillna(0.0).to_numpy(float) for c in NUMERIC if c in ledger.present}
    zeros = np.zeros(len(win))
    organic_col = col.get("organic_customers", zeros)
    referral_col = col.get("referral_customers", zeros)
    react_col = col.get("reactivated_customers", zeros)
    paid_col = col["new_customers"] - organic_col - referral_col
    period_idx = np.searchsorted(np.array(window), win["ordinal"].to_numpy())
    return CalibrationWindow(
        win,
        first,
        last,
        ords[-1],
        len(window),
        period_idx,
        col,
        organic_col,
        referral_col,
        react_col,
        paid_col,
    )


def window_revenue(
    ledger: Ledger, w: CalibrationWindow
) -> tuple[float | None, np.ndarray, np.ndarray]:
    """Revenue per customer over the rows that report revenue (None without any), and the
    revenue and average customers of those rows per period."""
    revenue_per_customer = None
    revenue_p: np.ndarray = np.zeros(w.periods)
    avg_p: np.ndarray = np.zeros(w.periods)
    if "revenue" in ledger.present:
        win, period_idx, n_periods = w.rows, w.period_idx, w.periods
        rev = win["revenue"].to_numpy(float)
        have = ~np.isnan(rev)
        avg = ((win["customers_start"] + win["customers_end"]) / 2).to_numpy(float)
        if have.any() and avg[have].sum() > 0:
            revenue_per_customer = float(rev[have].sum() / avg[have].sum())
            revenue_p = np.bincount(period_idx[have], weights=rev[have], minlength=n_periods)
            avg_p = np.bincount(period_idx[have], weights=avg[have], minlength=n_periods)
    return revenue_per_customer, revenue_p, avg_p
