"""End to end: the running action server (`python -m actions`) routes with a newly learned model, no restart."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

import yaml

from bot.routing.learned import LEARNED_FILE
from bot.settings import ROOT, load
from tests.routing.conftest import UNSEEN_COURIER
from tests.ticket_backend.conftest import unused_port

START_TIMEOUT = 240  # the server loads the knowledge base, jieba and the routing model before answering


def _get(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def forms() -> dict:
    """The forms of the project's domain (domain/*.yml), as Rasa sends them to the action server."""
    found = {}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        found.update((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("forms") or {})
    return found


def predicted_category(port: int) -> str:
    """The category action_start_complaint predicts for a courier complaint, through the server's webhook."""
    message = f"我要投诉，{UNSEEN_COURIER}"
    tracker = {
        "sender_id": "routing-test",
        "slots": {},
        "latest_message": {"text": message, "entities": [], "intent": {}},
        "events": [],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": None,
    }
    body = json.dumps(
        {
            "next_action": "action_start_complaint",
            "sender_id": "routing-test",
            "tracker": tracker,
            "domain": {"forms": forms()},
            "version": "3.6.0",
        }
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhook", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        events = json.loads(response.read())["events"]
    values = [e["value"] for e in events if e.get("event") == "slot" and e.get("name") == "predicted_category"]
    return values[-1]  # the form's slots are first reset, then set


def test_the_action_server_serves_a_new_model_without_restart(tmp_path, seeded_cache, learned_cache, redis_url):
    shutil.copytree(seeded_cache, tmp_path / "routing")  # the zero-shot model, already trained
    port = unused_port()
    env = dict(
        os.environ,
        BIANMIN_VAR_DIR=str(tmp_path),
        BIANMIN_ACTIONS_PORT=str(port),
        REDIS_URL=redis_url,
        BIANMIN_EMBEDDINGS_CACHE=str(load().embeddings_cache),
        BIANMIN_TICKETS_URL="http://127.0.0.1:9",
    )
    log = (tmp_path / "actions.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "actions"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        _serve_and_learn(server, port, tmp_path, learned_cache)
    except Exception:
        print((tmp_path / "actions.log").read_text()[-3000:])  # the server's side of a failure
        raise
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _serve_and_learn(server, port, tmp_path, learned_cache) -> None:
    if True:
        deadline = time.monotonic() + START_TIMEOUT
        while not _get(f"http://127.0.0.1:{port}/health"):
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "actions.log").read_text()
            time.sleep(0.5)
        assert predicted_category(port) == "交通运输"  # zero-shot: the examples' convention

        shutil.copy(learned_cache / LEARNED_FILE, tmp_path / "routing" / LEARNED_FILE)  # what `routing learn` writes
        deadline = time.monotonic() + 20
        while predicted_category(port) != "商贸旅游":
            assert time.monotonic() < deadline, "the running action server kept the old model"
            time.sleep(0.5)
        assert server.poll() is None  # same process: not restarted
