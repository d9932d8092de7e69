"""`bucket example`: write the sample ledgers, so a new user can try everything at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bucket.cli.command import command
from bucket.cli.options import RunOptions
from bucket.cli.output import make_folder, write, write_stdout


@command()
def example(
    *,
    directory: Annotated[
        Path,
        typer.Argument(help="Folder to write the sample files into.", file_okay=False),
    ] = Path("."),
    stdout: Annotated[
        bool, typer.Option("--stdout", help="Print the plain sample to stdout instead.")
    ] = False,
    european: Annotated[
        bool, typer.Option("--eu", help="With --stdout: print the European (;, 1.234,56) one.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    transactions: Annotated[
        bool,
        typer.Option(
            "--transactions",
            help="Write a synthetic orders table (transactions.csv) "
            "and its spend.csv instead of the ledgers.",
        ),
    ] = False,
    subscriptions: Annotated[
        bool,
        typer.Option(
            "--subscriptions",
            help="Write a synthetic subscriptions table "
            "(subscriptions.csv) and its subscriptions_spend.csv instead of the ledgers.",
        ),
    ] = False,
    rows: Annotated[
        int,
        typer.Option(
            "--rows", min=1, help="With --transactions or --subscriptions: about how many rows."
        ),
    ] = 100_000,
    run: RunOptions,
) -> None:
    """Write sample ledgers: 24 months of a SaaS business with 3 channels, plain and European,
    and the retention test it ran in its last quarter.

    saas_monthly.csv is a plain export (comma, 2024-01, 1234.56); saas_monthly_eu.csv has the
    same numbers as a German spreadsheet exports them (semicolon, 31.01.2024, 1.234,56,
    German headers); experiments.csv holds a holdout, a current and a stretch arm drawn from
    the same simulated business (try `bucket plan saas_monthly.csv --experiments
    experiments.csv`). The paths written are printed on stdout.

    Examples:

      bucket example && bucket metrics saas_monthly.csv

      bucket example --stdout | bucket metrics -
    """
    if transactions or subscriptions:
        _write_events(directory, rows, force, "subscriptions" if subscriptions else "transactions")
        return
    from bucket.analysis.sample import example_files

    files = example_files()
    if stdout:
        name = "saas_monthly_eu.csv" if european else "saas_monthly.csv"
        write_stdout(files[name])
        return

    make_folder(directory)
    targets = {directory / name: text for name, text in files.items()}
    existing = [str(p) for p in targets if p.exists()]
    if existing and not force:
        raise typer.BadParameter(
            f"{', '.join(existing)} already exist(s); pass --force to overwrite",
            param_hint="DIRECTORY",
        )
    for path, text in targets.items():
        write(text, path, inputs=[])
        write_stdout(f"{path}\n")


def _write_events(directory: Path, rows: int, force: bool, kind: str) -> None:
    """transactions.csv and spend.csv (or subscriptions.csv and subscriptions_spend.csv),
    rendered by the core and written by the one writer (atomically, each only once whole)."""
    from bucket.analysis.sample import event_files, spend_name

    targets = [directory / f"{kind}.csv", directory / spend_name(kind)]
    existing = [str(p) for p in targets if p.exists()]
    if existing and not force:
        raise typer.BadParameter(
            f"{', '.join(existing)} already exist(s); pass --force", param_hint="DIRECTORY"
        )
    make_folder(directory)
    for name, text in event_files(kind, rows).items():
        write(text, directory / name, inputs=[])
    for path in targets:
        write_stdout(f"{path}\n")
