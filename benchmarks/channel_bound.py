"""How well could *any* planner spread acquisition across channels without knowing each
channel's saturation? A bound for the decision benchmark's misallocation.

    python benchmarks/channel_bound.py                       # the channel families' worlds
    python benchmarks/channel_bound.py --seed 777 --families channel-churn

The ledger shows each channel at (about) today's spend, so where spend barely varied the curve
through today's point is unknown: bucket then assumes φ (today's spend reaches that share of
saturation, 0.5 by default). This script gives an ideal planner *everything* in each world's
truth (``worlds.py``: the pools' churn, ARPU, the state, the retention curve, today's paid
customers per channel) except φ_j, which it takes as ``--phi`` for every channel; its curves are
the exponential ones through today's true point. For a total acquisition A (the true optimum's,
so that only the channel split is judged) it chooses the channel split that is best in *its*
world, and scores it in the truth: misallocation = (V(best split of A) − V(its split))/|V*|,
the figure ``decisions.py`` prints as ``mis``. With ``--truth`` it knows φ_j too (then only the
optimiser's error is left). If this planner misses a target, a ledger-only plan cannot meet it
in those worlds. Exponential-curve worlds only (the ``hill`` family's curves are not of that
form). Imports nothing from bucket.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from decisions import DEFAULT_SEED, best_channel_split, optimum
from worlds import FAMILIES, World, make_world


def believed(world: World, phi: float) -> World:
    """The world with each channel's curve replaced by the exponential one through today's true
    point (spend A_j, paid n_j) at saturation share ``phi``."""
    a = world.acq_today
    n = world.paid(a, world.t_end)
    m = n / phi
    kappa = a / (m * -math.log1p(-phi))
    return replace(world, M=m, kappa=kappa)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--worlds-per-family", type=int, default=8)
    ap.add_argument("--families", default="own,mixed-channels,channel-churn")
    ap.add_argument("--phi", type=float, default=0.5, help="the share the planner assumes")
    ap.add_argument("--truth", action="store_true", help="the planner knows each φ_j")
    args = ap.parse_args(argv)
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    print(
        f"misallocation of an ideal planner that assumes φ = {args.phi} for every channel"
        if not args.truth
        else "misallocation of a planner that knows every curve"
    )
    print(f"{'family':<16}{'worlds':>7}{'median %':>10}{'P90 %':>8}{'max %':>8}")
    for fam in families:
        mis = []
        for i in range(args.worlds_per_family):
            seed = args.seed + 1000 * FAMILIES.index(fam) + i
            world, _ = make_world(fam, seed, f"{fam}-{i:02d}")
            if world.acq_kind != "exp" or world.lag or len(world.channels) < 2:
                continue
            budget = float(world.acq_today.sum() + world.ret_today)
            v_star, a_star = optimum(world, budget, [world.acq_today])
            total = float(a_star.sum())
            planner = world if args.truth else believed(world, args.phi)
            chosen = best_channel_split(planner, budget, total)
            best = best_channel_split(world, budget, total)
            v_best = float(world.values(best[None, :], [budget - total])[0])
            v_chosen = float(world.values(chosen[None, :], [budget - total])[0])
            mis.append(max(v_best, v_star) - v_chosen)
            mis[-1] /= abs(v_star)
        if not mis:
            continue
        m = 100 * np.array(mis)
        print(
            f"{fam:<16}{len(m):>7}{np.median(m):>10.2f}{np.quantile(m, 0.9):>8.2f}{m.max():>8.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
