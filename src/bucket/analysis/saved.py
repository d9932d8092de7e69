"""Saved plans (DESIGN §14): ``plan --save DIR`` keeps the plan with what tracking it needs,
and ``bucket track`` reads it back.

A saved plan is named ``<as_of>_<key>.json``: the ledger's last period and the first 12 hex
digits of a sha256 over the *parsed* inputs (the ledger's numbers by period and channel, the
experiments, the settings with where each came from, and bucket's version). A European export
and the plain one parse to the same numbers, so they hash alike; a cron job saving the same
month twice finds the name taken and writes nothing.

Besides the plan's JSON it keeps the calibrated model at its point estimate, the parameter
draws, the projection at both splits as 80 % prediction intervals (draws plus binomial churn and
Poisson new customers), and the ledger's totals per period (to spot restated periods).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bucket import __version__
from bucket.errors import ConfigError, InputError, Problem
from bucket.model.pools import Pools
from bucket.model.replay import Paths, Schedule, replay
from bucket.model.simulate import Params
from bucket.results import track as tr
from bucket.results.common import SCHEMA_VERSION

if TYPE_CHECKING:
    from bucket.io.ledger import Ledger
    from bucket.model.context import PlanContext
    from bucket.model.uncertainty import Draws
    from bucket.results.plan import PlanResult, Split
    from bucket.settings import PlanSettings

KEY_DIGITS = 12
NAME = re.compile(r"^.+_[0-9a-f]{12}\.json$")  # <as_of>_<key>.json
PATHS = 800  # noisy paths a prediction interval is read from (at least 4 per draw)
TOTALS = (
    "customers_start",
    "new_customers",
    "reactivated_customers",
    "churned_customers",
    "customers_end",
    "acquisition_spend",
    "retention_spend",
    "revenue",
)


def input_key(ledger: Ledger, settings: PlanSettings, sources: dict[str, str]) -> str:
    """sha256 (hex) of the parsed ledger, experiments, settings (with their sources) and the
    version: the same inputs in any spelling give the same key."""
    h = hashlib.sha256()
    frame = ledger.frame
    numeric = sorted(c for c in frame.columns if c not in ("period", "ordinal", "channel", "row"))
    h.update(f"{ledger.frequency}|{','.join(numeric)}\n".encode())
    columns = [frame[c].tolist() for c in ("period", "channel", *numeric)]
    for values in zip(*columns):
        cells = [str(values[0]), str(values[1])]
        cells += [
            "" if isinstance(v, float) and math.isnan(v) else repr(float(v)) for v in values[2:]
        ]
        h.update(("|".join(cells) + "\n").encode())
    if ledger.cohorts:
        h.update(json.dumps(ledger.cohorts, sort_keys=True, default=str).encode())
    if settings.experiments is not None:
        from bucket.analysis.tested import load_tests

        tests = load_tests(ledger, settings)
        h.update(repr((tests.arms, tests.lifts) if tests else None).encode())
    # the backtest changes nothing the plan recommends: plan --save and report --save of one
    # month (whose backtest defaults differ) are the same plan
    plain = settings.model_dump(exclude={"experiments", "backtest"})
    # where a value came from matters only where a set value is not drawn (ρ, μ, φ) or is
    # named as an assumption (margin); --seed 0 and the default seed are the same input
    given = sorted((k, v) for k, v in sources.items() if k in ("rho", "mu", "phi", "margin"))
    h.update(json.dumps([plain, given, __version__], sort_keys=True).encode())
    return h.hexdigest()


def history(ledger: Ledger) -> list[tr.PeriodTotals]:
    """The ledger's totals per period, as the plan saw them."""
    present = [c for c in TOTALS if c in ledger.frame.columns]
    sums = ledger.frame.groupby("period", sort=False)[present].sum(min_count=1)
    return [
        tr.PeriodTotals(
            str(period),
            {c: float(v) for c, v in row.items() if not math.isnan(v)},
        )
        for period, row in sums.iterrows()
    ]


