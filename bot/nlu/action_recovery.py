"""An action call that fails still answers the citizen (installed when the model loads).

Rasa 3.6 logs "Encountered an exception while running action ..." when an action call fails (connection
refused while the action server restarts, a 5xx, a time-out, a 502 from a cluster's load balancer for a
call in flight when its action server died), drops the action's events and says nothing to the citizen.
Here the failed call gets bot/recovering.py's answer: the notice once per citizen message, and for a
form's validation action the slots of the citizen's message undone, so that the form asks its question
again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, List

from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.shared.core.events import Event, deserialise_events
from rasa.shared.core.trackers import EventVerbosity
from rasa.shared.exceptions import RasaException

from bot.recovering import RecoveryAnswers

logger = logging.getLogger(__name__)

_original_run = RemoteAction.run
_answers = RecoveryAnswers()


async def run(self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
    """Rasa's remote action; when the call fails, the recovery answer instead of nothing."""
    try:
        return await _original_run(self, output_channel, nlg, tracker, domain)
    except ActionExecutionRejection:
        raise  # the action server's own "not me": Rasa lets another policy decide
    except (RasaException, asyncio.TimeoutError) as error:
        if self.action_endpoint is None:
            raise  # a configuration error, not a failure to recover from
        logger.error("Action %s failed (%s); the citizen is told to send the message again.", self.name(), error)
        call = {
            "next_action": self.name(),
            "tracker": tracker.current_state(EventVerbosity.ALL),
            "domain": domain.as_dict(),
        }
        answer = _answers.answer(call)
        messages = await self._utter_responses(answer["responses"], output_channel, nlg, tracker)
        return [*messages, *deserialise_events(answer["events"])]


def install() -> None:
    """Patches RemoteAction once (idempotent)."""
    if getattr(RemoteAction, "_bianmin_recovery", False):
        return
    RemoteAction.run = run  # type: ignore[method-assign]
    RemoteAction._bianmin_recovery = True  # type: ignore[attr-defined]
