"""Beyond one machine, on one machine: N Rasa servers and M action servers behind haproxy, sharing Redis
(Rasa's tracker and lock store, the channels' state, socket.io rooms) and the ticket store (PostgreSQL).

The same topology as deploy/ (docker compose, Kubernetes), as local processes, for the cluster test and
bench/load. It reuses the stack's pieces (stack.run, stack.supervisor): each part is a supervised
process; what changes is that Rasa's public port and the action endpoint are haproxy's.

    citizens ──> haproxy :rasa_port ──> rasa-1 :rasa_port+101, rasa-2 :rasa_port+102   (socket.io: sticky)
    rasa-i ──> haproxy :actions_port ──> actions-1 :actions_port+101, actions-2 ...
    everything ──> Redis, tickets ──> PostgreSQL (or SQLite when none is configured)

`python -m stack.cluster` runs one in the foreground (Ctrl-C stops it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlparse

from bot.settings import Settings, to_env
from stack.run import (
    StackError,
    answers,
    rasa_command,
    redis_argv,
    redis_reachable,
    runs_reference_tickets,
    write_credentials,
)
from stack.supervisor import RestartPolicy, Service, Supervisor
from stack.training import ensure_model

PORT_STEP = 100  # member i of a group listens on the group's public port + PORT_STEP + i


def haproxy_binary() -> Optional[str]:
    return shutil.which("haproxy") or (shutil.which("haproxy", path="/usr/sbin:/sbin"))


def haproxy_config(settings: Settings, rasa_ports: List[int], action_ports: List[int]) -> str:
    """haproxy.cfg of the cluster: Rasa behind settings.rasa_port, the action servers behind
    settings.actions_port. A dead member is taken out after two failed checks (1 s apart); a request that
    could not reach one (connection refused, reset with no answer) is sent to another member."""
    host = settings.host
    rasa = "\n".join(
        f"    server rasa{i + 1} {host}:{port} check inter 1s fall 2 rise 2" for i, port in enumerate(rasa_ports)
    )
    actions = "\n".join(
        f"    server actions{i + 1} {host}:{port} check inter 1s fall 2 rise 2" for i, port in enumerate(action_ports)
    )
    return f"""global
    maxconn 4096

defaults
    mode http
    option http-buffer-request
    option redispatch
    retries 3
    retry-on conn-failure empty-response 503
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    timeout queue 30s
    # a busy Rasa server (a turn holds its event loop) answers its health check late: only a server that
    # does not answer for 10 s, or refuses connections (dead: detected within 2 s), is taken out
    timeout check 10s

frontend rasa_front
    bind {host}:{settings.rasa_port}
    option forwardfor
    acl socketio path_beg /socket.io
    use_backend rasa_sticky if socketio
    default_backend rasa

backend rasa
    balance roundrobin
    option httpchk GET /
{rasa}

backend rasa_sticky
    # socket.io's long polling needs every request of a session on the same server
    balance source
    hash-type consistent
    option httpchk GET /
{rasa}

frontend actions_front
    bind {host}:{settings.actions_port}
    default_backend actions

