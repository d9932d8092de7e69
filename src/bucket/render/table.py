"""Terminal tables with rich. Colour only when asked (the CLI decides: TTY and no NO_COLOR)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from bucket.errors import one_line

if TYPE_CHECKING:
    from bucket.render.views import Section, View

_STYLE = {"good": "green", "warn": "yellow", "bad": "bold red", "dim": "dim", "bold": "bold"}
# survival heatmap: dark to bright green backgrounds (standard 256-colour palette)
_STYLE.update(
    {f"heat{i}": f"black on color({c})" for i, c in enumerate((52, 94, 136, 142, 106, 34))}
)


def _unbroken(sec: Section, j: int, *, whole: bool) -> int:
    """The narrowest column ``j`` may be: its longest cell when it holds numbers (a number is
    never split across lines), else its longest word (text wraps between words only); the
    header's longest word either way."""
    cells = [row[j].text for row in sec.rows if j < len(row)]
    pieces = cells if whole else [w for text in cells for w in text.split()]
    pieces += sec.columns[j].split()
    return max((len(p) for p in pieces), default=1)


def _table(sec: Section, keep: list[int]):
    """The rich table of ``sec`` with the columns ``keep``."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        title=sec.title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for j in keep:
        right = sec.numeric[j] if j < len(sec.numeric) else False
        table.add_column(
            sec.columns[j],
            justify="right" if right else "left",
            overflow="fold",
            min_width=_unbroken(sec, j, whole=right),
        )
    for row in sec.rows:
        table.add_row(
            *(Text(one_line(row[j].text), style=_STYLE.get(row[j].tone or "", "")) for j in keep)
        )
    return table


def _whole(sec: Section, table, keep: list[int], width: int) -> bool:
    """Whether ``table`` (the columns ``keep`` of ``sec``) at ``width`` shows every number and
    word of its cells whole on one line: at once when its natural width fits, else by rendering
    it (rich shrinks columns to fit, and may fold or crop them)."""
    from rich.console import Console
    from rich.measure import Measurement

    buf = io.StringIO()
    console = Console(file=buf, width=width, color_system=None, legacy_windows=False)
    if Measurement.get(console, console.options.update_width(10_000), table).maximum <= width:
        return True
    console.print(table)
    lines = buf.getvalue().split("\n")
    for j in keep:
        numeric = sec.numeric[j] if j < len(sec.numeric) else False
        for row in sec.rows:
            text = one_line(row[j].text)
            for piece in [text] if numeric else text.split():
                if not any(piece in line for line in lines):
                    return False
    return True


def _fitting(sec: Section, width: int):
    """The table at ``width``: when its columns cannot all show their cells whole, the last
    ones are left out (the first two, which name the rows, always stay); and the names of
    those left out."""
    keep = list(range(len(sec.columns)))
    table = _table(sec, keep)
    while len(keep) > 2 and not _whole(sec, table, keep, width):
        keep.pop()
        table = _table(sec, keep)
    dropped = [sec.columns[j] for j in range(len(sec.columns)) if j not in keep]
    return table, dropped


def to_table(view: View, *, color: bool, width: int, wrap: bool = True) -> str:
    from rich.console import Console
    from rich.text import Text

    buf = io.StringIO()
    console = Console(
        file=buf,
        width=width,
        force_terminal=color,
        no_color=not color,
        color_system="256" if color else None,
        highlight=False,
        emoji=False,
        legacy_windows=False,
    )
    for i, line in enumerate(view.headline):
        console.print(Text(one_line(line), style="bold" if i == 0 else ""), soft_wrap=not wrap)
    for sec in view.sections:
        if not sec.columns:  # a titled paragraph, its title leading its text
            para = Text(f"{one_line(sec.title)}: ", style="bold")
            para.append(one_line(sec.note or ""))
            console.print(para, soft_wrap=not wrap)
            continue
        table, dropped = _fitting(sec, width)
        console.print()
        console.print(table)
        if sec.note:
            console.print(Text(one_line(sec.note), style="dim"), soft_wrap=not wrap)
        if dropped:
            console.print(
                Text(
                    f"Not shown at {width} columns: {', '.join(dropped)} (a wider terminal, "
                    "or --json, has them).",
                    style="dim",
                ),
                soft_wrap=not wrap,
            )
    for line in view.footer:
        console.print(Text(one_line(line), style="dim"), soft_wrap=not wrap)
    # rich pads every line to the full width; trailing blanks only get in the way of pipes
    return "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))
