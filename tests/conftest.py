from __future__ import annotations

import os

# one OpenBLAS thread, as `bucket` itself sets before numpy loads (cli.run): the tests call the
# CLI in-process, and the cohort fits' thread pools fought the other worker for the two cores
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import json
import socket
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from typer.testing import CliRunner

from bucket.cli import app

# The property and fuzz tests draw the same examples on every run (derived from each test's
# code), so the suite passes or fails the same way on every machine and CI meets no new case by
# chance; `pytest --hypothesis-profile explore` draws fresh ones (how new bugs are found).
hypothesis_settings.register_profile("repeatable", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile("repeatable")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def _runner() -> CliRunner:
    try:  # click < 8.2 mixes stderr into stdout unless told not to
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return CliRunner()


RUNNER = _runner()


@pytest.fixture(scope="module")
def one_command():
    """Typer's test runner builds the click command from the app on every invoke (about 23 ms,
    most of a rejected input's run); the app does not change, so a module of many examples
    (properties, fuzz) can share one."""
    import typer.testing

    command = typer.testing._get_command(app)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(typer.testing, "_get_command", lambda _app: command)
        yield


def invoke(*args: str, input: bytes | str | None = None, env: dict | None = None):
    """Run the real CLI in-process: result.exit_code, .stdout, .stderr, .exception."""
    return RUNNER.invoke(app, list(args), input=input, env=env, catch_exceptions=True)


def no_nan_json(text: str):
    """Parse JSON, refusing NaN and Infinity."""

    def refuse(x: str):
        raise ValueError(f"non-finite {x} in JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def write(tmp_path: Path):
    """write(text, name='ledger.csv', encoding='utf-8') → path as str."""

    def _write(text: str | bytes, name: str = "ledger.csv", encoding: str = "utf-8") -> str:
        p = tmp_path / name
        if isinstance(text, bytes):
            p.write_bytes(text)
        else:
            p.write_text(text, encoding=encoding, newline="")
        return str(p)

    return _write


# the engine tests (test_engines*.py) fail instead of skipping where CI installs the engines
ENGINES_REQUIRED = bool(os.environ.get("BUCKET_REQUIRE_ENGINES"))


def unavailable(what: str):
    """Skip a test whose engine this machine lacks (fail where it is required)."""
    if ENGINES_REQUIRED:
        pytest.fail(f"{what} is required here (BUCKET_REQUIRE_ENGINES) but not available")
    pytest.skip(f"{what} not available on this machine (.ci/run installs it)")


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
