"""The command decorator: it registers a command, spells each bundle of ``cli.options`` out
as options for typer, and hands the command one value per bundle.

A command names the bundles it takes in its signature::

    @command()
    def metrics(*, inputs: LedgerInputs, money: MoneyOptions, out: OutputOptions, ...) -> None:

and ``bucket metrics --help`` lists every option of the bundles; ``inputs`` arrives as a
``LedgerInputs``. Errors are handled here too: a ``BucketError`` is one ``Error:`` line and its
exit code, anything else a bug (exit 70) with the traceback only under ``--debug``. An
``--output`` naming one of the command's inputs is refused before any work.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

import typer

from bucket.cli.app import app
from bucket.cli.options import (
    CalibrationOptions,
    EventInputs,
    LedgerInputs,
    ModelOptions,
    MoneyOptions,
    OutputOptions,
    RunOptions,
    ScenarioOptions,
)

INTERNAL_ERROR = 70  # EX_SOFTWARE: a bug in bucket, not in the input

BUNDLES = (
    EventInputs,
    LedgerInputs,
    OutputOptions,
    RunOptions,
    MoneyOptions,
    CalibrationOptions,
    ModelOptions,
    ScenarioOptions,
)


def _fields(bundle: type) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(bundle, include_extras=True)
    return [
        inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hints[f.name]
        )
        for f in dataclasses.fields(bundle)
    ]


def command(**typer_kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a command whose bundle parameters are spelled out as options."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        hints = typing.get_type_hints(fn, include_extras=True)
        params: list[inspect.Parameter] = []
        bundles: dict[str, type] = {}
        for name, p in inspect.signature(fn).parameters.items():
            kind = hints.get(name)
            if kind in BUNDLES:
                bundles[name] = kind
                params.extend(_fields(kind))
            else:
                params.append(
                    p.replace(
                        annotation=hints.get(name, p.annotation),
                        kind=inspect.Parameter.KEYWORD_ONLY,
                    )
                )
        names = [p.name for p in params]
        assert len(names) == len(set(names)), f"{fn.__name__}: an option is in two bundles"

        @functools.wraps(fn)
        def run(**kwargs: Any) -> Any:
            debug = bool(kwargs.get("debug"))
            for name, bundle in bundles.items():
                kwargs[name] = bundle(
                    **{f.name: kwargs.pop(f.name) for f in dataclasses.fields(bundle)}
                )
            refuse_early([kwargs[name] for name in bundles])
            return guard(fn, kwargs, debug)

        del run.__wrapped__  # typer reads the signature below, not the command's
        run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        return app.command(**typer_kwargs)(run)

    return register


def refuse_early(bundles: list[Any]) -> None:
    """Before any work: --output must not name an input of the command (its ledger, events,
    spend or config file)."""
    from bucket.cli.output import refuse_inputs, to_stdout

    inputs = [p for b in bundles if hasattr(b, "input_paths") for p in b.input_paths()]
    for b in bundles:
        if isinstance(b, OutputOptions) and not to_stdout(b.output):
            refuse_inputs(b.output, inputs)  # type: ignore[arg-type]


def guard(fn: Callable[..., Any], kwargs: dict[str, Any], debug: bool) -> Any:
    """Run a command; turn ``BucketError`` into ``Error: ...`` + exit 1 (or its own code).

    Unexpected exceptions are bugs: one line and exit 70, or the traceback with ``--debug``.
    """
    from bucket.cli.output import err
    from bucket.errors import BucketError

    try:
        return fn(**kwargs)
    except (typer.Exit, typer.Abort, typer.BadParameter):
        raise
    except BucketError as exc:
        if debug:
            raise
        err(f"Error: {exc}")
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err("Error: interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:  # a bug: say so plainly
        if debug:
            raise
        err(
            f"Error: internal error ({type(exc).__name__}: {exc}); this is a bug in bucket: "
            "rerun with --debug and report the traceback"
        )
        raise typer.Exit(INTERNAL_ERROR) from None
