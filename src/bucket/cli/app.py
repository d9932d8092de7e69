"""The typer application object; commands register themselves on it."""

from __future__ import annotations

from typing import Annotated

import typer

from bucket import __version__

app = typer.Typer(
    name="bucket",
    help="Budget planner for growth teams: acquisition vs retention, from your own ledger.\n\n"
    "Try it: bucket example && bucket metrics saas_monthly.csv",
    no_args_is_help=True,
    add_completion=True,  # --install-completion, --show-completion (README)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"bucket {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Budget planner for growth teams: acquisition vs retention, from your own ledger.

    Exit codes: 0 ok, 1 bad input or config, 2 usage error, 70 internal error (a bug).
    """
