"""bot.rasa_client.trigger_intent against a fake Rasa HTTP API on 127.0.0.1, and the `python -m tickets` entry."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace

from bot.rasa_client import trigger_intent
from bot.settings import ROOT, load


async def test_trigger_intent_speaks_the_rasa_api(fake_rasa):
    settings = replace(load(), rasa_url=fake_rasa.url + "/", rasa_token="secret")
    assert await trigger_intent(settings, "wx/user 1", "EXTERNAL_ticket_update", {"ticket_number": "BM261122K7M4Q9XZ"})
    assert fake_rasa.calls == [
        {
            "sender_id": "wx/user 1",
            "query": {"output_channel": "latest", "token": "secret"},
            "body": {"name": "EXTERNAL_ticket_update", "entities": {"ticket_number": "BM261122K7M4Q9XZ"}},
        }
    ]


async def test_trigger_intent_returns_false_instead_of_raising(fake_rasa, dead_url):
    fake_rasa.status = 500
    assert not await trigger_intent(replace(load(), rasa_url=fake_rasa.url), "s", "EXTERNAL_handback")
    assert not await trigger_intent(replace(load(), rasa_url=dead_url), "s", "EXTERNAL_handback", timeout=0.5)


def test_python_m_tickets_serves_the_backend(tmp_path, dead_url):
    port = int(dead_url.rsplit(":", 1)[1])
    env = {**os.environ, "BIANMIN_TICKETS_PORT": str(port), "BIANMIN_VAR_DIR": str(tmp_path / "var")}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tickets"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert process.poll() is None, process.stdout.read().decode()
                assert time.monotonic() < deadline, "the ticket backend did not answer /health"
                time.sleep(0.1)
        assert (tmp_path / "var" / "tickets.sqlite3").exists()  # the default database, folder created
    finally:
        process.terminate()
        process.wait(timeout=10)
