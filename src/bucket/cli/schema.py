"""`bucket schema`: the JSON Schema of every JSON output, from the pydantic models."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bucket.cli.command import command
from bucket.cli.options import RunOptions
from bucket.cli.output import write_stdout


@command()
def schema(
    *,
    command: Annotated[
        str | None,
        typer.Argument(
            help="Only this command's schema (metrics, validate, plan, simulate, backtest, check, cohorts, track, saved-plan).",
            show_default=False,
        ),
    ] = None,
    run: RunOptions,
) -> None:
    """Print the JSON Schema of the --json output of every command (or of one).

    Examples:

      bucket schema

      bucket schema metrics > metrics.schema.json
    """
    from bucket.results.schemas import schemas

    all_schemas = schemas()
    if command is not None:
        if command not in all_schemas:
            raise typer.BadParameter(
                f"no command '{command}' with JSON output; choose from {', '.join(all_schemas)}",
                param_hint="COMMAND",
            )
        out = all_schemas[command]
    else:
        out = all_schemas
    write_stdout(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
