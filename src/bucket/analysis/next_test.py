"""The retention test a plan suggests running next (DESIGN §12): the ledger shows churn at one
level of retention spend, so how much churn money can remove at all (μ) is assumed; a test with
an arm at today's spend per customer and one at the spend the plan moves towards measures it.

The arms are today's retention spend per customer and the recommendation's (else the best split
on average's, else twice today's); the test runs 3 periods, or 6 or 12 when 3 would need more than
a quarter of the customer base per arm; the customers per arm give 80 % power at 5 % two-sided
significance to tell the churn the plan's model expects in each arm.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from bucket.analysis.wording import pct, plural
from bucket.model.experiments import Suggestion, experiment_suggested
from bucket.results import plan as out

if TYPE_CHECKING:
    from bucket.model.context import PlanContext

DURATIONS = (3.0, 6.0, 12.0)
MAX_SHARE = 0.25  # of the customer base in one arm
MOVE = 0.10  # an arm within 10 % of today's spend per customer tests too little


def _other_arm(ctx: PlanContext, current: out.Split, candidates: list[out.Split]) -> float:
    """Spend per customer of the arm to compare today's with."""
    r_obs, n0 = ctx.obs.retention_per_customer, ctx.obs.n0
    for split in candidates:
        if current.retention_spend > 0:
            r = r_obs * split.retention_spend / current.retention_spend
        else:
            r = split.retention_spend / n0 if n0 > 0 else 0.0
        if abs(r - r_obs) > MOVE * max(r_obs, 1e-12):
            return r
    return 2.0 * r_obs


def suggest_test(
    ctx: PlanContext, current: out.Split, candidates: list[out.Split]
) -> out.ExperimentSuggested | None:
    """The test, or None when retention spend has no modelled effect (no churn, no curve).
    ``candidates``: the splits whose retention spend the second arm may take, in order."""
    cal, n0 = ctx.cal, ctx.obs.n0
    r_obs = ctx.obs.retention_per_customer
    if not cal.retention_works or n0 <= 0 or cal.hazard is not None:
        return None
    r_other = _other_arm(ctx, current, candidates)
    if r_other <= 0 and r_obs <= 0:
        return None
    # the plan's own curve, c_min + (c_base − c_min)·e^{−r/k}, anchored where today spends (a
    # fitted curve need not pass through the window's churn exactly)
    c_today = cal.c_min + (cal.c_base - cal.c_min) * math.exp(-r_obs / cal.k)
    mu = 1.0 - cal.c_min / c_today
    for periods in DURATIONS:
        s = experiment_suggested(c_today, r_obs, r_other, mu, cal.k, periods)
        if s.customers_per_arm is not None and s.customers_per_arm <= MAX_SHARE * n0:
            break
    tested = ctx.tested.mu if ctx.tested is not None and ctx.tested.mu.informed else None
    known = (
        f"which your experiments put at {tested.p10:.2f}–{tested.p90:.2f} (80 %): this test "
        "would narrow it"
        if tested is not None
        else "which the split rests on"
    )
    note = _note(s, plural(int(periods), ctx.obs.frequency), n0, r_other > r_obs, known)
    arms = [out.TestArm(a.name, a.spend_per_customer, a.churn) for a in s.arms]
    arms[1] = out.TestArm(
        "stretch" if r_other > r_obs else "lower", arms[1].spend_per_customer, arms[1].churn
    )
    return out.ExperimentSuggested(
        informs="mu" if r_other > r_obs else "k",
        arms=arms,
        periods=s.periods,
        customers_per_arm=s.customers_per_arm,
        share_of_base=s.customers_per_arm / n0 if s.customers_per_arm is not None else None,
        power=s.power,
        significance=s.significance,
        note=note,
    )


def _note(s: Suggestion, span: str, n0: float, stretch: bool, known: str) -> str:
    """What the test is, what it measures (``known``: what is known of μ), and whether the base
    can run it."""
    if s.customers_per_arm is None:
        return (
            "the plan's model expects the same churn at both spends, so no test of them can "
            "tell them apart; test a spend further from today's"
        )
    p1, p2 = s.arms[0].churn, s.arms[1].churn
    what = (
        f"how much churn retention money can remove at all (μ), {known}"
        if stretch
        else "how fast churn rises with less retention money (k)"
    )
    note = (
        f"Hold {s.customers_per_arm:,} customers at today's retention spend per customer and "
        f"{s.customers_per_arm:,} at the {'stretch' if stretch else 'lower'} spend for {span}: "
        f"the plan expects {pct(p1, 1)} and {pct(p2, 1)} of them to churn, a difference these "
        f"arms detect {pct(s.power)} of the time at {pct(s.significance)} significance "
        f"(two-sided). It measures {what}"
    )
    if s.customers_per_arm > MAX_SHARE * n0:
        note += (
            f". That is {pct(s.customers_per_arm / n0, 0)} of today's customers per arm: the "
            "effect is too small for the base to measure cleanly, so the split rests on μ"
        )
    return note + "."
