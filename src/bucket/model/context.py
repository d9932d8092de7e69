"""What every step of a plan shares (DESIGN §4–§7): the observations, the calibration, the
settings and today's scenario, in one public ``PlanContext``.

The planner (``analysis/plan.py``), the uncertainty draws (``model/uncertainty.py``) and the
report (``analysis/report.py``) all read it; none of them computes it twice.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from bucket.errors import ConfigError
from bucket.io.periods import PERIODS_PER_YEAR, Period
from bucket.model.calibrate import Calibration, derive
from bucket.model.observe import Observed, observe
from bucket.model.optimize import Scenario, evaluate, params_of

if TYPE_CHECKING:
    from bucket.io.ledger import Ledger
    from bucket.model.experiments import (
        ChannelPosterior,
        LiftTest,
        RetentionArm,
        RetentionPosterior,
    )
    from bucket.settings import PlanSettings

# The target objective searches budgets up to this multiple of today's (DESIGN §4); a budget
# set further out extrapolates the response curves past anything they were fitted on
MAX_BUDGET_RATIO = 100
AGES = 240  # age buckets of the sBG base (the last one holds everyone older)
ONE = (0.999, 1.0)  # ι's range where no go-dark test measures it: held at 1


class PlanContext:
    """What every step needs: observations, settings, today's scenario."""

    def __init__(
        self,
        ledger: Ledger,
        settings: PlanSettings,
        sources: dict[str, str],
        arms: tuple[RetentionArm, ...] = (),
        lifts: tuple[LiftTest, ...] = (),
    ) -> None:
        self.ledger = ledger
        self.settings = settings
        self.sources = sources
        self.obs: Observed = observe(ledger, settings)
        tests: list[str] = []
        self.cal, self.tested, self.lifted = calibrate_with_tests(
            self.obs, settings, sources, arms, lifts, tests
        )
        self.warnings: list[str] = [*self.cal.warnings, *tests]
        self.age_structure = None
        if settings.retention_model == "sbg":
            self.warnings.append(
                "--retention-model sbg is experimental: in simulated businesses whose customers "
                "differ it moved too much budget to retention and lost value against the "
                "constant-churn plan; read its plan beside the default one"
            )
            self.age_structure = age_structure(ledger, self.warnings)
        self.horizon = settings.horizon or PERIODS_PER_YEAR[self.obs.frequency]
        self.budget0 = self.obs.acquisition + self.obs.retention
        self.budget = self.budget0 if settings.budget is None else settings.budget
        if self.budget > MAX_BUDGET_RATIO * self.budget0:
            raise ConfigError(
                f"--budget {self.budget:,.0f} is over {MAX_BUDGET_RATIO} times today's budget "
                f"({self.budget0:,.0f} per {self.obs.frequency}), far outside what the history "
                "can say about spend",
                f"give a budget up to {MAX_BUDGET_RATIO * self.budget0:,.0f}",
            )
        self.share0 = self.obs.acquisition / self.budget0
        objective = settings.objective
        if objective in ("value", "profit") and self.cal.u is None:
            self.warnings.append(
                f"no revenue column, so the plan maximises customers after {self.horizon} "
                f"{self.obs.frequency}s instead of {objective}; give --arpu to plan on {objective}"
            )
            objective = "customers"
        if objective == "target" and settings.target_growth is None:
            raise ConfigError(
                "--objective target needs a growth to reach",
                "give --target-growth, e.g. 0.2 for +20 % customers over the horizon",
            )
        self.objective = "customers" if objective == "target" else objective
        self.target_mode = objective == "target"
        if self.age_structure is not None:
            # the age structure and the channel pools are not combined (yet): sBG alone
            self.cal = replace(
                self.cal,
                hazard=self.age_structure[0],
                age_mix=self.age_structure[1],
                pools=None,
            )
        self.params = params_of(self.cal, settings.capacity, settings.max_growth)
        # today's channels in today's proportions; spend of dropped channels buys nothing
        modelled = sum(ch.spend for ch in self.obs.channels)
        # (a channel launched inside the window counts its spend since launch, which can put
        # the modelled channels above the window's mean: today's acquisition stays within it,
        # or today's split would leave retention a negative budget)
        self.mix = self.cal.mix * min(1.0, modelled / self.obs.acquisition)

    def scenario(self, share: float, budget: float | None = None, optimal: bool = True) -> Scenario:
        b = self.budget if budget is None else budget
        return evaluate(
            self.cal,
            self.params,
            share,
            b,
            self.horizon,
            self.objective,
            mix=None if optimal else self.mix,
        )

    def period_label(self, t: int) -> str:
        return Period(self.obs.frequency, self.obs.last_ordinal + 1 + t).label


