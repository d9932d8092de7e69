"""`bucket cohorts`: the survival table and the sBG model."""

from __future__ import annotations

from typing import Annotated

import typer

from bucket.cli.command import command
from bucket.cli.options import EventInputs, MoneyOptions, OutputOptions, RunOptions
from bucket.cli.output import emit, spinner, warn_all


@command()
def cohorts(
    *,
    file: Annotated[
        str | None,
        typer.Argument(
            help="Cohort CSV with columns cohort, age, active (path, or - for stdin); "
            "or give --transactions.",
            show_default=False,
        ),
    ] = None,
    events: EventInputs,
    arpu: Annotated[
        float | None,
        typer.Option(
            "--arpu",
            help="Revenue per customer per period, to turn lifetimes into CLTV.",
            show_default=False,
        ),
    ] = None,
    horizon: Annotated[
        int | None,
        typer.Option(
            "--horizon",
            min=1,
            help="Ages to project (default: twice the oldest cohort).",
            show_default=False,
        ),
    ] = None,
    money: MoneyOptions,
    out: OutputOptions,
    run: RunOptions,
) -> None:
    """Cohort survival, retention by age, and the shifted-beta-geometric (sBG) model.

    Fits sBG (Fader & Hardie 2007) by maximum likelihood with right-censoring, pooled over
    cohorts of different ages and per cohort, compares it with a constant churn rate, projects
    survival, and gives the expected discounted lifetime (and CLTV with --arpu) under both.

    Examples:

      bucket cohorts cohorts.csv

      bucket cohorts cohorts.csv --arpu 49 --margin 0.8 --json

      bucket cohorts --transactions orders.csv
    """
    from bucket.analysis.cohorts import analyse
    from bucket.io.cohorts import CohortTable, cohort_channels, cohort_counts, read_cohorts
    from bucket.io.periods import PeriodProblem, parse_label, resolve
    from bucket.model.money import check_assumptions

    margin, discount_rate = money.resolved()
    check_assumptions(margin, discount_rate)
    if events.reads_events:
        from bucket.events.ledger import derive

        source = events.events()
        with spinner("Reading the events…"):
            rows = derive(source).cohorts_rows
        labels, counts = cohort_counts(rows)
        channels = {ch: cohort_counts(rows, ch) for ch in cohort_channels(rows)}
        table = CohortTable(source.name, labels, counts, channels=channels)
        frequency = events.frequency
    elif file is None:
        raise typer.BadParameter("give a cohort FILE, or --transactions FILE", param_hint="FILE")
    else:
        table = read_cohorts(file)
        try:
            frequency = resolve([parse_label(x) for x in table.labels]).frequency
        except PeriodProblem:
            frequency = "month"
    result = analyse(table, frequency, discount_rate, arpu, margin, horizon)
    emit(result, out, [file, *events.input_paths(), *money.input_paths()])
    warn_all(result.warnings, run.quiet)
