"""Cohorts per channel (DESIGN §13): each channel's survival at equal ages, and whether the
channels differ beyond chance.

A channel's pool churns more when its customers are young (new customers leave sooner), so its
ledger churn mixes quality with age. Comparing channels age by age removes that: at each age a
the cohorts old enough to show it give, per channel, the customers at risk R_ja and those lost
D_ja. The k-sample log-rank test (Mantel 1966, *Cancer Chemotherapy Reports* 50: 163–170; Peto
& Peto 1972, *JRSS A* 135: 185–207) compares the lost with those expected if every channel
churned alike at each age, E_ja = R_ja·D_a/R_a, with the hypergeometric covariance, and
χ² = (O − E)ᵀ V⁻¹ (O − E) on J − 1 degrees of freedom (the last channel dropped).
"""

from __future__ import annotations

import numpy as np

from bucket.analysis.wording import pct, possessive
from bucket.results import cohorts as out

SIGNIFICANCE = 0.05


def _at_risk(counts: list[np.ndarray], ages: int) -> tuple[np.ndarray, np.ndarray]:
    """(at risk, lost) at ages 1 … ``ages`` over the cohorts old enough to show each age."""
    risk, lost = np.zeros(ages), np.zeros(ages)
    for n in counts:
        n = np.minimum.accumulate(n)  # a customer who came back counts as gone (as the sBG fit)
        top = min(len(n) - 1, ages)
        risk[:top] += n[:top]
        lost[:top] += n[:top] - n[1 : top + 1]
    return risk, lost


def log_rank(risk: np.ndarray, lost: np.ndarray) -> tuple[float, int, float, np.ndarray]:
    """(χ², df, p-value, expected losses) of the k-sample log-rank test; ``risk`` and ``lost``
    are (J, A): per group and age."""
    from scipy.special import chdtrc

    total_r, total_d = risk.sum(axis=0), lost.sum(axis=0)
    live = total_r > 1
    r, d = risk[:, live], lost[:, live]
    tr, td = total_r[live], total_d[live]
    expected = (r * td / tr).sum(axis=1)
    observed = d.sum(axis=1)
    share = r / tr
    factor = td * (tr - td) / (tr - 1)
    j = len(r)
    cov = np.zeros((j, j))
    for a in range(r.shape[1]):
        s = share[:, a]
        cov += factor[a] * (np.diag(s) - np.outer(s, s))
    diff = (observed - expected)[:-1]
    df = j - 1
    if df < 1 or not np.any(cov[:-1, :-1]):
        return 0.0, max(df, 0), 1.0, expected
    chi2 = float(diff @ np.linalg.pinv(cov[:-1, :-1]) @ diff)
    return chi2, df, float(chdtrc(df, chi2)), expected


def _survival(counts: list[np.ndarray]) -> list[float]:
    oldest = max(len(n) for n in counts) - 1
    risk, lost = _at_risk(counts, oldest)
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = np.where(risk > 0, 1.0 - lost / risk, 1.0)
    return [1.0, *(float(x) for x in np.cumprod(keep))]


def compare(
    channels: dict[str, tuple[list[str], list[np.ndarray]]], frequency: str
) -> tuple[list[out.ChannelSurvival], out.ChannelTest] | None:
    """Each channel's survival and the log-rank test at the ages every channel shows; None
    with fewer than two channels that have customers."""
    kept = {ch: [n for n in counts if n[0] > 0] for ch, (_, counts) in channels.items()}
    kept = {ch: c for ch, c in kept.items() if c and max(len(n) for n in c) > 1}
    if len(kept) < 2:
        return None
    ages = min(max(len(n) for n in c) for c in kept.values()) - 1
    names = sorted(kept)
    pairs = [_at_risk(kept[ch], ages) for ch in names]
    risk = np.array([p[0] for p in pairs])
    lost = np.array([p[1] for p in pairs])
    chi2, df, p_value, expected = log_rank(risk, lost)
    rows = [
        out.ChannelSurvival(
            channel=ch,
            customers=float(sum(n[0] for n in kept[ch])),
            survival=_survival(kept[ch]),
            churn=float(lost[i].sum() / risk[i].sum()) if risk[i].sum() > 0 else None,
            lost=float(lost[i].sum()),
            expected=float(expected[i]),
        )
        for i, ch in enumerate(names)
    ]
    said = _statement(rows, f"log-rank χ² = {chi2:.1f} on {df} df", p_value, ages, frequency)
    return rows, out.ChannelTest(chi2, df, p_value, ages, said)


def _statement(
    rows: list[out.ChannelSurvival], test: str, p_value: float, ages: int, per: str
) -> str:
    churn = {r.channel: r.churn for r in rows if r.churn is not None}
    p = test + (", p < 0.001" if p_value < 0.001 else f", p = {p_value:.3f}")
    span = f"over ages 1 to {ages}" if ages > 1 else "at age 1"
    if not churn or p_value >= SIGNIFICANCE:
        return f"the channels' customers churn alike at equal ages {span} ({p})"
    worst = max(churn, key=lambda c: churn[c] or 0.0)
    best = min(churn, key=lambda c: churn[c] or 0.0)
    return (
        f"at equal ages ({span}), {possessive(worst)} customers churn {pct(churn[worst], 1)} a "
        f"{per} and {possessive(best)} {pct(churn[best], 1)}; the channels differ ({p})"
    )