backend actions
    balance roundrobin
    option httpchk GET /health
    # a new connection per call: a killed action server then refuses it and the call goes to another one
    # (a call written to a kept-alive connection of a dead server cannot be retried: it is larger than
    # haproxy's buffer, so Rasa would get 502 and the citizen no answer)
    http-reuse never
{actions}
"""


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class Cluster:
    """The local multi-process cluster. `settings` are the public ones (Rasa's and the action endpoint's
    ports are haproxy's); use as a context manager, or start() and stop()."""

    def __init__(
        self,
        settings: Settings,
        rasa_servers: int = 2,
        action_servers: int = 2,
        policy: Optional[RestartPolicy] = None,
        extra_env: Optional[Dict[str, str]] = None,
        own_redis: bool = False,
    ) -> None:
        self.settings = settings
        self.own_redis = own_redis  # a redis-server of the cluster's own (in var_dir/redis), supervised like the rest
        self.rasa_ports = [settings.rasa_port + PORT_STEP + i + 1 for i in range(rasa_servers)]
        self.action_ports = [settings.actions_port + PORT_STEP + i + 1 for i in range(action_servers)]
        self.policy = policy or RestartPolicy()
        self.extra_env = extra_env or {}
        self.log_dir = settings.var_dir / "logs"
        self.services: List[Service] = []
        self.supervisor: Optional[Supervisor] = None

    def env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env.update(to_env(self.settings))
        env.update(self.extra_env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def build(self, model: Path, credentials: Path) -> List[Service]:
        """The processes, in start order."""
        s, python = self.settings, sys.executable
        haproxy = haproxy_binary()
        if haproxy is None:
            raise StackError("haproxy is needed for the cluster: `sudo apt-get install haproxy`.")
        config = s.var_dir / "haproxy.cfg"
        config.write_text(haproxy_config(s, self.rasa_ports, self.action_ports), encoding="utf-8")
        parts: List[Service] = []
        if self.own_redis:
            argv = redis_argv(urlparse(s.redis_url).port or 6379, s.var_dir / "redis", s.redis_maxmemory)
            parts.append(Service("redis", argv, lambda: redis_reachable(s.redis_url)))
        if runs_reference_tickets(s):
            parts.append(Service("tickets", [python, "-m", "tickets"], lambda: answers(f"{s.tickets_url}/health")))
        for i, port in enumerate(self.action_ports):
            parts.append(
                Service(
                    f"actions-{i + 1}",
                    [python, "-m", "actions"],
                    lambda port=port: answers(f"http://{s.host}:{port}/health"),
                    env={"BIANMIN_ACTIONS_PORT": str(port)},
                )
            )
        parts.append(Service("haproxy", [haproxy, "-db", "-f", str(config)], lambda: _port_open(s.host, s.rasa_port)))
        for i, port in enumerate(self.rasa_ports):
            parts.append(
                Service(
                    f"rasa-{i + 1}",
                    rasa_command(s, model, credentials, port),
                    lambda port=port: answers(f"http://{s.host}:{port}/status?token={s.rasa_token}"),
                    # the action endpoint is haproxy's
                    env={"BIANMIN_ACTIONS_URL": f"http://{s.host}:{s.actions_port}/webhook"},
                )
            )
        return parts

    def start(self, timeout: float = 600.0) -> "Cluster":
        self.log_dir.mkdir(parents=True, exist_ok=True)
        model = ensure_model(self.settings, quiet=True)
        credentials = write_credentials(self.settings)
        self.services = self.build(model, credentials)
        self.supervisor = Supervisor(self.services, self.env(), self.log_dir, self.policy)
        try:
            for service in self.services:
                self.supervisor.launch(service)
                if service.name == "redis":  # the others need it from their first second
                    self.supervisor.wait_ready([service], timeout)
            self.supervisor.wait_ready(self.services, timeout)
            self.wait_routed(timeout)
        except BaseException:
            self.stop()
            raise
        self.supervisor.watch()
        return self

    def wait_routed(self, timeout: float) -> None:
        """Waits until haproxy routes to the members (it takes them in after two passed checks)."""
        s, deadline = self.settings, time.monotonic() + timeout
        fronts = [f"http://{s.host}:{s.rasa_port}/", f"http://{s.host}:{s.actions_port}/health"]
        while not all(answers(url) for url in fronts):
            if time.monotonic() > deadline:
                raise StackError(f"haproxy does not route to the members; see {self.log_dir / 'haproxy.log'}")
            time.sleep(0.5)

    def service(self, name: str) -> Service:
        return next(service for service in self.services if service.name == name)

    def kill(self, name: str) -> int:
        """Kills one part like a crash (SIGKILL to its process group) and returns once it is gone (its
        sockets closed, so a new call is refused, not half-answered); the supervisor restarts it later."""
        process = self.service(name).process
        assert process is not None
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        return process.pid

    def stop_service(self, name: str) -> None:
        """Stops one part on purpose (not restarted until start_service())."""
        assert self.supervisor is not None
        self.supervisor.stop(self.service(name))

    def start_service(self, name: str, timeout: float = 300.0) -> None:
        """Starts a part stopped with stop_service() again and waits until it answers."""
        assert self.supervisor is not None
        self.supervisor.launch(self.service(name))
        self.supervisor.wait_ready([self.service(name)], timeout)

    def stop(self) -> None:
        if self.supervisor is not None:
            self.supervisor.close()
        self.supervisor = None

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> int:
    from bot.settings import load

    cluster = Cluster(load())
    try:
        cluster.start()
        print(
            f"cluster up: Rasa behind haproxy at {cluster.settings.rasa_url} "
            f"(servers on {cluster.rasa_ports}), action servers {cluster.action_ports}. Ctrl-C stops it."
        )
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    except StackError as error:
        print(f"bianmin: {error}", file=sys.stderr)
        return 1
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
