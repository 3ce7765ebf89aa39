"""`python -m bench.dialogue.rasa_timing MODULE ARG...`: the stack's Rasa command (`python -m MODULE run ...`,
as stack.run.rasa_command builds it) with timers around the parts of a turn, or the action server
(`actions`) with the profiler only, for bench/dialogue/load.py.

Each timed function adds its count and seconds to a table that a thread writes as JSON to
`$BIANMIN_TIMING_FILE` twice a second; the bench reads it before and after a run and keeps the difference.
The functions marked "loop" run synchronously on Rasa's one event loop, so their seconds are the time every
other conversation waits for them; the others are awaited (their wall time includes waiting for the loop).
A timer costs about a microsecond, against milliseconds for what it measures.

SIGUSR1 starts cProfile, SIGUSR2 stops it and writes the profile to `$BIANMIN_PROFILE_FILE.MODULE`.
"""

from __future__ import annotations

import cProfile
import functools
import inspect
import json
import os
import runpy
import signal
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

TOTALS: Dict[str, List[float]] = defaultdict(lambda: [0, 0.0])  # name -> [count, seconds]


def _timed(name: str, function: Callable) -> Callable:
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                entry = TOTALS[name]
                entry[0] += 1
                entry[1] += time.perf_counter() - started

        return timed_async

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            entry = TOTALS[name]
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    return timed


def _wrap(owner: Any, attribute: str, name: str) -> None:
    original = inspect.getattr_static(owner, attribute)
    if isinstance(original, staticmethod):
        setattr(owner, attribute, staticmethod(_timed(name, original.__func__)))
    else:
        setattr(owner, attribute, _timed(name, original))


def _count_deciding_policy(owner: Any) -> None:
    """Counts which policy decided each prediction (its seconds: the prediction's)."""
    predict = owner._predict_next_with_tracker

    @functools.wraps(predict)
    def counted(self: Any, tracker: Any) -> Any:
        started = time.perf_counter()
        prediction = predict(self, tracker)
        entry = TOTALS[f"decided by: {(prediction.policy_name or 'followup action').split('_')[-1]}"]
        entry[0] += 1
        entry[1] += time.perf_counter() - started
        return prediction

    owner._predict_next_with_tracker = counted


def install() -> None:
    """Timers around the parts of a turn (names: what LOAD.md's breakdown shows)."""
    import redis
    from rasa.core.actions.action import RemoteAction
    from rasa.core.agent import Agent
    from rasa.core.lock_store import LockStore
    from rasa.core.processor import MessageProcessor
    from rasa.core.tracker_store import SerializedTrackerAsText, TrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    _wrap(Agent, "handle_message", "turn: lock + processor (awaited)")
    _wrap(MessageProcessor, "handle_message", "turn: processor (awaited)")
    _wrap(LockStore, "_acquire_lock", "lock: acquire (awaited)")
    _wrap(MessageProcessor, "_parse_message_with_graph", "loop: NLU pipeline")
    _count_deciding_policy(MessageProcessor)
    _wrap(MessageProcessor, "_predict_next_with_tracker", "loop: policy prediction")
    _wrap(MessageProcessor, "_update_tracker_session", "session check (awaited)")
    _wrap(TrackerStore, "deserialise_tracker", "loop: tracker deserialise")
    _wrap(SerializedTrackerAsText, "serialise_tracker", "loop: tracker serialise")
    _wrap(DialogueStateTracker, "copy", "loop: tracker copy")
    _wrap(DialogueStateTracker, "current_state", "loop: tracker current_state")
    _wrap(redis.Redis, "execute_command", "loop: sync Redis command (tracker and lock store)")
    _wrap(RemoteAction, "run", "action call (awaited)")
    _wrap(RemoteAction, "_action_call_format", "loop: action request built")


def _dump_forever(path: Path) -> None:
    while True:
        time.sleep(0.5)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps({name: list(entry) for name, entry in list(TOTALS.items())}))
        temporary.replace(path)


def _profile_on_signals(path: Path) -> None:
    profiler: List[Optional[cProfile.Profile]] = [None]

    def start(*_: Any) -> None:
        profiler[0] = cProfile.Profile()
        profiler[0].enable()

    def stop(*_: Any) -> None:
        if profiler[0] is not None:
            profiler[0].disable()
            profiler[0].dump_stats(str(path))
            profiler[0] = None

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)


def main() -> None:
    module, *arguments = sys.argv[1:]
    timing = os.environ.get("BIANMIN_TIMING_FILE")
    if timing and module != "actions":  # the action server is only profiled
        install()
        threading.Thread(target=_dump_forever, args=(Path(timing),), daemon=True).start()
    profile = os.environ.get("BIANMIN_PROFILE_FILE")
    if profile:
        _profile_on_signals(Path(f"{profile}.{module}"))
    sys.argv = [module, *arguments]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
