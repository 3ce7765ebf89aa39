"""No loop and no dead conversation (issue 14): every intent in every dialogue state, through the trained
model in process (rasa Agent) and the real action server.

States: fresh, after the greeting, after an answer, each question of the complaint form and its confirm
step, the ticket look-up, queued for a human, after the hand-back (bench/dialogue builds them). Each
intent is sent as its button payload (`/intent`), and the short acknowledgements of the former loop as
text. Every turn: at most 3 bot messages, none twice, no action predicted 3 times, the turn ends
listening (or paused for the agent), and the next question of the conversation is still answered.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest

from bench.dialogue.__main__ import NEXT_QUESTION, Bench, states
from bot.settings import ROOT, load
from stack.training import ensure_model
from tests.ticket_backend.conftest import unused_port

ACKNOWLEDGEMENTS = ["好的", "嗯", "嗯嗯", "行", "知道了", "没有了", "ok", "人呢"]
EXTERNAL = ("EXTERNAL_",)  # sent by the backend and the console, not by citizens


@pytest.fixture(scope="module")
def action_server(tmp_path_factory, redis_url):
    var = tmp_path_factory.mktemp("var")
    port = unused_port()
    env = dict(
        os.environ,
        BIANMIN_VAR_DIR=str(var),
        BIANMIN_ACTIONS_PORT=str(port),
        REDIS_URL=redis_url,
        BIANMIN_EMBEDDINGS_CACHE=str(load().embeddings_cache),
        BIANMIN_TICKETS_URL="http://127.0.0.1:9",
    )
    log = (var / "actions.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "actions"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 240
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5):
                break
        except (urllib.error.URLError, OSError):
            assert server.poll() is None and time.monotonic() < deadline, (var / "actions.log").read_text()[-3000:]
            time.sleep(0.5)
    yield f"http://127.0.0.1:{port}/webhook"
    server.terminate()
    server.wait(timeout=30)
    log.close()


def check(turn, paused_ok: bool = False) -> list:
    problems = []
    if len(turn["texts"]) > 3:
        problems.append(f"{len(turn['texts'])} messages")
    if any(n > 1 for n in Counter(turn["texts"]).values()):
        problems.append("a message twice")
    if len(turn["actions"]) >= 10 or any(n >= 3 for n in Counter(turn["actions"]).values()):
        problems.append(f"loop {turn['actions']}")
    if not turn["listening"]:
        problems.append("not listening")
    if not turn["texts"] and not (paused_ok and turn["paused"]):
        problems.append("no reply")
    return problems


TRACKER_RESETS = {"restart", "back", "session_start"}


async def test_every_intent_in_every_state_ends_listening(action_server):
    bench = Bench(str(ensure_model(load(), quiet=True)), action_server)
    # Rasa's own /restart, /back and /session_start reset or rewind the tracker; no channel passes them
    # (channels/guard.py refuses payloads the bot did not offer)
    intents = [
        name for name in bench.agent.domain.intents if not name.startswith(EXTERNAL) and name not in TRACKER_RESETS
    ]
    failures = []
    for state, source in await states(bench):
        for index, message in enumerate([f"/{name}" for name in intents] + ACKNOWLEDGEMENTS):
            sender = f"test-{source}-{index}"
            if source != "state-fresh":
                await bench.clone(source, sender)
            turn = await bench.turn(sender, message)
            problems = check(turn, paused_ok=True)
            if not turn["paused"]:
                follow = await bench.turn(sender, NEXT_QUESTION)
                problems += [f"next question: {p}" for p in check(follow, paused_ok=True)]
            if problems:
                failures.append(f"{state} + {message}: {', '.join(problems)} ({turn['responses']})")
    assert not failures, "\n".join(failures)
