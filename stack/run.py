"""Start, supervise and stop the whole assistant: Redis, model, ticket backend, action server, Rasa, console.

`bianmin run` uses it interactively; the end-to-end tests use the same `Stack` on other ports, so what
the tests start is exactly what a user starts. Once started, a part that crashes is restarted while the
others keep serving (stack/supervisor.py); the supervisor's endpoint (stack/gateway.py) serves the
health URL.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlparse

import yaml

from bot.settings import Settings, to_env
from stack.gateway import Gateway, create_app
from stack.supervisor import UP, RestartPolicy, Service, StackError, Supervisor
from stack.training import ensure_model

logger = logging.getLogger("bianmin.stack")
REDIS_WAIT = 30.0  # seconds to wait for a configured Redis that does not answer yet
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def redis_reachable(url: str, timeout: float = 1.0) -> bool:
    """True if a Redis server answers PING at `url`."""
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout).ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def redis_argv(port: int, data_dir: Path, maxmemory: str = "512mb") -> List[str]:
    """A redis-server on 127.0.0.1:`port` that keeps its data in an append-only file in `data_dir`, with a
    memory limit and the noeviction policy: when full, writes fail with an explicit OOM error (logged by
    the part that wrote) instead of Redis silently evicting conversations, locks or handoffs."""
    server = shutil.which("redis-server")
    if server is None:
        raise StackError(
            "Redis is needed and redis-server is not installed: run `sudo apt-get install redis-server` "
            "(or `brew install redis`), or set REDIS_URL to a running Redis."
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    return [
        server,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(data_dir),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--maxmemory",
        maxmemory,
        "--maxmemory-policy",
        "noeviction",
    ]


def wait_for_redis(url: str, wait: float = REDIS_WAIT) -> None:
    """Waits until the Redis at `url` answers; one that is down for a moment is not fatal."""
    deadline = time.monotonic() + wait
    if not redis_reachable(url):
        logger.warning("Redis does not answer at %s yet; waiting up to %.0f s", url, wait)
    while not redis_reachable(url):
        if time.monotonic() > deadline:
            raise StackError(f"Redis does not answer at REDIS_URL={url}: start it or fix REDIS_URL.")
        time.sleep(0.5)


def warn_if_redis_evicts(url: str) -> Optional[str]:
    """A configured Redis whose policy may evict keys (conversations, locks, handoffs) silently: logged
    once at start with the fix (docs/security.md). Returns the warning, or None."""
    import redis

    try:
        policy = redis.Redis.from_url(url, socket_timeout=2).config_get("maxmemory-policy").get("maxmemory-policy")
    except (redis.RedisError, OSError):  # CONFIG may be disabled on a managed Redis
        return None
    if isinstance(policy, bytes):
        policy = policy.decode()
    if policy in (None, "noeviction"):
        return None
    warning = (
        f"Redis at {url} has maxmemory-policy {policy}: when it is full it evicts conversations "
        "silently; set `maxmemory-policy noeviction` (docs/security.md)"
    )
    logger.warning(warning)
    return warning


def should_start_redis(settings: Settings) -> bool:
    """True when nothing answers at the default local Redis and none was configured: start our own."""
    return (
        not os.environ.get("REDIS_URL")
        and urlparse(settings.redis_url).hostname in LOCAL_HOSTS
        and not redis_reachable(settings.redis_url)
    )


def ensure_redis(settings: Settings, data_dir: Path) -> Optional[subprocess.Popen]:
    """Makes sure Redis answers (the test suite's one): starts an unsupervised local redis-server when
    none runs and none was configured, keeping its files in `data_dir`."""
    if not should_start_redis(settings):
        wait_for_redis(settings.redis_url)
        return None
    port = urlparse(settings.redis_url).port or 6379
    with open(data_dir / "redis.log", "ab") as log:
        process = subprocess.Popen(
            redis_argv(port, data_dir, settings.redis_maxmemory),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    for _ in range(50):
        if redis_reachable(settings.redis_url):
            return process
        time.sleep(0.1)
    process.terminate()
    raise StackError(f"redis-server did not start on port {port}; see {data_dir / 'redis.log'}.")


def runs_reference_tickets(settings: Settings) -> bool:
    """False when BIANMIN_TICKETS_URL points at an outside 工单 system: the reference backend is not started."""
    url = urlparse(settings.tickets_url)
    return url.hostname in (settings.host, *LOCAL_HOSTS) and url.port == settings.tickets_port


def write_credentials(settings: Settings) -> Path:
    """Writes the Rasa credentials for the channels configured in the environment."""
    from channels.registry import credentials_for_env

    path = settings.var_dir / "credentials.yml"
    path.write_text(yaml.safe_dump(credentials_for_env(settings), allow_unicode=True), encoding="utf-8")
    return path


def answers(url: str) -> bool:
    """True when `url` answers 2xx within 2 s."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return 200 <= response.status < 300
    except OSError:
        return False


def _http_ready(url: str):
    return lambda: answers(url)


def rasa_command(settings: Settings, model: Path, credentials: Path, port: int) -> List[str]:
    """The command line of one Rasa server on `port` (Rasa's own command through stack/rasa_server.py, which
    keeps citizens' texts and secrets out of its log): its HTTP API behind the token, CORS limited to the
    Rasa server's own origin and the sites that embed the widget (never "*")."""
    return [
        *(sys.executable, "-m", "stack.rasa_server", "run", "--model", str(model), "--enable-api"),
        *("--auth-token", settings.rasa_token, "--port", str(port), "--interface", settings.host),
        *("--cors", *settings.rasa_cors_origins),
        *("--credentials", str(credentials), "--endpoints", "endpoints.yml"),
    ]


def services(settings: Settings, model: Path, credentials: Path) -> List[Service]:
    """The processes of the assistant, in start order (Redis, when the stack starts its own, comes first)."""
    python = sys.executable
    host = settings.host
    stack = []
    if runs_reference_tickets(settings):
        stack.append(Service("tickets", [python, "-m", "tickets"], _http_ready(f"{settings.tickets_url}/health")))
    stack += [
        Service("actions", [python, "-m", "actions"], _http_ready(f"http://{host}:{settings.actions_port}/health")),
        Service(
            "rasa",
            rasa_command(settings, model, credentials, settings.rasa_port),
            _http_ready(f"http://{host}:{settings.rasa_port}/status?token={settings.rasa_token}"),
        ),
        Service("console", [python, "-m", "console"], _http_ready(f"http://{host}:{settings.console_port}/health")),
    ]
    return stack


def _iso(timestamp: Optional[float]) -> Optional[str]:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _tcp_answers(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port or 80), timeout=1):
            return True
    except OSError:
        return False


