"""JSON: the result as is, full precision, null for undefined values, never NaN."""

from __future__ import annotations

import json
from typing import Any

from bucket.results.common import to_dict


def to_json(result: Any) -> str:
    # allow_nan=False: a NaN or infinity that got past check_finite is a bug, never output
    return json.dumps(to_dict(result), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
