"""A small SVG plotting kit for the report's charts (`render/charts.py`).

A chart is written as SVG text directly: axes with round ticks, polylines, bands, markers, bars,
text and a legend above the plot, in a viewBox ``WIDTH`` units wide that the page scales to its
column. No plotting library: importing matplotlib (0.55 s) and drawing the six figures (1.2 s)
took 1.7 s of a 4.6 s report; this takes 30 ms, and the same numbers give the same page.

Readable on a phone: the page scales a chart to its column, ``WIDTH`` units to about 366 CSS px
on a 390 px phone, so every text is at least ``FONT`` units high (10.7 px there) and a chart
holds no more ticks or legend entries in a row than fit that width.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 480  # viewBox units: about 1:1 in a desktop column, ×0.76 on a 390 px phone
FONT = 14  # the smallest text, in viewBox units
PAD = 6
ROW = 20  # one line of text
INK, MUTED, TICK, GRID_C = "#1f2933", "#7b8794", "#52606d", "#e4e7eb"

_NARROW, _SEMI, _WIDE = set("ijl.,:;'!|"), set("ftrI()[]- /"), set("mwMW%@—")


def text_width(text: str, size: float = FONT) -> float:
    """A generous estimate of a string's width in a sans-serif font (no font metrics here): wide
    enough for DejaVu Sans, the widest of the usual defaults."""
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.3
        elif ch in _SEMI:
            em += 0.38
        elif ch in _WIDE:
            em += 0.92
        else:
            em += 0.7 if ch.isupper() else 0.62
    return em * size


def wrap(text: str, width: float, size: float = FONT) -> list[str]:
    """The words of ``text`` in lines no wider than ``width`` (a longer word keeps its line)."""
    lines: list[str] = []
    cur = ""
    for word in text.split():
        trial = f"{cur} {word}" if cur else word
        if cur and text_width(trial, size) > width:
            lines.append(cur)
            cur = word
        else:
            cur = trial
    return [*lines, cur] if cur else lines


def num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def number_format(ticks: Sequence[float]) -> Callable[[float], str]:
    """Labels that tell every tick apart: thousands separated below 100,000, then k or M, with
    as few decimals as the ticks need."""
    top = max((abs(t) for t in ticks), default=0.0)
    unit, suffix = (1e6, " M") if top >= 1e6 else (1e3, " k") if top >= 1e5 else (1.0, "")
    decimals = next(
        (d for d in range(4) if all(abs(round(t / unit, d) - t / unit) < 1e-9 for t in ticks)), 4
    )
    return lambda v: "0" if v == 0 else f"{v / unit:,.{decimals}f}{suffix}"


def percent(v: float) -> str:
    return f"{100 * v + 0.0:.0f} %"


@dataclass(frozen=True)
class Axis:
    lo: float
    hi: float
    ticks: list[tuple[float, str]]
    label: str = ""
    log: bool = False

    def frac(self, v: float) -> float:
        """Where ``v`` sits along the axis: 0 at ``lo``, 1 at ``hi``."""
        if self.log:
            return math.log(v / self.lo) / math.log(self.hi / self.lo)
        return (v - self.lo) / (self.hi - self.lo)


def nice_step(span: float, most: int) -> float:
    raw = span / most
    mag = 10.0 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))


def linear(
    lo: float,
    hi: float,
    label: str = "",
    fmt: Callable[[float], str] | None = None,
    most: int = 5,
) -> Axis:
    """An axis over [lo, hi] with at most ``most`` steps of round ticks: it ends on the next
    tick out, or 5 % of the span beyond the data when that tick is more than 10 % away."""
    if not hi > lo:
        lo, hi = lo - (abs(lo) or 1.0) / 2, hi + (abs(hi) or 1.0) / 2
    span = hi - lo
    step = nice_step(span, most)
    a, b = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    a = a if lo - a <= 0.1 * span else lo - 0.05 * span
    b = b if b - hi <= 0.1 * span else hi + 0.05 * span
    first = math.ceil(a / step - 1e-9)
    ticks = [(first + i) * step for i in range(int((b - first * step) / step + 1e-9) + 1)]
    f = fmt or number_format(ticks)
    return Axis(a, b, [(t, f(t)) for t in ticks], label)


def log_axis(lo: float, hi: float, label: str = "") -> Axis:
    """A log axis over [lo, hi], ticks at 1, 2 and 5 (or fewer) of each power of ten."""
    powers = range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
    ticks: list[float] = []
    for subs in ((1, 2, 5), (1, 3), (1,)):
        ticks = [m * 10.0**k for k in powers for m in subs if lo <= m * 10.0**k <= hi]
        if len(ticks) <= 7:
            break
    if len(ticks) < 2:  # within one decade: round steps instead
        ticks = [t for t, _ in linear(lo, hi, most=4).ticks if lo <= t <= hi]
    return Axis(lo, hi, [(t, f"{t:,.0f}" if t >= 1 else f"{t:g}") for t in ticks], label, True)


def categories(labels: Sequence[str], label: str = "", margin: float = 0.0) -> Axis:
    """Positions 0, 1, ... with a label on every k-th, k as small as the labels fit."""
    room = WIDTH - 90
    fit = max(1, int(room // (max((text_width(t) for t in labels), default=1) + 16)))
    step = -(-len(labels) // fit)
    ticks = [(float(i), labels[i]) for i in range(0, len(labels), step)]
    return Axis(-margin, max(len(labels) - 1, 1) + margin, ticks, label)


@dataclass(frozen=True)
class Key:
    """A legend entry: a line (dashed, with a marker), a filled patch, or a marker alone."""

    label: str
    color: str
    dash: str | None = None
    marker: str | None = None  # "circle" or "diamond"
    patch: bool = False
    line: bool = True
    opacity: float = 1.0


def marker(x: float, y: float, shape: str | None, color: str, size: float = 5.0) -> str:
    if shape == "diamond":
        s = size * 1.25
        pts = f"{num(x)},{num(y - s)} {num(x + s)},{num(y)} {num(x)},{num(y + s)} {num(x - s)},{num(y)}"
        return f'<polygon points="{pts}" fill="{color}"/>'
    return f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(size)}" fill="{color}"/>'


def text(x: float, y: float, s: str, anchor: str = "start", **attrs: object) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{num(x)}" y="{num(y)}" text-anchor="{anchor}"{extra}>{escape(s)}</text>'


def _swatch(k: Key, x: float, cy: float) -> str:
    if k.patch:
        return (
            f'<rect x="{num(x)}" y="{num(cy - 6)}" width="24" height="12" fill="{k.color}" '
            f'fill-opacity="{k.opacity}"/>'
        )
    out = ""
    if k.line:
        dash = f' stroke-dasharray="{k.dash}"' if k.dash else ""
        out = (
            f'<line x1="{num(x)}" y1="{num(cy)}" x2="{num(x + 24)}" y2="{num(cy)}" '
            f'stroke="{k.color}" stroke-width="2"{dash}/>'
        )
    return out + (marker(x + 12, cy, k.marker, k.color, 4.5) if k.marker else "")


class Panel:
    """One plot: its legend, y label and plot area from ``top`` down, in viewBox units.

    Marks in data coordinates go to the clipped layer (``line``, ``band``, ``span``, ``vline``)
    or above it unclipped (``point``, ``label``, ``raw``); ``svg()`` writes the axes under them.
    """

    def __init__(
        self,
        name: str,
        x: Axis,
        y: Axis,
        keys: Sequence[Key] = (),
        *,
        height: float = 200.0,
        top: float = 0.0,
        title: str = "",
        left: float | None = None,
    ) -> None:
        self.name, self.x, self.y = name, x, y
        widest = max((text_width(t) for _, t in y.ticks), default=0.0)
        self.x0 = PAD + widest + 8 if left is None else left
        last = x.ticks[-1][1] if x.ticks and x.frac(x.ticks[-1][0]) > 0.98 else ""
        self.x1 = WIDTH - PAD - max(text_width(last) / 2, 4.0)
        self.head: list[str] = []
        cursor = top + PAD
        if title:
            self.head.append(text(PAD, cursor + FONT, title, font_weight="600"))
            cursor += ROW + 2
        cursor = self._legend(keys, cursor)
        for line in wrap(y.label, WIDTH - 2 * PAD) if y.label else []:
            self.head.append(text(PAD, cursor + FONT, line, fill=INK))
            cursor += ROW
        self.y0 = cursor + 12
        self.y1 = self.y0 + height
        self.xlabel = wrap(x.label, self.x1 - self.x0) if x.label else []
        self.bottom = self.y1 + 26 + ROW * len(self.xlabel) + PAD
        self.clipped: list[str] = []
        self.free: list[str] = []

    def _legend(self, keys: Sequence[Key], y: float) -> float:
        x = float(PAD)
        for k in keys:
            w = 30 + text_width(k.label)
            if x > PAD and x + w > WIDTH - PAD:
                x, y = float(PAD), y + ROW
            self.head.append(_swatch(k, x, y + ROW / 2))
            self.head.append(text(x + 30, y + 15, k.label, fill=INK))
            x += w + 16
        return y + ROW + 2 if keys else y

    def px(self, v: float) -> float:
        return self.x0 + self.x.frac(v) * (self.x1 - self.x0)

    def py(self, v: float) -> float:
        return self.y1 - self.y.frac(v) * (self.y1 - self.y0)

    def _pts(self, xs: Sequence[float], ys: Sequence[float]) -> str:
        return " ".join(f"{num(self.px(a))},{num(self.py(b))}" for a, b in zip(xs, ys))

    def line(
        self,
        xs: Sequence[float],
        ys: Sequence[float | None],
        color: str,
        *,
        width: float = 2.0,
        dash: str | None = None,
        opacity: float | None = None,
        dots: float | None = None,
    ) -> None:
        """A polyline through the finite points, a gap at each missing one; ``dots``: a circle
        of that radius on each point."""
        style = f' stroke-dasharray="{dash}"' if dash else ""
        style += f' stroke-opacity="{opacity}"' if opacity is not None else ""
        runs: list[list[tuple[float, float]]] = [[]]
        for a, b in zip(xs, ys):
            if b is not None and math.isfinite(b) and (b > 0 or not self.y.log):
                runs[-1].append((a, b))
            elif runs[-1]:
                runs.append([])
        for run in runs:
            if len(run) > 1:
                self.clipped.append(
                    f'<polyline points="{self._pts(*zip(*run))}" fill="none" stroke="{color}" '
                    f'stroke-width="{width}" stroke-linejoin="round"{style}/>'
                )
            if dots:
                self.free += [marker(self.px(a), self.py(b), "circle", color, dots) for a, b in run]

    def band(self, xs: Sequence[float], lo: Sequence[float], hi: Sequence[float], color: str):
        pts = self._pts([*xs, *reversed(xs)], [*hi, *reversed(lo)])
        self.clipped.append(f'<polygon points="{pts}" fill="{color}" fill-opacity="0.15"/>')

    def span(self, a: float, b: float, color: str, opacity: float = 0.06) -> None:
        x, w = self.px(a), self.px(b) - self.px(a)
        self.clipped.append(
            f'<rect x="{num(x)}" y="{num(self.y0)}" width="{num(w)}" '
            f'height="{num(self.y1 - self.y0)}" fill="{color}" fill-opacity="{opacity}"/>'
        )

    def vline(self, v: float, color: str, dash: str | None = None, width: float = 1.2) -> None:
        d = f' stroke-dasharray="{dash}"' if dash else ""
        x = num(self.px(v))
        self.clipped.append(
            f'<line x1="{x}" y1="{num(self.y0)}" x2="{x}" y2="{num(self.y1)}" stroke="{color}" '
            f'stroke-width="{width}"{d}/>'
        )

    def point(self, a: float, b: float, shape: str, color: str, size: float = 5.0) -> None:
        self.free.append(marker(self.px(a), self.py(b), shape, color, size))

    def raw(self, svg: str) -> None:
        self.free.append(svg)

    def _axes(self) -> list[str]:
        out = []
        for t, s in self.y.ticks:
            y = num(self.py(t))
            out.append(
                f'<line x1="{num(self.x0)}" y1="{y}" x2="{num(self.x1)}" y2="{y}" '
                f'stroke="{GRID_C}" stroke-width="0.8"/>'
            )
            out.append(text(self.x0 - 6, self.py(t) + 5, s, "end", fill=TICK))
        for t, s in self.x.ticks:
            x = num(self.px(t))
            out.append(
                f'<line x1="{x}" y1="{num(self.y0)}" x2="{x}" y2="{num(self.y1)}" '
                f'stroke="{GRID_C}" stroke-width="0.8"/>'
            )
            out.append(text(self.px(t), self.y1 + 21, s, "middle", fill=TICK))
        x0, x1, y0, y1 = (num(v) for v in (self.x0, self.x1, self.y0, self.y1))
        out.append(f'<path d="M{x0},{y0}V{y1}H{x1}" fill="none" stroke="{MUTED}"/>')
        mid = (self.x0 + self.x1) / 2
        for i, line in enumerate(self.xlabel):
            out.append(text(mid, self.y1 + 43 + ROW * i, line, "middle", fill=INK))
        return out

    def svg(self) -> str:
        x0, y0 = num(self.x0), num(self.y0)
        w, h = num(self.x1 - self.x0), num(self.y1 - self.y0)
        clip = f"clip-{self.name}"
        return "".join(
            [
                *self._axes(),
                f'<clipPath id="{clip}"><rect x="{x0}" y="{y0}" width="{w}" height="{h}"/>'
                f'</clipPath><g clip-path="url(#{clip})">{"".join(self.clipped)}</g>',
                *self.free,
                *self.head,
            ]
        )


def document(panels: Sequence[Panel], label: str) -> str:
    """The inline <svg>: its viewBox holds the panels; the page's CSS sets its width."""
    height = max(p.bottom for p in panels)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'role="img" aria-label="{escape(label)}" font-size="{FONT}">'
        + "".join(p.svg() for p in panels)
        + "</svg>"
    )
