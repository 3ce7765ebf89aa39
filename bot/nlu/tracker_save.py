"""Rasa's Redis tracker store saves a tracker without reading it back first, when nothing changed it since.

`RedisTrackerStore.save` (Rasa 3.6) reads and deserialises the stored tracker again before every save, to
merge it with the one being saved: `retrieve` gives the processor only the latest conversation session, so
the earlier sessions must be put back, and a tracker someone else saved in between is merged rather than
overwritten. That is one more synchronous Redis round trip and one more deserialisation a turn, both on
the Rasa server's one event loop (bench/dialogue/LOAD.md).

`retrieve` itself, to return the latest session, splits the stored tracker into its sessions, building a
tracker of each (replaying its events), even when it holds a single session and is returned as it was read:
here a single session is recognised without the split.

A tracker that `retrieve` read whole (the stored value held one session, or all were asked for) or
that this store saved whole keeps the SHA-1 of the stored text it came from. Saving it is then one atomic
compare-and-set in Redis (a Lua script): the new text is written only if the stored text still has that
digest, that is, nothing was written since the tracker was read: the merge would have given the tracker
itself. Otherwise (another writer came first, the tracker held only the latest of several sessions, a copy
of a tracker, an unusual expiry) the save is Rasa's own: read, merge, write.
"""

from __future__ import annotations

import hashlib
import itertools
import weakref
from typing import Dict, Optional, Text, Tuple

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker, get_trackers_for_conversation_sessions

ABSENT = ""  # the digest of a key that does not exist
# the new text is written only if the stored one has the digest ARGV[1] (ABSENT: no stored text); EX ARGV[3]
REPLACE_IF_UNCHANGED = """
local stored = redis.call('GET', KEYS[1])
local digest = ''
if stored then digest = redis.sha1hex(stored) end
if digest ~= ARGV[1] then return 0 end
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return 1
"""

_original_retrieve = RedisTrackerStore._retrieve
_original_save = RedisTrackerStore.save
# id(tracker) -> (a weak reference to it, digest of the stored text it equals, its number of events then)
_stored_as: Dict[int, Tuple["weakref.ref[DialogueStateTracker]", str, int]] = {}


def digest(text: Optional[Text]) -> str:
    """SHA-1 (hex) of a stored tracker's text, as Redis's `redis.sha1hex` computes it; ABSENT for None."""
    return ABSENT if text is None else hashlib.sha1(text.encode("utf-8")).hexdigest()


def remember(tracker: DialogueStateTracker, stored_digest: str) -> None:
    """`tracker` holds exactly the stored text whose digest is `stored_digest`."""
    key = id(tracker)

    def forget(reference: "weakref.ref[DialogueStateTracker]") -> None:
        entry = _stored_as.get(key)
        if entry is not None and entry[0] is reference:
            del _stored_as[key]

    _stored_as[key] = (weakref.ref(tracker, forget), stored_digest, len(tracker.events))


def stored_digest_of(tracker: DialogueStateTracker) -> Optional[str]:
    """The digest of the stored text `tracker` was read as or saved as, or None if unknown."""
    entry = _stored_as.get(id(tracker))
    if entry is None or len(tracker.events) < entry[2] or entry[0]() is not tracker:
        return None
    return entry[1]


def forget(tracker: DialogueStateTracker) -> None:
    _stored_as.pop(id(tracker), None)


async def _retrieve(
    self: RedisTrackerStore, sender_id: Text, fetch_all_sessions: bool
) -> Optional[DialogueStateTracker]:
    """Rasa's `RedisTrackerStore._retrieve`; a tracker returned whole remembers the stored text's digest."""
    stored = self.red.get(self.key_prefix + sender_id)
    if stored is None:
        return None
    tracker = self.deserialise_tracker(sender_id, stored)
    if tracker is None or fetch_all_sessions:
        if tracker is not None:
            remember(tracker, digest(stored))
        return tracker
    if not _starts_another_session(tracker):  # one session: Rasa splits it (replaying it) to return it whole
        remember(tracker, digest(stored))
        return tracker
    sessions = get_trackers_for_conversation_sessions(tracker)
    if len(sessions) <= 1:
        return tracker
    return sessions[-1]  # the earlier sessions are merged back by Rasa's save


def _starts_another_session(tracker: DialogueStateTracker) -> bool:
    """True if a session starts after the first event (Rasa's split would then give several sessions)."""
    return any(
        isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME
        for event in itertools.islice(tracker.events, 1, None)
    )


async def save(self: RedisTrackerStore, tracker: DialogueStateTracker, timeout: Optional[float] = None) -> None:
    """Rasa's `RedisTrackerStore.save`, without the read and the merge when nothing was written since."""
    await self.stream_events(tracker)
    if not timeout and self.record_exp:
        timeout = self.record_exp
    key = self.key_prefix + tracker.sender_id
    read_as = stored_digest_of(tracker)
    if read_as is not None and (timeout is None or isinstance(timeout, int)):
        text = self.serialise_tracker(tracker)
        expiry = "" if timeout is None else str(timeout)
        if _replace_if_unchanged(self)(keys=[key], args=[read_as, text, expiry]):
            remember(tracker, digest(text))
            return
    # Rasa's own save: merge with what is stored
    stored = self.red.get(key)
    saved = tracker
    if stored is not None:
        prior_tracker = self.deserialise_tracker(tracker.sender_id, stored)
        saved = self._merge_trackers(prior_tracker, tracker)  # type: ignore[arg-type]
    text = self.serialise_tracker(saved)
    self.red.set(key, text, ex=timeout)  # type: ignore[arg-type]
    if saved is tracker:
        remember(tracker, digest(text))
    else:
        forget(tracker)


def _replace_if_unchanged(store: RedisTrackerStore):  # type: ignore[no-untyped-def]
    script = getattr(store, "_bianmin_replace_if_unchanged", None)
    if script is None:
        script = store.red.register_script(REPLACE_IF_UNCHANGED)
        store._bianmin_replace_if_unchanged = script  # type: ignore[attr-defined]
    return script


def install() -> None:
    """Patches RedisTrackerStore (idempotent)."""
    RedisTrackerStore._retrieve = _retrieve  # type: ignore[method-assign]
    RedisTrackerStore.save = save  # type: ignore[method-assign]