class Stack:
    """The running assistant. Use as a context manager, or call start() and stop().

    `start_redis`: None starts a Redis only when none answers and REDIS_URL is unset; True always starts
    this stack's own (tests use a private one). `policy`: when to restart a crashed part.

    For measurements (bench/dialogue/load.py), never set by `bianmin run`: `launchers` maps a part's name
    (rasa, actions, ...) to the command that runs its Python module instead of `python -m` (a timer's or a
    profiler's, which then runs the module); `model` is served instead of the model of the current inputs (nothing is trained).
    """

    def __init__(
        self,
        settings: Settings,
        extra_env: Optional[Dict[str, str]] = None,
        start_redis: Optional[bool] = None,
        policy: Optional[RestartPolicy] = None,
        launchers: Optional[Dict[str, List[str]]] = None,
        model: Optional[Path] = None,
    ) -> None:
        self.settings = settings
        self.extra_env = extra_env or {}
        self.start_redis = start_redis
        self.policy = policy
        self.launchers = launchers or {}
        self.model = model
        self.log_dir = settings.var_dir / "logs"
        self.services: List[Service] = []
        self.supervisor: Optional[Supervisor] = None
        self.gateway: Optional[Gateway] = None
        self.started_at: Optional[float] = None
        self._log_handler: Optional[logging.Handler] = None

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
        self._log_to_file()
        own_redis = self._redis_service()
        model = self.model or ensure_model(self.settings, quiet=train_quietly)
        credentials = write_credentials(self.settings)
        self.services = ([own_redis] if own_redis else []) + services(self.settings, model, credentials)
        for service in self.services:
            launcher = self.launchers.get(service.name)
            if launcher and service.argv[1:2] == ["-m"]:  # [python, -m, module, ...] -> [*launcher, module, ...]
                service.argv = [*launcher, *service.argv[2:]]
        self.supervisor = Supervisor(self.services, self.env(), self.log_dir, self.policy)
        try:
            self._open_gateway()
            for service in self.services:
                self.supervisor.launch(service)
                if service is own_redis:  # the others need it from their first second
                    self.running.wait_ready([service], timeout)
            self.running.wait_ready(self.services, timeout)
        except BaseException:
            self.stop()
            raise
        self.started_at = time.time()
        self.supervisor.watch()
        return self

    def _log_to_file(self) -> None:
        self._log_handler = logging.FileHandler(self.log_dir / "stack.log", encoding="utf-8")
        self._log_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(self._log_handler)
        logger.setLevel(logging.INFO)

    def _redis_service(self) -> Optional[Service]:
        start = should_start_redis(self.settings) if self.start_redis is None else self.start_redis
        if not start:
            wait_for_redis(self.settings.redis_url)
            warn_if_redis_evicts(self.settings.redis_url)
            return None
        port = urlparse(self.settings.redis_url).port or 6379
        url = self.settings.redis_url
        argv = redis_argv(port, self.settings.var_dir / "redis", self.settings.redis_maxmemory)
        return Service("redis", argv, lambda: redis_reachable(url))

    def _open_gateway(self) -> None:
        s = self.settings
        self.gateway = Gateway(s.host, s.supervisor_port, create_app(self.status))
        try:
            self.gateway.start()
        except OSError as error:
            raise StackError(
                f"port {s.supervisor_port} is taken ({error.strerror}): is another `bianmin run` running? "
                "Set BIANMIN_SUPERVISOR_PORT to use another one."
            ) from error

    @property
    def running(self) -> Supervisor:
        """The supervisor of the started stack."""
        if self.supervisor is None:
            raise StackError("the stack is not started")
        return self.supervisor

    def service(self, name: str) -> Service:
        """The service called `name` (redis when the stack started it, tickets, actions, rasa, console)."""
        return next(service for service in self.services if service.name == name)

    def stop_service(self, name: str) -> None:
        """Stops one service on purpose: it is not restarted until start_service()."""
        self.running.stop(self.service(name))

    def start_service(self, name: str, timeout: float = 240.0) -> None:
        """Starts a service stopped with stop_service() again and waits until it answers."""
        service = self.service(name)
        self.running.launch(service)
        self.running.wait_ready([service], timeout)

    def stop(self) -> None:
        """Stops every child process (and a Redis this stack started), politely then firmly."""
        if self.gateway is not None:
            self.gateway.close()
        if self.supervisor is not None:
            self.supervisor.close()
        if self._log_handler is not None:
            logger.removeHandler(self._log_handler)
            self._log_handler.close()
        self.services, self.supervisor, self.gateway, self._log_handler = [], None, None, None

    def status(self) -> dict:
        """Every part, up or down, since when, restarts; the outbox's backlog: what /health answers."""
        from actions.outbox import Outbox

        with self.running.lock:
            parts = [service.record() for service in self.services]
        names = {part["name"] for part in parts}
        if "redis" not in names:
            parts.insert(0, self._outside("redis", redis_reachable(self.settings.redis_url, timeout=0.5)))
        if "tickets" not in names:
            parts.insert(
                1,
                {**self._outside("tickets", _tcp_answers(self.settings.tickets_url)), "url": self.settings.tickets_url},
            )
        for part in parts:
            part["since"] = _iso(part["since"])
        outbox = Outbox(self.settings.outbox_path).backlog()
        outbox["oldest_pending_at"] = _iso(outbox["oldest_pending_at"])
        return {
            "ok": all(part["state"] == UP for part in parts),
            "started_at": _iso(self.started_at),
            "stopping_because": self.running.fatal,
            "parts": parts,
            "outbox": outbox,
        }

    @staticmethod
    def _outside(name: str, answers: bool) -> dict:
        """A part this stack does not run (a configured Redis, an outside 工单 system): only probed."""
        return {
            "name": name,
            "state": UP if answers else "down",
            "since": None,
            "restarts": None,
            "pid": None,
            "last_exit": None,
            "supervised": False,
        }

    def urls(self) -> Dict[str, str]:
        """What a user opens or calls."""
        s = self.settings
        rasa = f"http://{s.host}:{s.rasa_port}"
        reference = runs_reference_tickets(s)
        return {
            "web chat": f"{rasa}/webhooks/webchat/",
            "widget demo": f"{rasa}/webhooks/webchat/demo",
            "REST channel": f"{rasa}/webhooks/rest/webhook",
            "Rasa HTTP API": f"{rasa} (token: {s.rasa_token})",
            "ticket backend": s.tickets_url
            + (" (OpenAPI: /openapi.yaml)" if reference else " (outside; not started here)"),
            "agent console": f"http://{s.host}:{s.console_port}/",
            "health": f"{s.health_url} (or: bianmin status)",
        }

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
    """`bianmin run`: start everything, print the URLs, keep the parts running, stop cleanly on Ctrl-C."""
    import threading

    from bot.log_privacy import make_private, private_umask, rotate_logs
    from stack.purge import scheduled as scheduled_purge

    private_umask()  # everything the stack and its parts write (var/, SQLite, logs, Redis files): owner only
    make_private([settings.var_dir])
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setFormatter(logging.Formatter("%(asctime)s bianmin: %(message)s", "%H:%M:%S"))
    logger.addHandler(terminal)
    stack = Stack(settings)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        stack.start()
        print("\nBianmin is running:")
        for name, url in stack.urls().items():
            print(f"  {name:15} {url}")
        hint = console_login_hint(settings)
        if hint and not sys.stdout.isatty():  # output kept in a file: the password stays in its own 600 file
            hint = f"admin / (password in {settings.var_dir / 'console-admin-password.txt'})"
        if hint:
            print(f"  first login     {hint}   (then: bianmin agents add NAME; bianmin agents passwd admin)")
        print(
            f"  logs            {stack.log_dir}\nChat in the terminal: .venv/bin/bianmin shell   Stop: Ctrl-C\n",
            flush=True,
        )
        ticks = 0
        while not stopping and stack.running.fatal is None:
            time.sleep(1)
            ticks += 1
            if ticks % 60 == 0:
                rotate_logs(stack.log_dir)
            if ticks % 3600 == 600:  # retention (BIANMIN_RETENTION_DAYS): 10 minutes after start, then hourly
                threading.Thread(target=scheduled_purge, args=(settings,), name="bianmin-purge", daemon=True).start()
        if stack.running.fatal is not None:
            raise StackError(f"{stack.running.fatal}. Stopping everything.")
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
        for name in ("rasa_port", "actions_port", "tickets_port", "console_port", "supervisor_port")
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
