"""The knowledge base: entries of faq/*.yml, their retrieval, the answer/suggest/none decision, and
the process-wide instance that follows edits of faq/ without restart."""

from __future__ import annotations

import ctypes
import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, cast

import numpy as np

from bot.embeddings import DIMENSIONS
from bot.kb import semantic
from bot.kb.entries import Entry, FaqError, faq_files, load_file
from bot.kb.index import Bags, Index
from bot.kb.semantic import SentenceVectors, shared_sentence_vectors
from bot.kb.text import features

logger = logging.getLogger(__name__)

# An entry's score is its best question's similarity, plus these shares of the similarity of all its
# questions taken together (words spread over several phrasings) and of its answer.
POOLED_SHARE = 0.5
ANSWER_SHARE = 1.2
# decide(): answer when the top hit reaches ANSWER_MIN and leads the next one by ANSWER_MARGIN;
# suggest the hits that reach SUGGEST_MIN; otherwise admit not knowing. Tuned on bench/faq.
ANSWER_MIN = 0.6
ANSWER_MARGIN = 0.12  # a hotline would rather suggest than answer the wrong question
SUGGEST_MIN = 0.35
# With sentence embeddings, the score is this mix of the word score above and the semantic score;
# the SEMANTIC_CANDIDATES entries closest in meaning are ranked even if they share no word.
SEMANTIC_SHARE = 0.5
SEMANTIC_CANDIDATES = 8
RELOAD_INTERVAL = 2.0
CANDIDATES = 64

Stamp = Tuple[int, int]


@dataclass(frozen=True)
class Hit:
    """A retrieved entry with a confidence-like score between 0 and 1."""

    entry: Entry
    score: float


@dataclass(frozen=True)
class _File:
    """One parsed faq file; `bags` (its analysed questions, pooled questions and answers) is set only
    until the next index build, which takes them in. Unchanged files are never re-analysed: a rebuild
    takes their bags back out of the current indexes."""

    stamp: Stamp
    entries: List[Entry]
    vectors: Optional[np.ndarray]  # one sentence embedding per entry, when embeddings are on
    bags: Optional[Tuple[Bags, Bags, Bags]] = None


def _analyse(stamp: Stamp, entries: List[Entry], meaning: Optional[SentenceVectors]) -> _File:
    vectors = meaning.learn([semantic.entry_text(entry.questions) for entry in entries]) if meaning else None
    return _File(
        stamp,
        entries,
        vectors,
        (
            Bags.of(features(q) for entry in entries for q in entry.questions),
            Bags.of(features(" \n ".join(entry.questions)) for entry in entries),
            Bags.of(features(entry.answer) for entry in entries),
        ),
    )


def _stamp(path: Path) -> Stamp:
    status = path.stat()
    return status.st_mtime_ns, status.st_size


