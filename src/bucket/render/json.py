"""JSON: the pydantic model as is, full precision, null for undefined values."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import BaseModel


def to_json(result: BaseModel) -> str:
    return result.model_dump_json(indent=2) + "\n"
