"""How the recommendation depends on each assumed parameter (DESIGN §6): the best split across
each parameter's plausible range (sensitivity), and the values at which today's split would be
optimal (break-even, every root found by scipy's bracketing root finder)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from bucket.analysis.wording import SYMBOL, break_even_statement
from bucket.model.calibrate import derive
from bucket.model.context import PlanContext
from bucket.model.optimize import best_splits
from bucket.results import plan as out

# Plausible ranges: break-even is searched over BREAK_EVEN, sensitivity reports the ends of
# SENSITIVITY (DESIGN §6 and §7: ρ published 5–25 widened to 3; μ, φ 0.3–0.7).
BREAK_EVEN = {"rho": (1.0, 25.0), "mu": (0.05, 0.95), "phi": (0.05, 0.95), "margin": (0.05, 1.0)}
SENSITIVITY = {"rho": (3.0, 25.0), "mu": (0.3, 0.7), "phi": (0.3, 0.7), "margin": (0.3, 1.0)}
CURVE_POINTS = 17


@dataclass(frozen=True)
class Scan:
    """One parameter's scan: ``values`` across its break-even range and the best share at each
    (``curve``), and the best share at the ends of its sensitivity range (``ends``)."""

    values: np.ndarray
    curve: np.ndarray
    ends: np.ndarray


Scans = dict[str, Scan]


def _calibration(ctx: PlanContext, name: str, value: float):
    """The plan's calibration with ``name`` at ``value``: the same model (an sBG plan's ages,
    and no channel pools beside them, as the plan ran it)."""
    return replace(
        derive(ctx.obs, ctx.settings, ctx.sources, ctx.tested, ctx.lifted, **{name: value}),
        hazard=ctx.cal.hazard,
        age_mix=ctx.cal.age_mix,
        pools=ctx.cal.pools,
    )


def best_shares(ctx: PlanContext, name: str, values) -> np.ndarray:
    """The best acquisition share with parameter ``name`` at each of ``values``."""
    cals = [_calibration(ctx, name, float(v)) for v in values]
    return best_splits(cals, ctx.settings, ctx.budget, ctx.horizon, ctx.objective)


def _grid(name: str, lo: float, hi: float, n: int) -> np.ndarray:
    return np.geomspace(lo, hi, n) if name == "rho" else np.linspace(lo, hi, n)


def scans(ctx: PlanContext, names: list[str]) -> Scans:
    """For each parameter: the best share across its break-even range and at the ends of its
    sensitivity range, every calibration of every parameter in one vectorised evaluation
    (shared by the sensitivity and break-even tables)."""
    points = {
        name: np.concatenate([_grid(name, *BREAK_EVEN[name], CURVE_POINTS), SENSITIVITY[name]])
        for name in names
    }
    cals = [_calibration(ctx, name, float(v)) for name in names for v in points[name]]
    if not cals:
        return {}
    shares = best_splits(cals, ctx.settings, ctx.budget, ctx.horizon, ctx.objective)
    found: Scans = {}
    for i, name in enumerate(names):
        each = shares[i * (CURVE_POINTS + 2) : (i + 1) * (CURVE_POINTS + 2)]
        found[name] = Scan(points[name][:CURVE_POINTS], each[:CURVE_POINTS], each[CURVE_POINTS:])
    return found


def sensitivity(ctx: PlanContext, scanned: Scans) -> list[out.Sensitivity]:
    rows = []
    for name, scan in scanned.items():
        lo, hi = SENSITIVITY[name]
        ends = scan.ends
        rows.append(
            out.Sensitivity(
                parameter=name,
                symbol=SYMBOL[name],
                value=ctx.cal.assumptions[name],
                low=lo,
                high=hi,
                share_at_low=float(ends[0]),
                share_at_high=float(ends[1]),
                impact=float(abs(ends[1] - ends[0])),
                curve=[out.CurvePoint(float(v), float(s)) for v, s in zip(scan.values, scan.curve)],
            )
        )
    return sorted(rows, key=lambda r: -r.impact)


def _roots(ctx: PlanContext, name: str, values: np.ndarray, gap: np.ndarray):
    """(roots, jumps): where the best split crosses today's, and where it jumps past it (two
    peaks trade places: no root)."""
    from scipy.optimize import brentq

    roots: list[float] = []
    jumps: list[float] = []
    for i in range(len(values) - 1):
        if gap[i] * gap[i + 1] < 0:
            f = lambda v: float(best_shares(ctx, name, [v])[0] - ctx.share0)  # noqa: E731
            root = float(brentq(f, values[i], values[i + 1], xtol=1e-4 * values[i]))
            (roots if abs(f(root)) < 0.01 else jumps).append(root)
        elif gap[i + 1] == 0 and i + 2 < len(values) and gap[i] * gap[i + 2] < 0:
            roots.append(float(values[i + 1]))
    return roots, jumps


def break_even(ctx: PlanContext, scanned: Scans) -> list[out.BreakEven]:
    rows = []
    for name, scan in scanned.items():
        lo, hi = BREAK_EVEN[name]
        values, gap = scan.values, scan.curve - ctx.share0
        current = ctx.cal.assumptions[name]
        flat = bool(np.all(np.abs(gap) < 1e-3))
        roots, jumps = ([], []) if flat else _roots(ctx, name, values, gap)
        statement = break_even_statement(
            name=name,
            roots=roots,
            jumps=jumps,
            flat=flat,
            current=current,
            low=lo,
            high=hi,
            share0=ctx.share0,
        )
        rows.append(
            out.BreakEven(
                parameter=name,
                symbol=SYMBOL[name],
                value=current,
                range_low=lo,
                range_high=hi,
                roots=roots,
                statement=statement,
            )
        )
    return rows
