"""Bounds on what anonymous citizens can make the assistant store (issue 15, "unbounded storage").

For the channels: a message's `metadata` is stored with every event of the conversation (three times per
message, for the tracker's lifetime), so a channel passes what a client sent through `bounded_metadata`
before handing it to Rasa.
"""

from __future__ import annotations

import json
from typing import Any, Dict

MAX_METADATA_BYTES = 4096  # of JSON (UTF-8)
MAX_METADATA_KEYS = 32
MAX_KEY_CHARS = 64


def _size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8", "surrogatepass"))


def bounded_metadata(metadata: Any, limit: int = MAX_METADATA_BYTES) -> Dict[str, Any]:
    """`metadata` if it is a JSON object of at most `limit` bytes; otherwise the largest prefix of its
    entries (string keys up to MAX_KEY_CHARS, at most MAX_METADATA_KEYS) that fits, with "truncated": true.
    Anything that is not an object gives {}."""
    if not isinstance(metadata, dict):
        return {}
    try:
        if len(metadata) <= MAX_METADATA_KEYS and _size(metadata) <= limit:
            return metadata
    except (TypeError, ValueError, RecursionError):
        pass
    kept: Dict[str, Any] = {"truncated": True}
    for key, value in list(metadata.items())[:MAX_METADATA_KEYS]:
        if not isinstance(key, str) or len(key) > MAX_KEY_CHARS or key == "truncated":
            continue
        try:
            if _size({**kept, key: value}) <= limit:
                kept[key] = value
        except (TypeError, ValueError, RecursionError):
            continue
    return kept
