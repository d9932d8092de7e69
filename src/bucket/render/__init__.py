"""Pure functions from a result model to text: table (rich), json, csv, markdown.

``render(result, fmt, color=..., width=..., wrap=...)`` is the one entry point the CLI calls.
"""

from __future__ import annotations

from typing import Any


def _view(result: Any, detail: bool = True):
    from bucket.render import views

    kind = getattr(result, "command", None)
    if not detail and kind in ("plan", "simulate"):
        from bucket.render import brief, plan_views

        if kind == "plan":
            return brief.brief_plan_view(result, plan_views.plan_view(result))
        return brief.brief_simulation_view(result, plan_views.simulation_view(result))
    if kind == "metrics":
        return views.metrics_view(result)
    if kind == "validate":
        return views.validation_view(result)
    if kind == "track":
        from bucket.render.track_views import track_view

        return track_view(result)
    if kind in ("plan", "simulate", "backtest", "check", "cohorts"):
        from bucket.render import evidence_views, plan_views

        view: Any = {
            "plan": plan_views.plan_view,
            "simulate": plan_views.simulation_view,
            "backtest": evidence_views.backtest_view,
            "check": evidence_views.check_view,
            "cohorts": evidence_views.cohorts_view,
        }[kind]
        return view(result)
    raise ValueError(f"no view for {kind!r}")


def render(
    result: Any,
    fmt: str,
    *,
    color: bool = False,
    width: int = 100,
    wrap: bool = True,
    detail: bool = True,
) -> str:
    """The text of ``result`` in format ``fmt`` (ends with a newline).

    ``wrap=False`` keeps each sentence of a table view on one line (files and pipes: a
    reader greps lines, and the width of the machine that ran it must not split them).
    ``detail=False``: the first screen of ``plan`` and ``simulate`` in the table format.
    """
    from bucket.results.common import check_finite

    check_finite(result)
    if fmt == "json":
        from bucket.render.json import to_json

        return to_json(result)
    if fmt == "csv":
        from bucket.render.csv import to_csv

        return to_csv(result)
    if fmt == "markdown":
        from bucket.render.markdown import to_markdown

        return to_markdown(_view(result))
    if fmt == "table":
        from bucket.render.table import to_table

        return to_table(_view(result, detail), color=color, width=width, wrap=wrap)
    raise ValueError(f"unknown format {fmt!r}")
