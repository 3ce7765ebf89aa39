"""End to end: the running action server (`python -m actions`) routes with a newly learned model, no restart."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request

import yaml

from bot.routing.learned import LEARNED_FILE
from bot.settings import ROOT
from tests.conftest import running_action_server
from tests.routing.conftest import UNSEEN_COURIER


def forms() -> dict:
    """The forms of the project's domain (domain/*.yml), as Rasa sends them to the action server."""
    found = {}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        found.update((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("forms") or {})
    return found


def predicted_category(webhook: str) -> str:
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
    request = urllib.request.Request(webhook, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        events = json.loads(response.read())["events"]
    values = [e["value"] for e in events if e.get("event") == "slot" and e.get("name") == "predicted_category"]
    return values[-1]  # the form's slots are first reset, then set


def test_the_action_server_serves_a_new_model_without_restart(tmp_path, seeded_cache, learned_cache, redis_url):
    shutil.copytree(seeded_cache, tmp_path / "routing")  # the zero-shot model, already trained
    with running_action_server(tmp_path, redis_url) as webhook:  # fails if the process stops: not restarted
        assert predicted_category(webhook) == "交通运输"  # zero-shot: the examples' convention

        shutil.copy(learned_cache / LEARNED_FILE, tmp_path / "routing" / LEARNED_FILE)  # what `routing learn` writes
        deadline = time.monotonic() + 20
        while predicted_category(webhook) != "商贸旅游":
            assert time.monotonic() < deadline, "the running action server kept the old model"
            time.sleep(0.5)
