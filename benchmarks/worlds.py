"""True worlds for ``benchmarks/decisions.py``: an independent simulator of a customer base.

Nothing here imports bucket's model. A world is a set of customer *pools* (one per paid
channel, plus one for organic customers), each split into latent *segments* (one, or two for
the ``tenure`` family: a churn-prone and a loyal one). Every month (t = 0, 1, ...):

* retention spend per customer r = R / N (N = all customers at the start of the month) sets a
  churn curve per pool, c_p(r) = c_min_p + (c_base_p − c_min_p)·shape(r/k), shape = exp(−x)
  (``exp``) or (1 + x)^−a (``tail``); segment s churns at min(1, g_s·c_p(r));
* each channel's paid new customers respond to its *effective* spend (today's spend, or
  (1 − lag)·A_t + lag·A_{t−1} with a one-month carry-over) through M·(1 − exp(−A/(κM)))
  (``exp``) or M·A^h/(A^h + H^h) (``hill``), times a seasonal factor 1 + amp·sin(2π(t+φ)/12);
  new customers of a channel join its pool, split across segments by ``seg_new``;
* organic inflow o_p and referral/reactivation q_p·N_p join pool p (segments by ``seg_new``);
* N_{t+1} = N_t·(1 − churn_t) + inflow_t, per pool and segment.

``history`` draws a noisy past from these dynamics (Poisson inflow, binomial churn) and returns
ledger rows; ``values`` evaluates policies (per-channel spend, retention spend) from the state at
the end of the history with expected values (no noise). See decisions.py for the objective.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

ANNUAL_DISCOUNT = 0.10
D_MONTH = (1.0 + ANNUAL_DISCOUNT) ** (1.0 / 12.0) - 1.0
HORIZON = 12
TERMINAL_MONTHS = 240
FAMILIES = ("own", "hill", "tail", "tenure", "mixed-channels", "season", "lag", "channel-churn")


@dataclass
class World:
    name: str
    family: str
    u: float  # revenue per customer per month (margin 1)
    channels: list[str]
    acq_kind: str  # "exp" | "hill"
    M: np.ndarray  # (J,) saturation
    kappa: np.ndarray  # (J,) exp: CAC at zero spend
    H: np.ndarray  # (J,) hill: half-saturation spend
    h: np.ndarray  # (J,) hill: exponent
    c_base: np.ndarray  # (P,) per pool, P = J + 1 (last pool: organic)
    c_min: np.ndarray  # (P,)
    ret_kind: str  # "exp" | "tail"
    k: float
    a: float
    seg_mult: np.ndarray  # (S,) churn multipliers of the segments
    seg_new: np.ndarray  # (S,) how new customers split across segments
    organic: np.ndarray  # (P,) organic inflow per month into each pool
    q: np.ndarray  # (P,) referral + reactivation per customer per month into each pool
    lag: float = 0.0
    season_amp: float = 0.0
    season_phase: float = 0.0
    # history drawing
    months: int = 24
    acq_today: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (J,) mean spend
    acq_cv: float = 0.2
    ret_today: float = 0.0  # mean retention spend per month
    ret_cv: float = 0.0
    n_init: np.ndarray = field(default_factory=lambda: np.zeros((0, 1)))  # (P, S)
    info: dict = field(default_factory=dict)  # drawn parameters, for the record
    # state at the end of the history (set by history(), or by hand for the example)
    n_end: np.ndarray | None = None  # (P, S)
    a_last: np.ndarray | None = None  # (J,)
    t_end: int = 0  # month index of the first planned month (season)

    # -- responses -------------------------------------------------------------------------
    def paid(self, eff: np.ndarray, t: int) -> np.ndarray:
        """Expected paid new customers per channel for effective spend ``eff`` (..., J)."""
        eff = np.maximum(eff, 0.0)
        if self.acq_kind == "exp":
            out = self.M * -np.expm1(-eff / (self.kappa * self.M))
        else:
            x = (eff / self.H) ** self.h
            out = self.M * x / (1.0 + x)
        if self.season_amp:
            out = out * (
                1.0 + self.season_amp * math.sin(2 * math.pi * (t + self.season_phase) / 12)
            )
        return out

    def churn(self, r: np.ndarray) -> np.ndarray:
        """Churn per (pool, segment) for retention spend per customer ``r`` (K,): (K, P, S)."""
        x = np.maximum(r, 0.0)[:, None] / self.k
        shape = np.exp(-x) if self.ret_kind == "exp" else (1.0 + x) ** -self.a
        curve = self.c_min[None, :] + (self.c_base - self.c_min)[None, :] * shape
        return np.minimum(1.0, curve[:, :, None] * self.seg_mult[None, None, :])

    # -- the evaluation --------------------------------------------------------------------
    def values(self, acq: np.ndarray, ret: np.ndarray, horizon: int = HORIZON) -> np.ndarray:
        """Customer equity of constant policies: ``acq`` (K, J) spend per channel per month,
        ``ret`` (K,) retention spend per month, from the end of the history, expected values.

        value = Σ_{t<H} (u·N_t − ΣA − R)/(1+d)^t + Σ_{τ<240} Σ_{p,s} N_{p,s,H+τ}(u − r_H)/(1+d)^{H+τ}
        where after H acquisition, organic and referral inflow stop and retention spend per
        customer stays r_H = R/N_H: each (pool, segment) then decays at its constant churn,
        so the 240 months are a truncated geometric sum (exactly the simulated sum)."""
        acq = np.atleast_2d(np.asarray(acq, float))
        ret = np.atleast_1d(np.asarray(ret, float))
        K = acq.shape[0]
        n = np.broadcast_to(self.n_end, (K, *self.n_end.shape)).copy()
        prev = np.broadcast_to(self.a_last, acq.shape)
        spend = acq.sum(axis=1) + ret
        value = np.zeros(K)
        disc = 1.0
        for t in range(horizon):
            tot = n.sum(axis=(1, 2))
            value += (self.u * tot - spend) * disc
            r = np.where(tot > 0, ret / np.where(tot > 0, tot, 1.0), 0.0)
            c = self.churn(r)
            eff = (1.0 - self.lag) * acq + self.lag * prev
            paid = self.paid(eff, self.t_end + t)  # (K, J)
            inflow = np.zeros((K, n.shape[1]))
            inflow[:, : paid.shape[1]] = paid
            inflow += self.organic[None, :] + self.q[None, :] * n.sum(axis=2)
            n = n * (1.0 - c) + inflow[:, :, None] * self.seg_new[None, None, :]
            prev = acq
            disc /= 1.0 + D_MONTH
        tot = n.sum(axis=(1, 2))
        r_h = np.where(tot > 0, ret / np.where(tot > 0, tot, 1.0), 0.0)
        c = self.churn(r_h)
        x = (1.0 - c) / (1.0 + D_MONTH)
        geo = np.where(x < 1.0, (1.0 - x**TERMINAL_MONTHS) / np.maximum(1.0 - x, 1e-300), 240.0)
        terminal = (n * geo).sum(axis=(1, 2)) * (self.u - r_h) * disc
        return value + terminal

    # -- the history -----------------------------------------------------------------------
    def history(self, rng: np.random.Generator) -> list[dict]:
        """Draw the noisy past and return ledger rows; sets n_end, a_last, t_end."""
        J = len(self.channels)
        n = self.n_init.astype(float).round().astype(np.int64)
        sig_a = math.sqrt(math.log(1.0 + self.acq_cv**2))
        sig_r = math.sqrt(math.log(1.0 + self.ret_cv**2)) if self.ret_cv > 0 else 0.0
        prev = self.acq_today.copy()
        rows = []
        for t in range(self.months):
            period = f"{2023 + t // 12}-{t % 12 + 1:02d}"
            acq = np.round(self.acq_today * rng.lognormal(-(sig_a**2) / 2, sig_a, J), -1)
            ret = self.ret_today * (rng.lognormal(-(sig_r**2) / 2, sig_r) if sig_r else 1.0)
            start = n.sum(axis=1)  # (P,)
            tot = start.sum()
            r = ret / tot if tot > 0 else 0.0
            c = self.churn(np.array([r]))[0]  # (P, S)
            churned = rng.binomial(n, c)
            eff = (1.0 - self.lag) * acq + self.lag * prev
            paid = rng.poisson(self.paid(eff, t))
            organic = rng.poisson(self.organic + self.q * start)
            inflow = organic.copy()
            inflow[:J] += paid
            if len(self.seg_new) == 1:
                new_seg = inflow[:, None]
            else:
                first = rng.binomial(inflow, self.seg_new[0])
                new_seg = np.stack([first, inflow - first], axis=1)
            n = n - churned + new_seg
            end = n.sum(axis=1)
            names = [*self.channels, "organic"]
            weights = start / tot if tot > 0 else np.full(len(start), 1.0 / len(start))
            for p, name in enumerate(names):
                if p == J and self.organic[p] == 0 and start[p] == 0 and end[p] == 0:
                    continue
                revenue = self.u * (start[p] + end[p]) / 2 * rng.lognormal(0.0, 0.02)
                rows.append(
                    dict(
                        period=period,
                        channel=name,
                        acquisition_spend=f"{acq[p]:.2f}" if p < J else "0.00",
                        retention_spend=f"{ret * weights[p]:.2f}",
                        new_customers=int(inflow[p]),
                        organic_customers=int(organic[p]),
                        customers_start=int(start[p]),
                        churned_customers=int(churned[p].sum()),
                        customers_end=int(end[p]),
                        revenue=f"{revenue:.2f}",
                    )
                )
            prev = acq
        self.n_end = n.astype(float)
        self.a_last = prev.astype(float)
        self.t_end = self.months
        return rows


def experiments(
    world: World, rng: np.random.Generator, share: float = 0.05, months: int = 3
) -> str:
    """An experiments file (bucket's DESIGN §12 columns) of what the business tested at the end
    of its history, drawn from its truth:

    * a retention test over the last ``months``: a holdout (no retention spend), a current arm
      (today's spend per customer) and a stretch arm (four times it; 5 % of revenue per customer
      when today's is nil), each ``share`` of the base at the end of the history, drawn across
      pools and segments in proportion, each cell churning as the truth says;
    * per channel, a one-month lift test raising its spend by half in the last month, against
      a forecast of the month without it: the true lift (with the world's carry-over and
      season) plus noise, se = √(paid with + paid without), as two Poisson counts."""
    n = world.n_end
    total = n.sum()
    r_today = world.ret_today / total if total > 0 else 0.0
    stretch = 4.0 * r_today if r_today > 0 else 0.05 * world.u
    first, last = world.months - months, world.months - 1
    label = [f"{2023 + t // 12}-{t % 12 + 1:02d}" for t in (first, last)]
    lines = [
        "test,kind,arm,start,end,customers,churned,spend_per_customer,channel,spend,"
        "incremental_spend,incremental_customers,se"
    ]
    for arm, r in (("holdout", 0.0), ("current", r_today), ("stretch", stretch)):
        size = np.round(share * n).astype(np.int64)  # (P, S)
        c = world.churn(np.array([r]))[0]
        churned = rng.binomial(size, 1.0 - (1.0 - c) ** months).sum()
        lines.append(
            f"retention,retention,{arm},{label[0]},{label[1]},{size.sum()},{churned},{r:.6g},,,,,"
        )
    a = world.acq_today
    base = world.paid(a, last)
    boosted = world.paid((1.0 - world.lag) * 1.5 * a + world.lag * a, last)
    for j, ch in enumerate(world.channels):
        se = math.sqrt(base[j] + boosted[j])
        lift = boosted[j] - base[j] + rng.normal(0.0, se)
        lines.append(
            f"lift-{ch},acquisition,,{label[1]},{label[1]},,,,{ch},{a[j]:.2f},{a[j] / 2:.2f},"
            f"{lift:.3f},{se:.4g}"
        )
    return "\n".join(lines) + "\n"


COLUMNS = [
    "period",
    "channel",
    "acquisition_spend",
    "retention_spend",
    "new_customers",
    "organic_customers",
    "customers_start",
    "churned_customers",
    "customers_end",
    "revenue",
]


def write_ledger(rows: list[dict], path) -> None:
    import csv

    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _loguniform(rng, lo, hi):
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def make_world(family: str, seed: int, name: str) -> tuple[World, list[dict]]:
    """A world and its ledger rows, reproducible from (family, seed)."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        w = _try_draw(family, rng, name)
        if w is not None:
            rows = w.history(rng)
            return w, rows
    raise RuntimeError(f"could not draw a plausible {family} world from seed {seed}")


def _try_draw(family: str, rng: np.random.Generator, name: str) -> World | None:
    J = int(rng.integers(2 if family == "channel-churn" else 1, 5))
    P = J + 1
    months = int(rng.integers(12, 37))
    u = _loguniform(rng, 20, 200)
    c_base = float(rng.uniform(0.02, 0.10))
    mu = float(rng.uniform(0.1, 0.9))
    c_min = (1.0 - mu) * c_base
    delta = c_base - c_min
    ret_kind = "tail" if family == "tail" else "exp"
    a = float(rng.uniform(0.5, 2.0)) if ret_kind == "tail" else 1.0
    x0 = float(rng.uniform(0.2, 3.0 if ret_kind == "tail" else 2.0))  # r0 / k
    shape0 = math.exp(-x0) if ret_kind == "exp" else (1.0 + x0) ** -a
    c0 = c_min + delta * shape0
    rho = _loguniform(rng, 2, 30)
    n_star = _loguniform(rng, 2000, 40000)
    omega = float(rng.uniform(0.0, 0.3))  # organic share of inflow
    inflow = c0 * n_star
    paid = (1.0 - omega) * inflow * rng.dirichlet(np.full(J, 2.0))
    phi = rng.uniform(0.2, 0.8, J)
    ltv_to_cac = np.exp(rng.uniform(math.log(1.5), math.log(6.0), J))
    cac = (u / c0) / ltv_to_cac
    acq = cac * paid
    M = paid / phi
    acq_kind = "hill" if family == "hill" else "exp"
    kappa = np.zeros(J)
    Hs = np.zeros(J)
    hs = np.ones(J)
    if acq_kind == "exp":
        kappa = acq / (-M * np.log1p(-phi))
        slope = np.exp(-acq / (kappa * M)) / kappa  # f'(A)
    else:
        hs = rng.uniform(0.8, 2.0, J)
        Hs = acq * ((1.0 - phi) / phi) ** (1.0 / hs)
        z = (acq / Hs) ** hs
        slope = M * hs * z / acq / (1.0 + z) ** 2
    mcac = 1.0 / float(np.sum(acq / acq.sum() * slope))
    if ret_kind == "exp":
        k = delta * math.exp(-x0) * mcac / rho
    else:
        k = delta * a * (1.0 + x0) ** (-a - 1.0) * mcac / rho
    r0 = x0 * k
    # pools: churn level per pool (mixed-channels: each channel its own c_base)
    mult = np.ones(P)
    if family == "mixed-channels":
        mult[:J] = np.exp(rng.uniform(math.log(0.4), math.log(2.5), J))
    elif family == "channel-churn":  # channels within ±10 % to ±50 % of each other's churn
        spread = float(rng.uniform(0.1, 0.5))
        mult[:J] = 1.0 + spread * rng.uniform(-1.0, 1.0, J)
    cb = np.minimum(0.5, c_base * mult)
    cm = (1.0 - mu) * cb
    # segments (tenure: churn-prone and loyal; new customers mostly churn-prone)
    if family == "tenure":
        pi = float(rng.uniform(0.6, 0.9))
        ratio = float(rng.uniform(3.0, 10.0))
        h_l = pi / ratio + 1.0 - pi
        seg_mult = np.array([ratio * h_l, h_l])
        seg_new = np.array([pi, 1.0 - pi])
    else:
        pi, ratio = 1.0, 1.0
        seg_mult = np.ones(1)
        seg_new = np.ones(1)
    organic = np.zeros(P)
    organic[J] = omega * inflow
    pool_in = np.append(paid, organic[J])
    c_pool = cm + (cb - cm) * shape0  # (P,)
    stock = pool_in[:, None] * seg_new[None, :] / (c_pool[:, None] * seg_mult[None, :])
    growth = float(rng.uniform(0.75, 1.3))
    n_init = stock / growth  # start below (growth > 1) or above the steady state
    ret_today = r0 * float(n_init.sum())
    s0 = acq.sum() / (acq.sum() + ret_today)
    if not (0.3 <= s0 <= 0.97) or r0 > 0.5 * u or not np.all(np.isfinite(M)):
        return None
    acq_cv = float(rng.uniform(0.1, 0.4))
    ret_cv = 0.0 if rng.random() < 0.5 else float(rng.uniform(0.1, 0.4))
    w = World(
        name=name,
        family=family,
        u=u,
        channels=[f"ch{j + 1}" for j in range(J)],
        acq_kind=acq_kind,
        M=M,
        kappa=kappa,
        H=Hs,
        h=hs,
        c_base=cb,
        c_min=cm,
        ret_kind=ret_kind,
        k=k,
        a=a,
        seg_mult=seg_mult,
        seg_new=seg_new,
        organic=organic,
        q=np.zeros(P),
        lag=0.5 if family == "lag" else 0.0,
        season_amp=0.2 if family == "season" else 0.0,
        season_phase=float(rng.uniform(0, 12)) if family == "season" else 0.0,
        months=months,
        acq_today=acq,
        acq_cv=acq_cv,
        ret_today=ret_today,
        ret_cv=ret_cv,
        n_init=n_init,
        info=dict(
            J=J,
            months=months,
            u=round(u, 2),
            c_base=round(c_base, 4),
            mu=round(mu, 3),
            mu_obs=round(1.0 - c_min / c0, 3),  # bucket's μ: the share of today's churn removable
            rho=round(rho, 2),
            x0=round(x0, 3),
            phi=";".join(f"{p:.2f}" for p in phi),
            a=round(a, 2),
            h=";".join(f"{p:.2f}" for p in hs) if acq_kind == "hill" else "",
            pi=round(pi, 2),
            seg_ratio=round(ratio, 2),
            mult=";".join(f"{p:.2f}" for p in mult[:J]),
            organic_share=round(omega, 3),
            growth=round(growth, 3),
            s0_true=round(float(s0), 3),
            acq_cv=round(acq_cv, 3),
            ret_cv=round(ret_cv, 3),
        ),
    )
    return w


def example_world(csv_path) -> World:
    """The truth behind ``bucket example``'s saas_monthly.csv (bucket.analysis.sample.TRUTH),
    reproduced in this simulator: each channel is a pool with its own churn curve
    c_min + (c_base − c_min)·exp(−r/K_RETENTION) on retention spend per customer, paid
    M·(1 − exp(−A/(κM))), organic inflow into the channel's pool, referrals (rate ``referral``)
    and reactivations (0.004 per customer) in proportion to the pool. Seasonality in the
    sample acts on the *spend* of the history, not on the response, so the evaluation has
    none. The state is the last month's customers_end per channel."""
    import csv

    from bucket.analysis.sample import ARPU, K_RETENTION, TRUTH

    channels = sorted(TRUTH)
    last: dict[str, tuple[str, int]] = {}
    with open(csv_path, newline="") as fh:
        for row in csv.DictReader(fh):
            ch = row["channel"]
            if ch not in last or row["period"] > last[ch][0]:
                last[ch] = (row["period"], int(row["customers_end"]))
    J = len(channels)
    t = [TRUTH[c] for c in channels]
    n_end = np.array([[float(last[c][1])] for c in channels] + [[0.0]])
    return World(
        name="example",
        family="example",
        u=float(ARPU),
        channels=channels,
        acq_kind="exp",
        M=np.array([x["M"] for x in t], float),
        kappa=np.array([x["kappa"] for x in t], float),
        H=np.zeros(J),
        h=np.ones(J),
        c_base=np.array([x["c_base"] for x in t] + [0.05], float),
        c_min=np.array([x["c_min"] for x in t] + [0.025], float),
        ret_kind="exp",
        k=float(K_RETENTION),
        a=1.0,
        seg_mult=np.ones(1),
        seg_new=np.ones(1),
        organic=np.array([x["organic"] for x in t] + [0.0], float),
        q=np.array([x["referral"] + 0.004 for x in t] + [0.0], float),
        n_end=n_end,
        a_last=np.zeros(J),
        t_end=24,
    )
