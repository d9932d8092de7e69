"""Where the config file is: ``--config FILE``, else ``./bucket.toml`` if present.

Kept apart from settings.py (which builds pydantic models) so that commands can ask whether
there is a config at all without paying for pydantic on every run.
"""

from __future__ import annotations

from pathlib import Path

CONFIG_NAME = "bucket.toml"


def config_path(config: Path | None, cwd: Path | None = None) -> Path | None:
    if config is not None:
        return config
    candidate = (cwd or Path.cwd()) / CONFIG_NAME
    return candidate if candidate.is_file() else None
