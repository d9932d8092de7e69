"""Posteriors on a grid of two parameters: a flat prior on a box (cut to its feasible part) times
a likelihood, evaluated at cell centres, vectorised (DESIGN §12; ``experiments`` uses it).

The first grid covers the prior box. A posterior whose standard deviation spans fewer than
RESOLVED cells on an axis is found again on a grid of ±ZOOM standard deviations on that axis:
the grid's own standard deviation when it spans a cell or more, else the curvature's at the
likelihood's peak (Nelder–Mead from the best cell, central differences), so a sharp posterior
is resolved as finely as a broad one. Quantiles are linear inside a cell; draws pick a cell by
its probability and a uniform point inside it. A parameter is *identified* when its posterior
80 % interval is less than IDENTIFIED of its prior's.

Limit: a long ridge thinner than a cell (a very large test that informs one combination of the
two parameters, e.g. 10⁵ customers in a holdout and a current arm, no stretch) spans many cells
on both axes, so it is not zoomed, and its marginals are summed from cells that sample the ridge
unevenly (μ's median off by about 0.01 at 2·10⁴ customers per arm, 0.06 at 10⁶).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

RESOLVED = 3.0  # a posterior whose sd spans fewer cells is found again on a finer grid ...
ZOOM = 8.0  # ... of ± this many standard deviations around the likelihood's peak
MAX_ROUNDS = 3  # zooms of the grid at most
IDENTIFIED = 0.5  # identified: posterior 80 % width below this share of the prior's
IDENTIFIED = 0.5  # identified: posterior 80 % width below this share of the prior's


@dataclass(frozen=True)
class Marginal:
    """One parameter's posterior median and 80 % interval, the prior's, and whether the
    experiments identify it (IDENTIFIED)."""

    median: float
    p10: float
    p90: float
    prior_median: float
    prior_p10: float
    prior_p90: float
    identified: bool

    @property
    def informed(self) -> bool:
        """The experiments moved this parameter at all: its 80 % interval is 10 % narrower than
        the prior's, or its median moved by 5 % of the prior's interval. A test that tells
        nothing leaves the posterior equal to the prior, and so not informed."""
        width = self.prior_p90 - self.prior_p10
        return (self.p90 - self.p10) < 0.9 * width or abs(
            self.median - self.prior_median
        ) > 0.05 * width


@dataclass(frozen=True)
class GridPosterior:
    """A distribution on a regular grid: cell centres ``x`` (axis 0) and ``y`` (axis 1), cell
    widths ``dx``, ``dy``, and each cell's probability (summing to 1)."""

    x: np.ndarray
    y: np.ndarray
    dx: float
    dy: float
    weights: np.ndarray

    def sample(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` draws: a cell by its probability, then a uniform point inside it."""
        cdf = np.cumsum(self.weights.ravel())
        cell = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right"), cdf.size - 1)
        i, j = np.unravel_index(cell, self.weights.shape)
        jitter = rng.random((2, n)) - 0.5
        return self.x[i] + jitter[0] * self.dx, self.y[j] + jitter[1] * self.dy

    def quantiles(self, axis: int, qs: Sequence[float]) -> np.ndarray:
        """Quantiles of one coordinate's marginal, linear inside a cell."""
        centres, h = (self.x, self.dx) if axis == 0 else (self.y, self.dy)
        pmf = self.weights.sum(axis=1 - axis)
        edges = np.append(centres - h / 2, centres[-1] + h / 2)
        cdf = np.append(0.0, np.cumsum(pmf))
        return np.interp(np.asarray(qs), cdf / cdf[-1], edges)

    def mean(self, values: np.ndarray) -> np.ndarray:
        """The expectation of ``values`` (cells × cells × ...) over the grid."""
        return np.tensordot(self.weights, values, axes=([0, 1], [0, 1]))


Box = tuple[tuple[float, float], tuple[float, float]]
GridFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _centres(lo: float, hi: float, n: int) -> tuple[np.ndarray, float]:
    h = (hi - lo) / n
    return lo + h * (np.arange(n) + 0.5), h


def _grid(box: Box, shape: tuple[int, int], feasible: GridFn):
    """Cells over ``box`` (uniform weights) and which are feasible."""
    x, dx = _centres(*box[0], shape[0])
    y, dy = _centres(*box[1], shape[1])
    ok = np.broadcast_to(feasible(x[:, None], y[None, :]), shape)
    return GridPosterior(x, y, dx, dy, np.ones(shape)), ok


def _evaluate(grid: GridPosterior, ok: np.ndarray, loglik: GridFn) -> GridPosterior:
    with np.errstate(all="ignore"):
        lp = np.where(ok, loglik(grid.x[:, None], grid.y[None, :]), -np.inf)
    top = lp.max()
    if not np.isfinite(top):
        raise ValueError("the experiments are impossible under every plausible parameter")
    w = np.exp(lp - top)
    return GridPosterior(grid.x, grid.y, grid.dx, grid.dy, w / w.sum())


def _moments(post: GridPosterior) -> tuple[np.ndarray, np.ndarray]:
    """The posterior's mean and standard deviation on each axis."""
    mean, sd = [], []
    for axis, c in enumerate((post.x, post.y)):
        pmf = post.weights.sum(axis=1 - axis)
        mean.append(float(pmf @ c))
        sd.append(math.sqrt(max(float(pmf @ c**2) - mean[-1] ** 2, 0.0)))
    return np.array(mean), np.array(sd)


def _peak(loglik: GridFn, feasible: GridFn, post: GridPosterior) -> tuple[np.ndarray, np.ndarray]:
    """The maximum of the log-likelihood near the best cell (Nelder–Mead, in cells), and its
    standard deviations there from the curvature (NaN where the curvature says nothing)."""
    from scipy.optimize import minimize

    i, j = np.unravel_index(post.weights.argmax(), post.weights.shape)
    start, steps = np.array([post.x[i], post.y[j]]), np.array([post.dx, post.dy])

    def f(u: np.ndarray) -> float:
        x, y = (np.array([[v]]) for v in start + u * steps)
        with np.errstate(all="ignore"):
            v = float(loglik(x, y)[0, 0]) if feasible(x, y).all() else -np.inf
        return -v if np.isfinite(v) else 1e300

    simplex = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    opts = {"xatol": 1e-4, "fatol": 1e-4, "maxiter": 2000, "initial_simplex": simplex}
    u = minimize(f, np.zeros(2), method="Nelder-Mead", options=opts).x
    e = 1e-3  # central differences, in cells
    hess = np.empty((2, 2))
    for a in range(2):
        for b in range(2):
            da, db = np.eye(2)[a] * e, np.eye(2)[b] * e
            hess[a, b] = (f(u + da + db) - f(u + da - db) - f(u - da + db) + f(u - da - db)) / (
                4 * e * e
            )
    with np.errstate(all="ignore"):  # a flat axis has no curvature: the other's conditional sd
        d = np.diag(hess)
        pd = bool(np.all(np.linalg.eigvalsh(hess) > 0))
        var = np.diag(np.linalg.inv(hess)) if pd else np.where(d > 0, 1.0 / d, np.nan)
    return start + u * steps, np.sqrt(var) * steps


def grid_posterior(
    loglik: GridFn, feasible: GridFn, box: Box, shape: tuple[int, int] = (181, 121)
) -> tuple[GridPosterior, GridPosterior]:
    """(posterior, prior): a flat prior on the ``feasible`` part of ``box`` times
    exp(``loglik``); both functions take the cell centres as broadcasting arrays (x a column,
    y a row). The prior's grid covers the feasible part's bounding box. A posterior whose
    standard deviation spans fewer than RESOLVED cells is found again on a grid of ±ZOOM
    standard deviations: the grid's own when it spans a cell or more, else the curvature's at
    the likelihood's peak (``_peak``)."""
    grid, ok = _grid(box, shape, feasible)
    if not ok.any():
        raise ValueError("no parameter in the plausible ranges is feasible")
    rows, cols = np.flatnonzero(ok.any(axis=1)), np.flatnonzero(ok.any(axis=0))
    box = (
        (grid.x[rows[0]] - grid.dx / 2, grid.x[rows[-1]] + grid.dx / 2),
        (grid.y[cols[0]] - grid.dy / 2, grid.y[cols[-1]] + grid.dy / 2),
    )
    grid, ok = _grid(box, shape, feasible)
    prior = GridPosterior(grid.x, grid.y, grid.dx, grid.dy, ok / ok.sum())
    post = _evaluate(grid, ok, loglik)
    for _ in range(MAX_ROUNDS):
        centre, sd = _moments(post)
        cell = np.array([post.dx, post.dy])
        if np.all(sd >= RESOLVED * cell):
            break
        fine = sd < cell  # the grid cannot tell the spread there: the curvature at the peak can
        if fine.any():
            peak, curved = _peak(loglik, feasible, post)
            curved = np.where(np.isfinite(curved) & (curved > 1e-6 * cell), curved, 2.0 * cell)
            centre, sd = np.where(fine, peak, centre), np.where(fine, curved, sd)
        now = ((post.x[0], post.x[-1]), (post.y[0], post.y[-1]))
        new = [
            (max(b[0], m - ZOOM * s), min(b[1], m + ZOOM * s))
            if s < RESOLVED * h
            else (c[0] - h / 2, c[1] + h / 2)  # resolved on this axis: as it is
            for m, s, h, b, c in zip(centre, sd, cell, box, now)
        ]
        grid, ok = _grid((new[0], new[1]), shape, feasible)
        if not ok.any():
            break
        post = _evaluate(grid, ok, loglik)
    return post, prior


def marginal(post: GridPosterior, prior: GridPosterior, axis: int, transform=float) -> Marginal:
    """One axis's median and 80 % interval, the prior's, and whether it is identified (in the
    grid's coordinate; ``transform`` maps the reported values, e.g. ``math.exp`` for ln k)."""
    q = post.quantiles(axis, (0.5, 0.1, 0.9))
    p = prior.quantiles(axis, (0.5, 0.1, 0.9))
    identified = bool(q[2] - q[1] < IDENTIFIED * (p[2] - p[1]))
    med, p10, p90, prior_med, prior_p10, prior_p90 = (transform(v) for v in (*q, *p))
    return Marginal(med, p10, p90, prior_med, prior_p10, prior_p90, identified)
