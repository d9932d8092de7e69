"""Terminal tables with rich. Colour only when asked (the CLI decides: TTY and no NO_COLOR)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from bucket.errors import one_line

if TYPE_CHECKING:
    from bucket.render.views import View

_STYLE = {"good": "green", "warn": "yellow", "bad": "bold red", "dim": "dim", "bold": "bold"}
# survival heatmap: dark to bright green backgrounds (standard 256-colour palette)
_STYLE.update(
    {f"heat{i}": f"black on color({c})" for i, c in enumerate((52, 94, 136, 142, 106, 34))}
)


def to_table(view: View, *, color: bool, width: int, wrap: bool = True) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table
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
        table = Table(
            title=sec.title,
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        for j, name in enumerate(sec.columns):
            right = sec.numeric[j] if j < len(sec.numeric) else False
            table.add_column(name, justify="right" if right else "left", overflow="fold")
        for row in sec.rows:
            table.add_row(
                *(Text(one_line(c.text), style=_STYLE.get(c.tone or "", "")) for c in row)
            )
        console.print()
        console.print(table)
        if sec.note:
            console.print(Text(one_line(sec.note), style="dim"), soft_wrap=not wrap)
    for line in view.footer:
        console.print(Text(one_line(line), style="dim"), soft_wrap=not wrap)
    # rich pads every line to the full width; trailing blanks only get in the way of pipes
    return "\n".join(line.rstrip() for line in buf.getvalue().split("\n"))
