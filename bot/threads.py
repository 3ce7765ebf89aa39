"""Blocking calls (SQLAlchemy, password hashing) from async code, one way for every process."""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Callable, TypeVar

T = TypeVar("T")


async def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Runs `function(*args, **kwargs)` in the event loop's default executor and returns its result."""
    return await asyncio.get_running_loop().run_in_executor(None, functools.partial(function, *args, **kwargs))