class KnowledgeBase:
    """Searchable entries; build with `from_dir` (a directory of faq YAML files) or `from_entries`."""

    def __init__(
        self,
        files: Dict[str, _File],
        meaning: Optional[SentenceVectors],
        directory: Optional[Path] = None,
        reload_interval: Optional[float] = None,
    ):
        self.meaning = meaning
        self.directory = directory
        self.reload_interval = reload_interval
        self._files = files
        self._rejected: Dict[str, Stamp] = {}
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._build()

    @classmethod
    def from_dir(
        cls, directory: Path, reload_interval: Optional[float] = None, semantic_search: bool = True
    ) -> "KnowledgeBase":
        """Loads every *.yml of `directory`; raises FaqError naming the file and entry if one is invalid.

        With `reload_interval` (seconds), searches re-check the files at most that often and re-index
        only the files that changed; an invalid edit is logged and the previous version kept.
        `semantic_search=False` ranks by words alone (benchmarks compare both).
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise FaqError(f"{directory}: the knowledge base directory does not exist")
        meaning = shared_sentence_vectors() if semantic_search else None
        files = {str(path): _analyse(_stamp(path), load_file(path), meaning) for path in faq_files(directory)}
        _check_unique(files)
        return cls(files, meaning, directory, reload_interval)

    @classmethod
    def from_entries(cls, entries: Sequence[Entry], semantic_search: bool = True) -> "KnowledgeBase":
        """An in-memory knowledge base (benchmarks, tests); ids must be unique."""
        meaning = shared_sentence_vectors() if semantic_search else None
        files = {"<memory>": _analyse((0, 0), list(entries), meaning)}
        _check_unique(files)
        return cls(files, meaning)

    def _build(self) -> None:
        """Indexes the files in order; afterwards they hold no bags (the indexes have them)."""
        parts: List[Tuple[Bags, Bags, Bags]] = []
        ranges: Dict[str, Tuple[Tuple[int, int], ...]] = {}
        firsts = [0, 0, 0]
        for key, cached in self._files.items():
            bags = cached.bags or self._taken_back(key)
            parts.append(bags)
            ranges[key] = tuple((first, first + part.size) for first, part in zip(firsts, bags))
            firsts = [end for _, end in ranges[key]]
            self._files[key] = _File(cached.stamp, cached.entries, cached.vectors)
        entries = [entry for cached in self._files.values() for entry in cached.entries]
        self._vectors = (
            np.vstack(
                [cast(np.ndarray, cached.vectors) for cached in self._files.values()]
                or [np.zeros((0, DIMENSIONS), dtype=np.float32)]
            )
            if self.meaning
            else None
        )
        if self._vectors is not None:  # files keep views into the stacked vectors: one copy in memory
            first = 0
            for key, cached in self._files.items():
                end = first + len(cached.entries)
                self._files[key] = _File(cached.stamp, cached.entries, self._vectors[first:end])
                first = end
        counts = [len(entry.questions) for entry in entries]
        self._entries = entries
        self._by_id = {entry.id: entry for entry in entries}
        self._question_owner = np.repeat(np.arange(len(entries), dtype=np.int32), counts)
        self._first_question = np.concatenate(([0], np.cumsum(counts, dtype=np.int64)))
        self._indexes = tuple(Index([bags[n] for bags in parts]) for n in range(3))
        self._questions, self._pooled, self._answers = self._indexes
        self._ranges = ranges
        _release_free_memory()

    def _taken_back(self, key: str) -> Tuple[Bags, Bags, Bags]:
        """The bags of an already indexed, unchanged file, taken out of the current indexes."""
        bags = tuple(index.part(first, end) for index, (first, end) in zip(self._indexes, self._ranges[key]))
        return cast(Tuple[Bags, Bags, Bags], bags)

    def __len__(self) -> int:
        self._maybe_reload()
        return len(self._entries)

    @property
    def entries(self) -> List[Entry]:
        """All entries, in file order (including expired and channel-limited ones)."""
        self._maybe_reload()
        return list(self._entries)

    def index_nbytes(self) -> int:
        """Memory held by the numpy arrays of the question, pooled-question and answer indexes."""
        return sum(index.nbytes() for index in self._indexes)

    def get(self, entry_id: str) -> Optional[Entry]:
        """The entry with this id, or None."""
        self._maybe_reload()
        return self._by_id.get(entry_id)

    def search(
        self, text: str, k: int = 3, channel: Optional[str] = None, today: Optional[dt.date] = None
    ) -> List[Hit]:
        """Up to `k` entries for a citizen's question, best first; only entries valid on `today` and
        available on `channel`. Blank or meaningless text gives an empty list."""
        self._maybe_reload()
        query = features(text or "")
        if not query or k <= 0 or not self._entries:
            return []
        today = today or dt.date.today()
        question_scores = self._questions.scores(query)
        entry_scores = POOLED_SHARE * self._pooled.scores(query) + ANSWER_SHARE * self._answers.scores(query)
        meaning = semantic.score(self._vectors @ self.meaning.encode(text)) if self.meaning else None
        limit = CANDIDATES
        while True:
            hits = self._rank(question_scores, entry_scores, meaning, limit, channel, today)
            if len(hits) >= k or limit >= len(question_scores):
                return hits[:k]
            limit *= 4

    def _rank(
        self,
        question_scores: np.ndarray,
        entry_scores: np.ndarray,
        meaning: Optional[np.ndarray],
        limit: int,
        channel: Optional[str],
        today: dt.date,
    ) -> List[Hit]:
        candidates = set(self._question_owner[_top(question_scores, limit)].tolist())
        candidates.update(_top(entry_scores, limit).tolist())
        if meaning is not None:
            candidates.update(_top(meaning, SEMANTIC_CANDIDATES * limit // CANDIDATES).tolist())
        hits = []
        for index in candidates:
            entry = self._entries[index]
            best_question = float(question_scores[self._first_question[index] : self._first_question[index + 1]].max())
            score = min(1.0, best_question + float(entry_scores[index]))
            if meaning is not None:
                score = (1 - SEMANTIC_SHARE) * score + SEMANTIC_SHARE * float(meaning[index])
            if score > 0 and entry.available(channel, today):
                hits.append(Hit(entry, round(score, 4)))
        hits.sort(key=lambda hit: (-hit.score, hit.entry.id))
        return hits

    @staticmethod
    def decide(hits: Sequence[Hit]) -> str:
        """ "answer" (top hit confident and clearly ahead), "suggest" (plausible hits) or "none"."""
        if not hits or hits[0].score < SUGGEST_MIN:
            return "none"
        runner_up = hits[1].score if len(hits) > 1 else 0.0
        if hits[0].score >= ANSWER_MIN and hits[0].score - runner_up >= ANSWER_MARGIN:
            return "answer"
        return "suggest"

    def _maybe_reload(self) -> None:
        if self.reload_interval is None or time.monotonic() - self._checked < self.reload_interval:
            return
        with self._lock:
            if time.monotonic() - self._checked >= self.reload_interval:
                self.reload()
                self._checked = time.monotonic()

    def reload(self) -> bool:
        """Re-reads the files of the directory that changed, appeared or vanished; True if any did.

        A file that became invalid keeps its previous version (the error is logged)."""
        if self.directory is None:
            return False
        stamps = {str(path): _stamp(path) for path in faq_files(self.directory)} if self.directory.is_dir() else {}
        files = {key: cached for key, cached in self._files.items() if stamps.get(key) == cached.stamp}
        for key in sorted(set(stamps) - set(files)):
            if self._rejected.get(key) == stamps[key]:
                if key in self._files:
                    files[key] = self._files[key]
                continue
            try:
                files[key] = _analyse(stamps[key], load_file(Path(key)), self.meaning)
                _check_unique(files)
            except FaqError as error:
                logger.error("knowledge base: %s; keeping the previous version of this file", error)
                self._rejected[key] = stamps[key]
                files.pop(key, None)
                if key in self._files:
                    files[key] = self._files[key]
        changed = files.keys() != self._files.keys() or any(files[k] is not self._files[k] for k in files)
        if changed:
            self._files = files
            self._build()
            logger.info("knowledge base reloaded: %d entries", len(self._entries))
        return changed


def _release_free_memory() -> None:
    """Hands the heap freed by an index build back to the OS (glibc keeps it otherwise: at 20,000
    entries the build's temporaries would stay resident, about 100 MiB); a no-op elsewhere."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _top(scores: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the `limit` highest non-zero scores (unordered)."""
    if len(scores) > limit:
        indices = np.argpartition(scores, -limit)[-limit:]
    else:
        indices = np.arange(len(scores))
    return indices[scores[indices] > 0]


def _check_unique(files: Dict[str, _File]) -> None:
    seen: Dict[str, str] = {}
    for name, cached in files.items():
        for entry in cached.entries:
            if entry.id in seen:
                raise FaqError(f"{name} (id {entry.id}): duplicate id, already used in {seen[entry.id]}")
            seen[entry.id] = name


_shared: Dict[str, KnowledgeBase] = {}
_shared_lock = threading.Lock()


def shared(directory: Optional[Path] = None) -> KnowledgeBase:
    """The process-wide knowledge base of `directory` (default: settings.faq_dir), following file
    edits (checked at most every RELOAD_INTERVAL seconds; only changed files are re-indexed)."""
    if directory is None:
        from bot.settings import load

        directory = load().faq_dir
    key = str(Path(directory).resolve())
    with _shared_lock:
        if key not in _shared:
            _shared[key] = KnowledgeBase.from_dir(Path(key), reload_interval=RELOAD_INTERVAL)
        return _shared[key]