def _spend(split: Split) -> tr.SavedSpend:
    return tr.SavedSpend([c.acquisition_spend for c in split.channels], split.retention_spend)


def saved_model(ctx: PlanContext, result: PlanResult) -> tr.SavedModel:
    """The point estimate a replay needs, with both splits' spend."""
    cal, obs, p = ctx.cal, ctx.obs, ctx.params
    pools = None
    if p.pools is not None:
        pools = tr.SavedPools(
            list(p.pools.names),
            [float(x) for x in p.pools.hazard],
            [float(x) for x in p.pools.arpu],
            [float(x) for x in p.pools.mix],
        )
    effective = obs.series["spend"][:, -1] if len(cal.channels) else np.zeros(0)
    return tr.SavedModel(
        n0=float(obs.n0),
        u=float(p.u),
        m=float(p.m),
        d=float(p.d),
        o=float(p.o),
        q=float(p.q),
        c_min=float(p.c_min),
        c_base=float(p.c_base),
        k=float(p.k),
        retention_per_customer=float(obs.retention_per_customer),
        channels=list(cal.channels),
        kappa=[float(x) for x in cal.kappa],
        saturation=[float(x) for x in cal.saturation],
        carryover=[float(ch.carryover) for ch in obs.channels],
        effective=[float(x) for x in effective],
        current=_spend(result.current),
        recommended=_spend(result.recommendation),
        capacity=None if math.isinf(p.capacity) else float(p.capacity),
        max_growth=None if math.isinf(p.max_growth) else float(p.max_growth),
        pools=pools,
        ages=None
        if p.hazard is None or p.age_mix is None
        else tr.SavedAges([float(x) for x in p.hazard], [float(x) for x in p.age_mix]),
    )


def saved_draws(draws: Draws | None, seed: int) -> tr.SavedDraws | None:
    if draws is None or draws.params is None or draws.kappa is None or draws.sat is None:
        return None
    p = draws.params
    size = draws.kappa.shape[0]

    def each(x) -> list[float]:
        return [float(v) for v in np.broadcast_to(np.asarray(x, float), (size,))]

    return tr.SavedDraws(
        seed=seed,
        u=each(p.u),
        o=each(p.o),
        q=each(p.q),
        c_min=each(p.c_min),
        c_base=each(p.c_base),
        k=each(p.k),
        kappa=draws.kappa.tolist(),
        saturation=draws.sat.tolist(),
    )


def model_params(model: tr.SavedModel) -> tuple[Params, np.ndarray, np.ndarray]:
    """(Params, κ, M) of the saved point estimate."""
    pools = None
    if model.pools is not None:
        pl = model.pools
        pools = Pools(tuple(pl.names), np.array(pl.hazard), np.array(pl.arpu), np.array(pl.mix))
    params = Params(
        n0=model.n0,
        u=model.u,
        m=model.m,
        d=model.d,
        o=model.o,
        q=model.q,
        c_min=model.c_min,
        c_base=model.c_base,
        k=model.k,
        capacity=math.inf if model.capacity is None else model.capacity,
        max_growth=math.inf if model.max_growth is None else model.max_growth,
        hazard=None if model.ages is None else np.array(model.ages.hazard, float),
        age_mix=None if model.ages is None else np.array(model.ages.mix, float),
        pools=pools,
    )
    return params, np.array(model.kappa, float), np.array(model.saturation, float)


def draw_params(saved: tr.SavedPlan) -> tuple[Params, np.ndarray, np.ndarray]:
    """(Params with arrays over the draws, κ and M (draws, J)); the point estimate alone
    (arrays of one) when the plan was made without draws."""
    point, kappa, sat = model_params(saved.model)
    dr = saved.draws
    if dr is None:
        return point, kappa[None, :], sat[None, :]
    params = replace(
        point,
        u=np.array(dr.u),
        o=np.array(dr.o),
        q=np.array(dr.q),
        c_min=np.array(dr.c_min),
        c_base=np.array(dr.c_base),
        k=np.array(dr.k),
    )
    j = len(saved.model.channels)
    return params, np.array(dr.kappa, float).reshape(-1, j), np.array(dr.saturation).reshape(-1, j)


