"""The supervisor restarts a crashed part with backoff, leaves the others alone, and gives up with the
reason only when one part crashes again and again (real child processes, no stack)."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from typing import Optional

import pytest

from stack.supervisor import UP, RestartPolicy, Service, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def wait_until(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def supervise(tmp_path):
    started = []

    def start(*services: Service, policy: Optional[RestartPolicy] = None) -> Supervisor:
        policy = policy or RestartPolicy(first_delay=0.2)
        supervisor = Supervisor(list(services), dict(os.environ), tmp_path, policy)
        for service in services:
            supervisor.launch(service)
        supervisor.watch()
        started.append(supervisor)
        return supervisor

    yield start
    for supervisor in started:
        supervisor.close()


def test_backoff_doubles_up_to_a_ceiling():
    policy = RestartPolicy(first_delay=1, max_delay=30)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5, 6, 7)] == [1, 2, 4, 8, 16, 30, 30]


def test_a_crashed_part_is_restarted_and_the_others_keep_running(supervise, caplog):
    caplog.set_level(logging.WARNING, logger="bianmin.stack")
    steady = Service("steady", SLEEPER, ready=lambda: True)
    fragile = Service("fragile", SLEEPER, ready=lambda: True)
    supervise(steady, fragile)
    wait_until(lambda: steady.state == UP and fragile.state == UP)
    steady_pid, crashed_pid = steady.process.pid, fragile.process.pid
    os.killpg(crashed_pid, signal.SIGKILL)
    wait_until(lambda: fragile.restarts == 1 and fragile.state == UP)
    assert fragile.process.pid != crashed_pid and fragile.last_exit == -signal.SIGKILL
    assert steady.process.pid == steady_pid and steady.process.poll() is None and steady.restarts == 0
    assert "fragile stopped unexpectedly (exit code -9); restarting in 0 s" in caplog.text
    assert "fragile restarted (restart 1)" in caplog.text


def test_repeated_crashes_stop_the_stack_with_the_reason(supervise):
    crashing = Service("crashing", [sys.executable, "-c", "import sys; sys.exit(3)"], ready=lambda: True)
    supervisor = supervise(crashing, policy=RestartPolicy(first_delay=0.05, max_crashes=3, window=60))
    wait_until(lambda: supervisor.fatal is not None)
    assert supervisor.fatal.startswith("crashing crashed 3 times within 60 s (last exit code 3)")
    assert crashing.restarts == 2


def test_a_part_stopped_on_purpose_stays_stopped(supervise):
    service = Service("paused", SLEEPER, ready=lambda: True)
    supervisor = supervise(service)
    supervisor.stop(service)
    time.sleep(1.0)  # two watch ticks
    assert service.process.poll() is not None and service.restarts == 0 and service.state == "stopped"


def test_waiting_until_ready_marks_parts_up_or_names_the_log_of_one_that_exited(tmp_path):
    from stack.supervisor import StackError

    ready_at = time.monotonic() + 0.5
    serving = Service("serving", SLEEPER, lambda: time.monotonic() > ready_at)
    failing = Service("failing", [sys.executable, "-c", "raise SystemExit(3)"], lambda: False)
    supervisor = Supervisor([serving, failing], dict(os.environ), tmp_path)
    try:
        for service in (serving, failing):
            supervisor.launch(service)
        supervisor.wait_ready([serving], timeout=30)  # what `bianmin run` and the cluster both wait with
        assert serving.state == UP
        with pytest.raises(StackError, match=r"failing exited with code 3; see .*failing\.log"):
            supervisor.wait_ready([failing], timeout=30)
    finally:
        supervisor.close()
