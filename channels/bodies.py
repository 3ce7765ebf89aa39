"""Reading a request body that must be a JSON object, as every JSON webhook does (REST, Telegram)."""

from __future__ import annotations

import json
from typing import Any, Dict, Optional


def json_object(raw: Optional[bytes]) -> Optional[Dict[str, Any]]:
    """The body as a dict, or None when it is empty, not JSON, not UTF-8, or JSON but not an object."""
    try:
        body = json.loads(raw or b"")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None
