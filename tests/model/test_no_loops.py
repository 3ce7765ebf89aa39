"""No loop and no dead conversation (issue 14): every intent in every dialogue state, through the trained
model in process (rasa Agent) and the real action server.

States: fresh, after the greeting, after an answer, each question of the complaint form and its confirm
step, the ticket look-up, queued for a human, after the hand-back (bench/dialogue builds them). Each
intent is sent as its button payload (`/intent`), and the short acknowledgements of the former loop as
text; a fresh conversation also gets first messages that start the complaint form with details in them. Every turn: at most 3 bot messages, none twice, no action predicted 3 times, the turn ends
listening (or paused for the agent), and the next question of the conversation is still answered.
"""

from __future__ import annotations

from collections import Counter

import pytest

from bench.dialogue.__main__ import NEXT_QUESTION, Bench, states
from bot.settings import load
from stack.training import ensure_model
from tests.conftest import running_action_server

ACKNOWLEDGEMENTS = ["好的", "嗯", "嗯嗯", "行", "知道了", "没有了", "ok", "人呢"]
# first messages that start the complaint form with details in them (some unusable: "A市", "A1区", "12345"):
# the form's start, its first question and nothing more
FORM_STARTS = [
    "我要投诉南开区幸福路12号的饭馆油烟太大，每天晚上呛得没法开窗，我的电话是13812345678",
    "反映A市A1区幸福小区的路灯坏了两个多月，晚上一片漆黑，电话12345",
    "投诉A1区新安村八组拆迁补偿至今没有落实，我是村民张三，多次找镇政府都没有结果",
]
EXTERNAL = ("EXTERNAL_",)  # sent by the backend and the console, not by citizens


@pytest.fixture(scope="module")
def action_server(tmp_path_factory, redis_url):
    with running_action_server(tmp_path_factory.mktemp("var"), redis_url) as webhook:
        yield webhook


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
        messages = [f"/{name}" for name in intents] + ACKNOWLEDGEMENTS + (FORM_STARTS if state == "fresh" else [])
        for index, message in enumerate(messages):
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
