"""Every turn ends listening: a safety net around Rasa's prediction loop (installed when the model loads).

Rasa stops a turn after 10 predicted actions (its "circuit breaker") and leaves the tracker without a
final `action_listen`. Rasa counts the actions since the last `action_listen`, so every later message of
that conversation trips the breaker again at once: the conversation is dead, 转人工 included. Two
changes make that impossible:

- the limit counts the actions of the current turn only (since the latest user message), so a
  conversation that an older version left without `action_listen` answers its next message;
- a turn that stopped without listening (the breaker, or an action that failed) gets `action_listen`
  appended, so the next message starts a normal turn.

The dialogue itself must not loop in the first place (actions/faq.py: the fallback ends listening);
this is the net under it.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

_original_run_prediction_loop = MessageProcessor._run_prediction_loop


def actions_this_turn(tracker: DialogueStateTracker) -> int:
    """Actions predicted since the latest user message (or listen / session start)."""
    count = 0
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted):
            if event.action_name in (ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME):
                break
            count += 1
    return count


def is_action_limit_reached(
    self: MessageProcessor, tracker: DialogueStateTracker, should_predict_another_action: bool
) -> bool:
    """Rasa's check, counting the current turn's actions only."""
    return should_predict_another_action and actions_this_turn(tracker) >= self.max_number_of_predictions


async def run_prediction_loop(self: MessageProcessor, output_channel: Any, tracker: DialogueStateTracker) -> None:
    """Rasa's loop; a turn that did not end listening is closed with `action_listen`."""
    try:
        await _original_run_prediction_loop(self, output_channel, tracker)
    finally:
        if (
            not tracker.is_paused()
            and tracker.latest_action_name not in (ACTION_LISTEN_NAME, None)
            and tracker.events
            and not isinstance(tracker.events[-1], UserUttered)
        ):
            logger.warning("A turn ended without listening (%s); closing it.", tracker.latest_action_name)
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))


def install() -> None:
    """Patches MessageProcessor once (idempotent)."""
    if getattr(MessageProcessor, "_bianmin_turn_guard", False):
        return
    MessageProcessor.is_action_limit_reached = is_action_limit_reached  # type: ignore[method-assign]
    MessageProcessor._run_prediction_loop = run_prediction_loop  # type: ignore[method-assign]
    MessageProcessor._bianmin_turn_guard = True  # type: ignore[attr-defined]
