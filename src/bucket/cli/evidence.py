"""`bucket backtest` and `bucket check`: evidence for the model, alarms for cron."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Annotated

import typer

from bucket.cli.command import command
from bucket.cli.options import (
    CalibrationOptions,
    ChannelQualityOpt,
    ConfigOpt,
    ExperimentsOpt,
    LedgerInputs,
    OutputOptions,
    RunOptions,
    load_settings,
)
from bucket.cli.output import emit, refuse_inputs, to_stdout, warn_all


@command()
def backtest(
    *,
    inputs: LedgerInputs,
    holdout: Annotated[
        int, typer.Option("--holdout", min=1, help="Periods to forecast: the last H of the ledger.")
    ] = 6,
    last: Annotated[
        bool,
        typer.Option(
            "--last",
            help="Hold out the last H periods even when spend moved more in earlier ones.",
        ),
    ] = False,
    calibration: CalibrationOptions,
    out: OutputOptions,
    run: RunOptions,
) -> None:
    """Could the model have forecast your own past? Calibrate on the periods before H held-out
    ones, replay the spend actually made in them, and compare with what happened.

    The held-out periods are the most recent H in which spend moved by 15 % or more (they test
    the response to spend a plan rests on; replaying a steady spend only tests today's rates);
    the last H when spend never moved that much, or with --last.

    Reports new, churned and total customers per period, predicted against actual, the mean
    absolute percentage error of each series, and a verdict in plain words.

    Examples:

      bucket backtest ledger.csv --holdout 6

      bucket backtest ledger.csv --holdout 3 --last

      bucket backtest ledger.csv --json | jq .mape
    """
    from bucket.analysis.backtest import backtest as run_backtest
    from bucket.analysis.backtest import backtest_response

    settings, sources = load_settings(calibration)
    ledger = inputs.load(("acquisition_spend",))
    run_it = run_backtest if last else backtest_response
    result = run_it(ledger, settings, sources, holdout)
    emit(result, out, [*inputs.input_paths(), *calibration.input_paths()])
    warn_all(result.warnings, run.quiet)


@command()
def check(
    *,
    inputs: LedgerInputs,
    maximum: Annotated[
        list[str] | None,
        typer.Option(
            "--max",
            help="Alert when metric > value, e.g. --max churn_rate=0.06 (repeatable).",
            show_default=False,
        ),
    ] = None,
    minimum: Annotated[
        list[str] | None,
        typer.Option(
            "--min",
            help="Alert when metric < value, e.g. --min ltv_to_cac=3 (repeatable).",
            show_default=False,
        ),
    ] = None,
    window: Annotated[
        int | None,
        typer.Option(
            "--window",
            min=1,
            help="Metrics over the last N periods (default: the last one).",
            show_default=False,
        ),
    ] = None,
    split_gap: Annotated[
        float | None,
        typer.Option(
            "--max-split-gap",
            help="Alert when today's split is more than this share of "
            "the budget away from the recommended one, e.g. 0.1.",
            show_default=False,
        ),
    ] = None,
    mape: Annotated[
        float | None,
        typer.Option(
            "--max-mape",
            help="Alert when the backtest's worst mean absolute percentage "
            "error exceeds this, e.g. 0.25.",
            show_default=False,
        ),
    ] = None,
    holdout: Annotated[
        int | None,
        typer.Option(
            "--holdout",
            min=1,
            help="Backtest periods for --max-mape (default 6).",
            show_default=False,
        ),
    ] = None,
    plans: Annotated[
        Path | None,
        typer.Option(
            "--plans",
            help="Folder of saved plans (plan --save DIR): checks forecast_mape_h1, "
            "forecast_bias, forecast_coverage, plan_adherence, parameter_drift_max_z given as "
            "--max/--min (default --max parameter_drift_max_z=3); keys with nothing to compare "
            "yet are skipped.",
            file_okay=False,
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every check, not only the breached ones.")
    ] = False,
    experiments: ExperimentsOpt = None,
    channel_quality: ChannelQualityOpt = None,
    config: ConfigOpt = None,
    out: OutputOptions,
    run: RunOptions,
) -> None:
    """Threshold alerts for cron: exit 0 when all is clear, 3 when a threshold is breached.

    Checks KPIs of the last period (or --window periods) against --max/--min thresholds and, if
    asked, how far today's split is from the plan (--max-split-gap) and how well the model
    forecast the recent past (--max-mape). Thresholds can also live in a [check] table of
    bucket.toml. Silent on success unless --verbose, so cron mails only when something is wrong;
    --json always prints the full result. Exit codes: 0 clear, 3 breached, 1 bad input.

    Examples:

      bucket check ledger.csv --max churn_rate=0.06 --min ltv_to_cac=3

      0 7 * * * bucket check /data/ledger.csv --window 3 --max-split-gap 0.1 || notify

      bucket check ledger.csv --plans plans/ --max forecast_mape_h1=0.1 --min forecast_coverage=0.5
    """
    from bucket.analysis.check import config_thresholds, parse_thresholds, run_checks
    from bucket.settings import check_config

    if not to_stdout(out.output):  # before any work, like every other command's inputs
        refuse_inputs(
            out.output,  # type: ignore[arg-type]
            [*inputs.input_paths(), config, experiments, *_saved_files(plans)],
        )
    cfg = check_config(config)
    from_file = config_thresholds(cfg, cfg.get("_path", "bucket.toml")) if cfg else {}
    for flag, value in (("--max-split-gap", split_gap), ("--max-mape", mape)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise typer.BadParameter(f"{value} is not a number ≥ 0", param_hint=flag)
    try:
        maxima = {**from_file.get("max", {}), **parse_thresholds(maximum or [], "--max")}
        minima = {**from_file.get("min", {}), **parse_thresholds(minimum or [], "--min")}
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    settings, sources = load_settings(
        CalibrationOptions(experiments=experiments, config=config, channel_quality=channel_quality)
    )
    ledger = inputs.load()
    result = run_checks(
        ledger,
        settings,
        sources,
        maxima=maxima,
        minima=minima,
        window=window or cfg.get("window"),
        split_gap=split_gap if split_gap is not None else cfg.get("split_gap"),
        mape=mape if mape is not None else cfg.get("mape"),
        holdout=holdout or cfg.get("holdout"),
        plans=plans or (Path(cfg["plans"]) if cfg.get("plans") else None),
    )
    if out.format != "table" or result.breached or verbose:
        shown = result if verbose or out.format != "table" else _only_alerts(result)
        emit(shown, out, [*inputs.input_paths(), config])
    # on success stay silent (cron mails whatever is printed), warnings included
    warn_all(result.warnings, run.quiet or not (result.breached or verbose))
    if result.breached:
        sys.stderr.flush()
        raise typer.Exit(3)


def _only_alerts(result):
    from dataclasses import replace

    return replace(result, checks=[c for c in result.checks if c.status != "ok"])


def _saved_files(plans: Path | None) -> list[Path]:
    """The saved plans of --plans (inputs -o must not replace); the saved-plan code is imported
    only when there is a folder: check runs from cron, and most runs have none."""
    if plans is None:
        return []
    from bucket.analysis.saved import saved_files

    return saved_files(plans)