def calibrate_with_tests(
    obs: Observed,
    settings: PlanSettings,
    sources: dict[str, str],
    arms: tuple[RetentionArm, ...],
    lifts: tuple[LiftTest, ...],
    warnings: list[str],
) -> tuple[Calibration, RetentionPosterior | None, dict[str, ChannelPosterior]]:
    """The calibration with the experiments (DESIGN §12): lift tests re-weight their channel's
    φ and ι, retention tests the retention curve's μ and k (anchored on the marginal CAC the
    lift tests leave); and the two posteriors. What the tests say goes to ``warnings``."""
    cal = derive(obs, settings, sources)
    lifted = measure_channels(obs, lifts, warnings) if lifts else {}
    if lifted:
        cal = derive(obs, settings, sources, lifted=lifted)
    tested = measure_retention(obs, cal, arms, warnings) if arms else None
    if tested is not None:
        cal = derive(obs, settings, sources, tested, lifted)
    return cal, tested, lifted


def measure_channels(
    obs: Observed, lifts: tuple[LiftTest, ...], warnings: list[str]
) -> dict[str, ChannelPosterior]:
    """Each modelled channel's posterior of (φ, ι) given its lift tests, kept when the tests
    moved it from the prior; tests of a channel without a response curve are reported."""
    from bucket.model.experiments import ChannelAnchor, fit_channel, goes_dark

    by: dict[str, list[LiftTest]] = {}
    for t in lifts:
        by.setdefault(t.channel, []).append(t)
    modelled = {ch.name: ch for ch in obs.channels}
    out = {}
    for name, tests in by.items():
        ch = modelled.get(name)
        if ch is None:
            warnings.append(
                f"the lift tests of channel {name} were not used: it has no response curve in "
                "the calibration window (no spend, or no paid customers)"
            )
            continue
        # an increment alone cannot tell φ from ι (both scale it): without a go-dark test ι
        # stays the ledger's 1, every attributed paid customer incremental
        dark = any(goes_dark(t) for t in tests)
        post = fit_channel(
            tests, ChannelAnchor(ch.spend, ch.paid), iota_range=(0.0, 1.0) if dark else ONE
        )
        warnings.extend(post.warnings)
        if post.phi.informed or post.iota.informed:
            out[name] = post
    return out


def measure_retention(
    obs: Observed, cal: Calibration, arms: tuple[RetentionArm, ...], warnings: list[str]
) -> RetentionPosterior | None:
    """The posterior of the retention curve given the experiments' arms, anchored on the
    ledger's churn (with its binomial standard error) and spend per customer; None, with a
    warning, when the window leaves nothing to anchor on. The posterior's warnings and findings
    go to ``warnings``."""
    from bucket.model.experiments import RetentionAnchor, fit_retention

    if not (0.0 < cal.c_obs < 1.0) or cal.mcac <= 0:
        warnings.append(
            "the experiments were not used: the window shows no churn to measure them against"
            if cal.c_obs <= 0
            else "the experiments were not used: the window's churn or CAC is degenerate"
        )
        return None
    customers = float(obs.series["start"].sum())
    se = (cal.c_obs * (1.0 - cal.c_obs) / customers) ** 0.5 if customers > 0 else 0.0
    post = fit_retention(arms, RetentionAnchor(cal.c_obs, obs.retention_per_customer, cal.mcac, se))
    warnings.extend(post.warnings)
    warnings.extend(post.findings)
    return post


def age_structure(ledger: Ledger, warnings: list[str]):
    """(relative hazard by age, today's age mix) from the ledger's cohorts and an sBG fit, or
    None (with a warning) when the cohorts show no heterogeneity: then the constant churn is
    the sBG answer too."""
    from bucket.io.cohorts import cohort_counts
    from bucket.model.sbg import fit_sbg, structural_delay

    if not ledger.cohorts:
        raise ConfigError(
            "--retention-model sbg needs cohorts",
            "derive the ledger from events (--transactions or --subscriptions)",
        )
    _labels, counts = cohort_counts(ledger.cohorts)
    survivors = [np.minimum.accumulate(n) for n in counts if n[0] > 0]
    delay = structural_delay(survivors)
    fit = fit_sbg([n[delay:] for n in survivors if len(n) > delay + 1] or survivors)
    if fit.homogeneous or fit.alpha is None or fit.beta is None:
        warnings.append(
            "the cohorts show no heterogeneity: the sBG curve is flat, so the plan "
            "uses a constant churn (the same answer)"
        )
        return None
    if min(fit.alpha, fit.beta) < 1e-3 or fit.customers < 100:
        warnings.append(
            f"the cohorts ({fit.customers} customers) are too few to fit the sBG "
            "curve; the plan uses a constant churn"
        )
        return None
    ages = np.arange(AGES)
    # customers at age a churn at the end of the period with probability α/(α + β + a),
    # counted from the end of the delay in which nobody can churn
    hazard = np.where(
        ages < delay, 0.0, fit.alpha / (fit.alpha + fit.beta + np.maximum(ages - delay, 0))
    )
    mix = np.zeros(AGES)
    for n in counts:  # today's base: each cohort at its current age
        mix[min(len(n) - 1, AGES - 1)] += n[-1]
    if mix.sum() <= 0:
        return None
    mix /= mix.sum()
    relative = hazard / float((mix * hazard).sum())
    warnings.append(
        f"retention model sBG (α = {fit.alpha:.3f}, β = {fit.beta:.3f}): the base ages, and "
        "churn falls as it does; retention spend scales every age's churn alike"
    )
    return relative, mix
