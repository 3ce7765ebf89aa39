"""Every turn ends listening, and a conversation an older version left without listening answers again."""

from __future__ import annotations

from types import SimpleNamespace

from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlu import turn_guard


def tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("citizen", [ActionExecuted("action_session_start"), *events])


def test_the_limit_counts_the_current_turn_only():
    # a conversation left dead by Rasa's circuit breaker: ten fallbacks and no action_listen, then a new message
    dead = tracker(
        ActionExecuted("action_listen"),
        UserUttered("好的"),
        *[ActionExecuted("action_fallback")] * 10,
        UserUttered("转人工"),
    )
    processor = SimpleNamespace(max_number_of_predictions=10)
    assert turn_guard.actions_this_turn(dead) == 0
    assert not turn_guard.is_action_limit_reached(processor, dead, True)
    looping = tracker(ActionExecuted("action_listen"), UserUttered("好的"), *[ActionExecuted("action_fallback")] * 10)
    assert turn_guard.is_action_limit_reached(processor, looping, True)
    assert not turn_guard.is_action_limit_reached(processor, looping, False)


async def test_a_turn_stopped_by_the_breaker_is_closed_with_listen(monkeypatch):
    async def breaker(self, output_channel, tracker):
        tracker.update(ActionExecuted("action_fallback"))
        tracker.update(BotUttered("抱歉"))

    monkeypatch.setattr(turn_guard, "_original_run_prediction_loop", breaker)
    conversation = tracker(ActionExecuted("action_listen"), UserUttered("好的"))
    await turn_guard.run_prediction_loop(SimpleNamespace(), None, conversation)
    assert conversation.latest_action_name == "action_listen"


async def test_a_failing_turn_is_closed_with_listen_and_raises(monkeypatch):
    async def failing(self, output_channel, tracker):
        tracker.update(ActionExecuted("action_answer_faq"))
        raise RuntimeError("action server gone")

    monkeypatch.setattr(turn_guard, "_original_run_prediction_loop", failing)
    conversation = tracker(ActionExecuted("action_listen"), UserUttered("暖气不热"))
    try:
        await turn_guard.run_prediction_loop(SimpleNamespace(), None, conversation)
    except RuntimeError:
        pass
    assert conversation.latest_action_name == "action_listen"


def test_installed_with_the_nlu_components():
    from rasa.core.processor import MessageProcessor

    import bot.nlu  # noqa: F401  (installs the guard, as loading the model does)

    assert MessageProcessor.is_action_limit_reached is turn_guard.is_action_limit_reached
