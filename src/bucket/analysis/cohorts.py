"""What `bucket cohorts` computes: survival table, retention by age, pooled and per-cohort sBG
fits, the projection and discounted lifetimes under both models (DESIGN §8)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bucket.analysis.channel_cohorts import compare
from bucket.errors import InputError, Problem
from bucket.model.money import period_discount_rate
from bucket.model.sbg import (
    SBGFit,
    discounted_lifetime,
    discounted_lifetime_constant,
    fit_sbg,
    retention_by_age,
    structural_delay,
    survival,
)
from bucket.results import cohorts as out

if TYPE_CHECKING:
    from bucket.io.cohorts import CohortTable

Cohorts = list[tuple[str, np.ndarray]]


def analyse(
    table: CohortTable,
    frequency: str,
    annual_discount_rate: float,
    arpu: float | None,
    margin: float,
    horizon: int | None = None,
) -> out.CohortsResult:
    """The cohorts result for a cohort table."""
    d = period_discount_rate(annual_discount_rate, frequency)
    # sBG assumes a customer who leaves never returns; with reactivations (from transactions)
    # a cohort's active count can rise. The fit then uses each cohort's running minimum (the
    # customers who never came back after leaving is what the model describes), and says so.
    keep = [(label, n) for label, n in zip(table.labels, table.counts) if n[0] > 0]
    if not any(len(n) >= 2 for _, n in keep):
        raise InputError(
            Problem(
                "error",
                "cohorts",
                "no cohort has customers at age 0 and a later age to compare",
                "give at least one cohort observed for two periods or more",
                table.file,
            )
        )
    survivors = [np.minimum.accumulate(n) for _, n in keep]
    delay = structural_delay(survivors)
    fit = fit_sbg([n[delay:] for n in survivors if len(n) > delay + 1] or survivors)
    oldest = max(len(n) for _, n in keep) - 1
    span = horizon or max(2 * oldest, 12)
    channels = compare(table.channels, frequency) if table.channels else None
    return out.CohortsResult(
        file=table.file,
        frequency=frequency,  # type: ignore[arg-type]
        cohorts=_cohort_rows(keep),
        ages=_ages(keep, fit, delay, oldest),
        fit=out.SBGOut(
            fit.alpha,
            fit.beta,
            fit.se_alpha,
            fit.se_beta,
            fit.loglik,
            fit.geometric_churn,
            fit.geometric_loglik,
            fit.homogeneous,
            fit.better,  # type: ignore[arg-type]
        ),
        projection=_projection(fit, delay, span),
        lifetime=_lifetime(fit, delay, d, arpu, margin),
        warnings=[w.line() for w in table.warnings] + _warnings(keep, fit, delay, frequency),
        channels=channels[0] if channels else None,
        channel_test=channels[1] if channels else None,
    )


def _cohort_rows(keep: Cohorts) -> list[out.CohortRow]:
    rows = []
    for label, n in keep:
        own = fit_sbg([np.minimum.accumulate(n)]) if len(n) >= 3 else None
        rows.append(
            out.CohortRow(
                label,
                float(n[0]),
                [float(x) for x in n],
                [float(x / n[0]) for x in n],
                None if own is None else own.alpha,
                None if own is None else own.beta,
            )
        )
    return rows


def _ages(keep: Cohorts, fit: SBGFit, delay: int, oldest: int) -> list[out.AgeRow]:
    """Observed retention by age (pooled over cohorts), the sBG curve's, the constant one."""
    c = fit.geometric_churn
    ages = []
    for t in range(1, oldest + 1):
        num = sum(float(n[t]) for _, n in keep if len(n) > t)
        den = sum(float(n[t - 1]) for _, n in keep if len(n) > t)
        fitted = (
            None
            if fit.homogeneous
            else (
                1.0
                if t <= delay
                else float(retention_by_age(fit.alpha, fit.beta, np.array([t - delay]))[0])  # type: ignore[arg-type]
            )
        )
        ages.append(out.AgeRow(t, num / den if den > 0 else None, fitted, 1.0 - c))
    return ages


def _projection(fit: SBGFit, delay: int, span: int) -> list[out.ProjectionPoint]:
    c = fit.geometric_churn
    ts = range(span + 1)
    s_sbg = (
        None
        if fit.homogeneous
        else survival(fit.alpha, fit.beta, np.maximum(np.arange(span + 1) - delay, 0))  # type: ignore[arg-type]
    )
    return [
        out.ProjectionPoint(
            int(t), None if s_sbg is None else float(s_sbg[t]), float((1 - c) ** max(t - delay, 0))
        )
        for t in ts
    ]


def _lifetime(fit: SBGFit, delay: int, d: float, arpu: float | None, margin: float) -> out.Lifetime:
    """Discounted expected lifetimes (periods) and CLTVs under the sBG and the constant churn."""
    c = fit.geometric_churn
    life_sbg = None if fit.homogeneous else discounted_lifetime(fit.alpha, fit.beta, d)  # type: ignore[arg-type]
    life_const = discounted_lifetime_constant(c, d)
    if delay:  # the first `delay` periods are certain, the curve starts after them
        head = sum((1 + d) ** -t for t in range(delay))
        shift = (1 + d) ** -delay
        life_sbg = None if life_sbg is None else head + shift * life_sbg
        life_const = None if life_const is None else head + shift * life_const
    if fit.homogeneous:
        life_sbg = life_const
    money = None if arpu is None else arpu * margin
    return out.Lifetime(
        d,
        life_sbg,
        life_const,
        None if money is None or life_sbg is None else money * life_sbg,
        None if money is None or life_const is None else money * life_const,
    )


def _warnings(keep: Cohorts, fit: SBGFit, delay: int, frequency: str) -> list[str]:
    c = fit.geometric_churn
    warnings = []
    if delay:
        warnings.append(
            f"cohorts lose no one, or almost no one, until age {delay} (an inactivity window or "
            f"a trial): the curves are fitted from age {delay} on"
        )
    rises = [label for label, n in keep if np.any(np.diff(n) > 0)]
    if rises:
        warnings.append(
            f"{len(rises)} cohort(s) gain customers back at some age (reactivations); the sBG fit "
            "counts a customer as gone from the first period they are missing"
        )
    if fit.homogeneous:
        warnings.append(
            f"the cohorts show no heterogeneity (the sBG likelihood has no interior maximum): "
            f"every customer churns alike at {100 * c:.1f} % per {frequency}; constant churn is "
            "the model"
        )
    elif fit.better == "sbg":
        warnings.append(
            "the sBG model fits clearly better than a constant churn (likelihood-ratio test, 5 %): "
            "retention rises with tenure, and a constant churn understates what the customers "
            "who stay are worth"
        )
    return warnings