def schedule(model: tr.SavedModel, acquisition: np.ndarray, retention: np.ndarray) -> Schedule:
    """A replay's spend (acquisition (T, J), retention (T,)) from the plan's as-of period on."""
    return Schedule(
        np.asarray(acquisition, float).reshape(len(retention), len(model.channels)),
        np.asarray(retention, float),
        np.array(model.carryover, float),
        np.array(model.effective, float),
    )


def noisy(saved: tr.SavedPlan, plan: Schedule, rng: np.random.Generator) -> Paths:
    """Paths of every parameter draw, each repeated (PATHS in all, at least 4 per draw), with
    binomial churn and Poisson new customers: the sample a prediction interval is read from
    (a plan without draws gives the noise around its point estimate alone)."""
    params, kappa, sat = draw_params(saved)
    copies = max(4, -(-PATHS // kappa.shape[0]))
    size = kappa.shape[0] * copies

    def rep(x):
        a = np.asarray(x, float)
        return np.repeat(a, copies, axis=0) if a.ndim else np.full(size, float(a))

    many = replace(
        params,
        n0=np.full(size, float(params.n0)),
        u=rep(params.u),
        o=rep(params.o),
        q=rep(params.q),
        c_min=rep(params.c_min),
        c_base=rep(params.c_base),
        k=rep(params.k),
    )
    return replay(many, rep(kappa), rep(sat), plan, rng)


def bands(paths: Paths, labels: list[str]) -> list[tr.ForecastRow]:
    """P10, P50, P90 of each series per period."""

    def band(x: np.ndarray) -> tr.Band:
        p10, p50, p90 = np.percentile(x, [10, 50, 90])
        return tr.Band(float(p10), float(p50), float(p90))

    return [
        tr.ForecastRow(
            label,
            t + 1,
            band(paths.customers[..., t + 1]),
            band(paths.new[..., t]),
            band(paths.churned[..., t]),
        )
        for t, label in enumerate(labels)
    ]


def save_plan(
    ledger: Ledger, settings: PlanSettings, sources: dict[str, str]
) -> tuple[PlanResult, str, tr.SavedPlan]:
    """The plan, the file name to save it under, and what to save."""
    from bucket.analysis.plan import plan_detail

    result, ctx, draws = plan_detail(ledger, settings, sources)
    name, saved = to_save(ledger, sources, result, ctx, draws)
    return result, name, saved


def to_save(
    ledger: Ledger, sources: dict[str, str], result: PlanResult, ctx: PlanContext, draws
) -> tuple[str, tr.SavedPlan]:
    """The file name and content of a plan already computed (``plan_detail``'s three)."""
    key = input_key(ledger, ctx.settings, sources)
    model = saved_model(ctx, result)
    labels = [ctx.period_label(t) for t in range(ctx.horizon)]
    partial = tr.SavedPlan(
        key=key,
        as_of=ctx.obs.last,
        as_of_ordinal=int(ctx.obs.last_ordinal),
        frequency=ledger.frequency,  # type: ignore[arg-type]
        bucket_version=__version__,
        model=model,
        forecast=tr.SavedForecast([], []),
        history=history(ledger),
        plan=result,
        draws=saved_draws(draws, ctx.settings.seed),
    )
    rng = np.random.default_rng(int(key[:8], 16))
    fans = []
    for spend in (model.current, model.recommended):
        plan = schedule(
            model,
            np.tile(spend.acquisition, (ctx.horizon, 1)),
            np.full(ctx.horizon, spend.retention),
        )
        fans.append(bands(noisy(partial, plan, rng), labels))
    return f"{ctx.obs.last}_{key[:KEY_DIGITS]}.json", replace(
        partial, forecast=tr.SavedForecast(*fans)
    )


def _bad(path: Path, what: str) -> InputError:
    return InputError(
        Problem(
            "error",
            "bad-saved-plan",
            f"not a saved plan of this version ({what})",
            "delete it (or move it out of the folder) and save the plan again with "
            "`bucket plan LEDGER --save DIR`",
            str(path),
        )
    )


def _inconsistent(saved: tr.SavedPlan) -> str | None:
    """What does not hang together in a saved plan that passed its types, or None."""
    m, j = saved.model, len(saved.model.channels)
    if len(saved.key) != 64 or any(c not in "0123456789abcdef" for c in saved.key):
        return "key: not a sha256"
    if saved.schema_version != SCHEMA_VERSION:
        return f"schema_version {saved.schema_version}: this bucket reads {SCHEMA_VERSION}"
    if not saved.history:
        return "history: empty"
    lists = {"kappa": m.kappa, "saturation": m.saturation, "carryover": m.carryover}
    lists |= {"effective": m.effective, "current.acquisition": m.current.acquisition}
    lists |= {"recommended.acquisition": m.recommended.acquisition}
    for name, values in lists.items():
        if len(values) != j:
            return f"model.{name}: {len(values)} values for {j} channels"
    if m.n0 < 0 or min(m.kappa + m.saturation, default=1.0) <= 0:
        return "model: a negative base or a response curve without cost or size"
    if m.pools is not None and not (
        len(m.pools.names) == len(m.pools.hazard) == len(m.pools.arpu) == len(m.pools.mix) == j + 1
    ):
        return f"model.pools: not one pool per channel plus other ({j + 1})"
    if m.ages is not None and (
        not m.ages.hazard
        or len(m.ages.hazard) != len(m.ages.mix)
        or min(m.ages.hazard + m.ages.mix) < 0
    ):
        return "model.ages: hazard and mix not one non-negative value per age"
    d = saved.draws
    if d is not None:
        size = len(d.u)
        if any(len(x) != size for x in (d.o, d.q, d.c_min, d.c_base, d.k, d.kappa, d.saturation)):
            return "draws: lists of different lengths"
        if any(len(row) != j for row in (*d.kappa, *d.saturation)):
            return f"draws: not {j} channels in every draw"
    return None


def load_saved(path: Path) -> tr.SavedPlan:
    """A saved plan read back and validated; InputError naming the file when it is not one
    (unreadable, not JSON, the wrong shape, or parts that do not hang together)."""
    from pydantic import TypeAdapter, ValidationError

    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM an editor added is no error
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(
            Problem(
                "error",
                "unreadable",
                f"cannot read the saved plan ({reason})",
                "check its permissions, or move it out of the folder",
                str(path),
            )
        ) from None
    try:
        saved = TypeAdapter(tr.SavedPlan).validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "the file"
        raise _bad(path, f"{where}: {first['msg']}") from None
    wrong = _inconsistent(saved)
    if wrong is not None:
        raise _bad(path, wrong)
    return saved


def saved_plans(directory: Path) -> list[tuple[str, tr.SavedPlan]]:
    """Every saved plan in ``directory`` (files named like ``plan --save`` names them), oldest
    as-of period first."""
    if not directory.is_dir():
        raise ConfigError(
            f"{directory}: not a folder of saved plans",
            "give the folder `bucket plan LEDGER --save DIR` writes to",
        )
    try:
        names = sorted(directory.iterdir())
    except OSError as exc:
        raise ConfigError(
            f"{directory}: cannot list the folder ({exc.strerror})", "check its permissions"
        ) from None
    # named as plan --save names them, regular files only (a FIFO would block the read), not
    # the hidden ._ files some systems add; one plan per key, however many copies
    found: dict[str, tuple[str, tr.SavedPlan]] = {}
    for p in names:
        if NAME.match(p.name) and not p.name.startswith(".") and p.is_file():
            saved = load_saved(p)
            found.setdefault(saved.key, (p.name, saved))
    return sorted(found.values(), key=lambda item: (item[1].as_of_ordinal, item[0]))


def saved_files(directory: Path | None) -> list[Path]:
    """The files of ``directory`` named like saved plans (inputs a command must not write)."""
    if directory is None or not directory.is_dir():
        return []
    try:
        return [p for p in directory.iterdir() if NAME.match(p.name)]
    except OSError:
        return []
