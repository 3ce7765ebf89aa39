"""Start and stop the whole assistant: Redis check, model, ticket backend, action server, Rasa, console.

`bianmin run` uses it interactively; the end-to-end tests use the same `Stack` on other ports, so what
the tests start is exactly what a user starts.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlparse

import yaml

from stack.model import ensure_model
from bot.settings import ROOT, Settings, to_env


class StackError(RuntimeError):
    """A service could not be started; the message says what to do."""


@dataclass
class Service:
    """One child process and the URL that answers once it is ready."""

    name: str
    argv: List[str]
    ready_url: str
    process: Optional[subprocess.Popen] = None


def redis_reachable(url: str, timeout: float = 1.0) -> bool:
    """True if a Redis server answers PING at `url`."""
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout).ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def ensure_redis(settings: Settings, log_dir: Path) -> Optional[subprocess.Popen]:
    """Makes sure Redis answers; starts a local redis-server when none runs and none was configured."""
    if redis_reachable(settings.redis_url):
        return None
    if os.environ.get("REDIS_URL"):
        raise StackError(f"Redis does not answer at REDIS_URL={settings.redis_url}: start it or fix REDIS_URL.")
    server = shutil.which("redis-server")
    if server is None:
        raise StackError(
            "Redis is needed and redis-server is not installed: run `sudo apt-get install redis-server` "
            "(or `brew install redis`), or set REDIS_URL to a running Redis."
        )
    port = urlparse(settings.redis_url).port or 6379
    log = open(log_dir / "redis.log", "ab")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    for _ in range(50):
        if redis_reachable(settings.redis_url):
            return process
        time.sleep(0.1)
    process.terminate()
    raise StackError(f"redis-server did not start on port {port}; see {log_dir / 'redis.log'}.")


def write_credentials(settings: Settings) -> Path:
    """Writes the Rasa credentials for the channels configured in the environment."""
    from channels.registry import credentials_for_env

    path = settings.var_dir / "credentials.yml"
    path.write_text(yaml.safe_dump(credentials_for_env(settings), allow_unicode=True), encoding="utf-8")
    return path


def services(settings: Settings, model: Path, credentials: Path) -> List[Service]:
    """The processes of the assistant, in start order."""
    python = sys.executable
    host = settings.host
    stack = [
        Service("tickets", [python, "-m", "tickets"], f"http://{host}:{settings.tickets_port}/health"),
        Service("actions", [python, "-m", "actions"], f"http://{host}:{settings.actions_port}/health"),
        Service(
            "rasa",
            [
                python, "-m", "rasa", "run", "--model", str(model), "--enable-api",
                "--auth-token", settings.rasa_token, "--port", str(settings.rasa_port),
                "--interface", host, "--cors", "*", "--credentials", str(credentials),
                "--endpoints", "endpoints.yml",
            ],
            f"http://{host}:{settings.rasa_port}/status?token={settings.rasa_token}",
        ),
    ]
    if (ROOT / "console" / "__main__.py").exists():
        stack.append(Service("console", [python, "-m", "console"], f"http://{host}:{settings.console_port}/health"))
    return stack


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 300
    except OSError:
        return False


def _terminate(processes: List[Optional[subprocess.Popen]]) -> None:
    """Stops process groups politely (SIGTERM), then firmly after 15 s."""
    running = [p for p in processes if p is not None and p.poll() is None]
    for process in running:
        os.killpg(process.pid, signal.SIGTERM)
    for process in running:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Stack:
    """The running assistant. Use as a context manager, or call start() and stop()."""

    def __init__(self, settings: Settings, extra_env: Optional[Dict[str, str]] = None) -> None:
        self.settings = settings
        self.extra_env = extra_env or {}
        self.log_dir = settings.var_dir / "logs"
        self.services: List[Service] = []
        self._redis: Optional[subprocess.Popen] = None

    def env(self) -> Dict[str, str]:
        """Environment of every child process."""
        env = dict(os.environ)
        env.update(to_env(self.settings))
        env.update(self.extra_env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def start(self, timeout: float = 240.0, train_quietly: bool = False) -> "Stack":
        """Starts every service and waits until each answers; raises StackError otherwise."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._redis = ensure_redis(self.settings, self.log_dir)
        model = ensure_model(self.settings, quiet=train_quietly)
        credentials = write_credentials(self.settings)
        self.services = services(self.settings, model, credentials)
        try:
            for service in self.services:
                self._launch(service)
            self._wait_ready(self.services, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _launch(self, service: Service) -> None:
        log = open(self.log_dir / f"{service.name}.log", "ab")
        service.process = subprocess.Popen(
            service.argv, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def service(self, name: str) -> Service:
        """The running service called `name` (tickets, actions, rasa, console)."""
        return next(service for service in self.services if service.name == name)

    def stop_service(self, name: str) -> None:
        """Stops one service (tests use it to take the ticket backend down or restart Rasa)."""
        _terminate([self.service(name).process])

    def start_service(self, name: str, timeout: float = 240.0) -> None:
        """Starts a service stopped with stop_service() again and waits until it answers."""
        service = self.service(name)
        self._launch(service)
        self._wait_ready([service], timeout)

    def _wait_ready(self, services: List[Service], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for service in services:
            while not _answers(service.ready_url):
                if service.process.poll() is not None:
                    raise StackError(
                        f"{service.name} exited with code {service.process.returncode}; "
                        f"see {self.log_dir / (service.name + '.log')}"
                    )
                if time.monotonic() > deadline:
                    raise StackError(f"{service.name} was not ready after {timeout:.0f} s")
                time.sleep(0.3)

    def stop(self) -> None:
        """Stops every child process (and a Redis this stack started), politely then firmly."""
        _terminate([s.process for s in reversed(self.services)] + [self._redis])
        self.services, self._redis = [], None

    def urls(self) -> Dict[str, str]:
        """What a user opens or calls."""
        s = self.settings
        rasa = f"http://{s.host}:{s.rasa_port}"
        urls = {
            "web chat": f"{rasa}/webhooks/webchat/",
            "widget demo": f"{rasa}/webhooks/webchat/demo",
            "REST channel": f"{rasa}/webhooks/rest/webhook",
            "Rasa HTTP API": f"{rasa} (token: {s.rasa_token})",
            "ticket backend": f"http://{s.host}:{s.tickets_port} (OpenAPI: /openapi.yaml)",
        }
        if any(service.name == "console" for service in self.services):
            urls["agent console"] = f"http://{s.host}:{s.console_port}/"
        return urls

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def console_login_hint(settings: Settings) -> Optional[str]:
    """'admin / <password>' while the console's generated first password is unchanged, else None."""
    from console.accounts import Accounts, first_login_hint

    accounts = Accounts(settings.database_url)
    try:
        return first_login_hint(accounts, settings.var_dir)
    finally:
        accounts.dispose()


def run_forever(settings: Settings) -> int:
    """`bianmin run`: start everything, print the URLs, stop cleanly on Ctrl-C."""
    stack = Stack(settings)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        stack.start()
        print("\nBianmin is running:")
        for name, url in stack.urls().items():
            print(f"  {name:15} {url}")
        hint = console_login_hint(settings)
        if hint:
            print(f"  first login     {hint}   (then: bianmin agents add NAME; bianmin agents passwd admin)")
        print(f"  logs            {stack.log_dir}\nChat in the terminal: .venv/bin/bianmin shell   Stop: Ctrl-C\n", flush=True)
        while not stopping:
            for service in stack.services:
                if service.process.poll() is not None:
                    raise StackError(f"{service.name} stopped unexpectedly; see {stack.log_dir / (service.name + '.log')}")
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    except (StackError, subprocess.CalledProcessError) as error:
        print(f"bianmin: {error}", file=sys.stderr)
        return 1
    finally:
        print("Stopping...", flush=True)
        stack.stop()
    return 0


def isolated_settings(base: Settings, var_dir: Path, port_offset: int, redis_db: int) -> Settings:
    """Settings for a second, throw-away stack (tests, benchmarks) beside a developer's own one:
    other ports, its own Redis database and var/ folder, a SQLite ticket store, always staffed."""
    from dataclasses import replace

    ports = {
        name: getattr(base, name) + port_offset
        for name in ("rasa_port", "actions_port", "tickets_port", "console_port")
    }
    return replace(
        base,
        redis_url=base.redis_url.rsplit("/", 1)[0] + f"/{redis_db}",
        database_url=f"sqlite:///{var_dir / 'tickets.sqlite3'}",
        rasa_url=f"http://{base.host}:{ports['rasa_port']}",
        actions_url=f"http://{base.host}:{ports['actions_port']}/webhook",
        tickets_url=f"http://{base.host}:{ports['tickets_port']}",
        var_dir=var_dir,
        staffed_hours="00:00-24:00",
        **ports,
    )
