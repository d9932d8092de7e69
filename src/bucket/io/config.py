"""The config file: where it is (``--config FILE``, else ``./bucket.toml`` if present) and its
TOML, read once.

Kept apart from settings.py (which builds pydantic models) so that commands can ask whether
there is a config at all without paying for pydantic on every run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from bucket.errors import ConfigError

CONFIG_NAME = "bucket.toml"


def config_path(config: Path | None, cwd: Path | None = None) -> Path | None:
    if config is not None:
        return config
    candidate = (cwd or Path.cwd()) / CONFIG_NAME
    if candidate.exists() and not candidate.is_file():
        raise ConfigError(
            f"{candidate} is not a file", "a config file is TOML text; rename or remove it"
        )
    return candidate if candidate.is_file() else None


def read_toml(path: Path) -> dict[str, Any]:
    """The whole config file as a dict; one ``ConfigError`` line for a missing, unreadable or
    malformed file."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file", "check the --config path") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})", "save it as UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", "fix the syntax") from None
