"""Keeps the assistant's processes running: a child that exits is restarted with backoff while the
others keep serving; only a child that crashes again and again in a short window stops the stack.

Every change is one line in the stack's log (and on the terminal of `bianmin run`), and each part's
state feeds `bianmin status` and the health URL.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Deque, Dict, List, Optional

from bot.settings import ROOT

logger = logging.getLogger("bianmin.stack")

FIRST_DELAY = 1.0  # seconds before the first restart; doubles with each crash in the window
MAX_DELAY = 30.0
CRASH_WINDOW = 120.0  # seconds
MAX_CRASHES = 5  # this many crashes of one part inside the window stop the stack
TICK = 0.5

STARTING, UP, DOWN, STOPPED = "starting", "up", "down", "stopped"
READY_POLL = 0.3  # seconds between two readiness probes


class StackError(RuntimeError):
    """A service could not be started; the message says what to do."""


@dataclass
class RestartPolicy:
    """When to restart a crashed part, and when to give up."""

    first_delay: float = FIRST_DELAY
    max_delay: float = MAX_DELAY
    window: float = CRASH_WINDOW
    max_crashes: int = MAX_CRASHES

    def delay(self, recent_crashes: int) -> float:
        """Seconds to wait before restarting after the n-th crash in the window: 1, 2, 4, ... 30."""
        return min(self.max_delay, self.first_delay * 2 ** max(0, recent_crashes - 1))

    def recent(self, crashes: Deque[float], now: float) -> int:
        """Forgets crashes older than the window; returns how many are left."""
        while crashes and crashes[0] < now - self.window:
            crashes.popleft()
        return len(crashes)


@dataclass
class Service:
    """One child process, how to tell that it serves, and its record for `bianmin status`."""

    name: str
    argv: List[str]
    ready: Callable[[], bool]
    env: Dict[str, str] = field(default_factory=dict)  # on top of the stack's environment
    process: Optional[subprocess.Popen] = None
    wanted: bool = True  # False once stopped on purpose: not restarted
    state: str = STOPPED
    since: float = field(default_factory=time.time)
    restarts: int = 0
    last_exit: Optional[int] = None
    restart_at: Optional[float] = None
    crashes: Deque[float] = field(default_factory=deque)

    def set_state(self, state: str) -> None:
        if state != self.state:
            self.state, self.since = state, time.time()

    def record(self) -> dict:
        """This part as `bianmin status` shows it."""
        return {
            "name": self.name,
            "state": self.state,
            "since": self.since,
            "restarts": self.restarts,
            "pid": self.process.pid if self.process and self.process.poll() is None else None,
            "last_exit": self.last_exit,
            "supervised": True,
        }


def terminate(processes: List[Optional[subprocess.Popen]]) -> None:
    """Stops process groups politely (SIGTERM), then firmly after 15 s."""
    running = [p for p in processes if p is not None and p.poll() is None]
    for process in running:
        os.killpg(process.pid, signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            logger.warning("%s did not stop within 15 s of SIGTERM; killed", " ".join(map(str, process.args[:4])))
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Supervisor:
    """Starts, watches and restarts `services`; a background thread does the watching."""

    def __init__(
        self, services: List[Service], env: Dict[str, str], log_dir: Path, policy: Optional[RestartPolicy] = None
    ) -> None:
        self.services = services
        self.env = env
        self.log_dir = log_dir
        self.policy = policy or RestartPolicy()
        self.fatal: Optional[str] = None  # why the stack must stop, once a part crashes too often
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None

    def log_path(self, service: Service) -> Path:
        return self.log_dir / f"{service.name}.log"

    def launch(self, service: Service) -> None:
        """Starts the service's process (its output goes to its own log file)."""
        with self.lock, open(self.log_path(service), "ab") as log:
            service.process = subprocess.Popen(
                service.argv,
                cwd=ROOT,
                env={**self.env, **service.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            service.wanted, service.restart_at = True, None
            service.set_state(STARTING)

    def wait_ready(self, services: List[Service], timeout: float) -> None:
        """Waits until each launched service answers its readiness probe, then marks it up; raises
        StackError when one exits (naming its log) or is not ready within `timeout` seconds in all."""
        deadline = time.monotonic() + timeout
        for service in services:
            while not service.ready():
                process = service.process
                assert process is not None, "launch() the service first"
                if process.poll() is not None:
                    raise StackError(
                        f"{service.name} exited with code {process.returncode}; see {self.log_path(service)}"
                    )
                if time.monotonic() > deadline:
                    raise StackError(f"{service.name} was not ready after {timeout:.0f} s")
                time.sleep(READY_POLL)
            with self.lock:
                service.set_state(UP)

    def stop(self, service: Service) -> None:
        """Stops one service on purpose: it stays down until launched again."""
        with self.lock:
            service.wanted, service.restart_at = False, None
        terminate([service.process])
        with self.lock:
            service.set_state(STOPPED)

    def watch(self) -> None:
        """Starts the background thread that restarts crashed services."""
        self._thread = threading.Thread(target=self._watch, name="bianmin-supervisor", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stops watching, then stops every process, last started first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self.lock:
            for service in self.services:
                service.wanted = False
        terminate([service.process for service in reversed(self.services)])
        for service in self.services:
            service.set_state(STOPPED)

    def _watch(self) -> None:
        while not self._stop.wait(TICK):
            for service in self.services:
                try:
                    self.check(service)
                except Exception:  # the watcher must outlive any one bad check
                    logger.exception("checking %s failed", service.name)

    def check(self, service: Service, now: Optional[float] = None) -> None:
        """One look at one service: notice a crash, restart when its delay is over, notice it is up."""
        now = time.time() if now is None else now
        with self.lock:
            if not service.wanted or service.process is None:
                return
            code = service.process.poll()
            if code is not None and service.restart_at is None:
                self._crashed(service, code, now)
                return
            if service.restart_at is not None and now >= service.restart_at and self.fatal is None:
                service.restarts += 1
                self.launch(service)
                logger.warning("%s restarted (restart %d)", service.name, service.restarts)
                return
        if service.state == STARTING and code is None and service.ready():
            with self.lock:
                service.set_state(UP)
            if service.restarts:
                logger.warning("%s is serving again", service.name)

    def _crashed(self, service: Service, code: int, now: float) -> None:
        service.last_exit = code
        service.set_state(DOWN)
        service.crashes.append(now)
        recent = self.policy.recent(service.crashes, now)
        if recent >= self.policy.max_crashes:
            self.fatal = (
                f"{service.name} crashed {recent} times within {self.policy.window:.0f} s "
                f"(last exit code {code}); see {self.log_path(service)}"
            )
            logger.error("%s; stopping", self.fatal)
            return
        delay = self.policy.delay(recent)
        service.restart_at = now + delay
        logger.warning(
            "%s stopped unexpectedly (exit code %s); restarting in %.0f s; the other parts keep serving; see %s",
            service.name,
            code,
            delay,
            self.log_path(service),
        )
