"""Router: classifies a complaint and names the responsible department.

The fitted model is cached under `<var_dir>/routing/` named by a hash of data/routing (taxonomy and
examples) and of the model code, so only the first start after a change trains (about two seconds);
later starts load it. The department table is not part of the model: edits to it apply immediately.
A model learned from the hotline's history (`bianmin routing learn`, bot/routing/learned.py) is kept in
the same folder as learned.pkl; a running Router looks for a new one every RELOAD_SECONDS and then uses it
for the top-level category, without a restart. Without it, the router is the zero-shot one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import sklearn

from bot.embeddings import MODEL_TAG, shared_embedder
from bot.routing import learned
from bot.routing.model import RouteModel
from bot.routing.taxonomy import DATA_DIR, DepartmentTable, Taxonomy, fingerprint
from bot.settings import ROOT, load

logger = logging.getLogger(__name__)

ALTERNATIVES = 2  # runner-up categories a route names (on dev, the best three hold the right one 92 % of
# the time when the confidence is below 0.6, against 64 % for the best alone)
RECENT_ROUTES = 64  # routes remembered by Router.classify
RELOAD_SECONDS = 2.0  # how often a running Router looks for a newly learned model (as faq/ is reloaded)


def _model_inputs() -> List[Path]:
    """Code and jieba dictionaries that shape a fitted model besides data/routing."""
    here = Path(__file__).parent
    return [here / "model.py", here / "taxonomy.py", *sorted((ROOT / "data" / "dict").glob("*.txt"))]


@dataclass(frozen=True)
class Route:
    """Where a complaint goes. `category` is None only for a text with nothing to classify."""

    category: Optional[str]
    subcategory: Optional[str]
    department: str
    confidence: float
    alternatives: Tuple[str, ...] = ()  # the next most likely categories, best first (ALTERNATIVES of them)


def has_content(text: Optional[str]) -> bool:
    """True when the text holds at least one letter, digit or CJK character."""
    return any(ch.isalnum() for ch in text or "")


class Router:
    """Classifies texts with the model of `data_dir`, departments from its departments.yml."""

    def __init__(self, data_dir: Path = DATA_DIR, cache_dir: Optional[Path] = None, semantic: bool = True) -> None:
        self.data_dir = Path(data_dir)
        self.cache_dir = Path(cache_dir) if cache_dir else load().var_dir / "routing"
        self.departments = DepartmentTable(self.data_dir / "departments.yml")
        self.embedder = shared_embedder() if semantic else None
        self.model = self._load_or_train()
        self.learned_path = self.cache_dir / learned.LEARNED_FILE
        self.learned: Optional[learned.LearnedModel] = None
        self._learned_stamp: Optional[Tuple[int, int]] = None
        self._recent: "OrderedDict[Tuple[str, str, Optional[Tuple[int, int]]], Route]" = OrderedDict()
        self._recent_lock = threading.Lock()
        self._checked = float("-inf")
        self._reload_lock = threading.Lock()
        self._refresh_learned()

    def _refresh_learned(self) -> None:
        """Loads learned.pkl when it appeared or changed, drops it when it vanished (at most every
        RELOAD_SECONDS)."""
        if time.monotonic() - self._checked < RELOAD_SECONDS:
            return
        with self._reload_lock:
            self._checked = time.monotonic()
            try:
                status = self.learned_path.stat()
                stamp: Optional[Tuple[int, int]] = (status.st_mtime_ns, status.st_size)
            except FileNotFoundError:
                stamp = None
            if stamp == self._learned_stamp:
                return
            self.learned = learned.load(self.learned_path) if stamp else None
            self._learned_stamp = stamp
            if self.learned is not None:
                logger.info("routing: using the model learned from %s", self.learned.trained_on)

    def _load_or_train(self) -> RouteModel:
        code = b"".join(path.read_bytes() for path in _model_inputs())
        meaning = MODEL_TAG if self.embedder else "words"
        key = fingerprint(self.data_dir, extra=f"{hashlib.sha256(code).hexdigest()}-{sklearn.__version__}-{meaning}")
        path = self.cache_dir / f"model-{key}.pkl"
        try:
            with path.open("rb") as handle:
                model = pickle.load(handle)
            if isinstance(model, RouteModel):
                return model
        except FileNotFoundError:
            pass
        except Exception as error:  # a truncated or foreign cache file is rebuilt, never fatal
            logger.warning("routing: ignoring unreadable model cache %s (%s)", path, error)
        model = RouteModel(Taxonomy.load(self.data_dir), self.embedder)
        self._save(model, path)
        return model

    @staticmethod
    def _save(model: RouteModel, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as handle:
                pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(handle.name, path)
            for stale in path.parent.glob("model-*.pkl"):
                if stale != path:
                    stale.unlink(missing_ok=True)
        except OSError as error:
            logger.warning("routing: cannot cache the model in %s (%s)", path.parent, error)

    def department_for(self, category: Optional[str], subcategory: Optional[str] = None) -> str:
        """The department of a (sub)category according to the current departments.yml."""
        return self.departments.department(category, subcategory)

    def classify_many(self, texts: Sequence[str], titles: Optional[Sequence[str]] = None) -> List[Route]:
        """Routes for many texts at once (much faster than one by one); titles are optional."""
        titles = list(titles) if titles is not None else [""] * len(texts)
        routes: List[Optional[Route]] = [None] * len(texts)
        todo = [i for i, (text, title) in enumerate(zip(texts, titles)) if has_content(f"{title}{text}")]
        if todo:
            self._refresh_learned()
            model = self.learned  # the top-level opinion learned from history, if any (then no embedding)
            predicted = self.model.predict(
                [texts[i] or "" for i in todo],
                [titles[i] or "" for i in todo],
                None if model else self.embedder,
                top_level=model,
            )
            for i, (category, subcategory, confidence, ranking) in zip(todo, predicted):
                routes[i] = Route(
                    category,
                    subcategory,
                    self.department_for(category, subcategory),
                    confidence,
                    ranking[1 : 1 + ALTERNATIVES],
                )
        empty = Route(None, None, self.department_for(None), 0.0)
        return [route or empty for route in routes]

    def classify(self, text: str, title: Optional[str] = None) -> Route:
        """The route of one complaint (title optional). The last few routes are remembered while the same
        learned model serves: the complaint form routes a first message's description when it starts and
        again when it validates it, and routing (an embedding) is the dearest part of that turn."""
        self._refresh_learned()
        key = (text or "", title or "", self._learned_stamp)
        with self._recent_lock:
            route = self._recent.get(key)
        if route is None:
            route = self.classify_many([key[0]], [key[1]])[0]
            key = (key[0], key[1], self._learned_stamp)  # the model that routed it (it may have changed)
            with self._recent_lock:
                self._recent[key] = route
                while len(self._recent) > RECENT_ROUTES:
                    self._recent.popitem(last=False)
        # the model's part is remembered; the department is looked up in departments.yml as it is now
        return replace(route, department=self.department_for(route.category, route.subcategory))


_shared: Optional[Router] = None
_shared_lock = threading.Lock()


def shared() -> Router:
    """The process-wide Router (built, or loaded from the cache, on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Router()
        return _shared


_table = DepartmentTable(DATA_DIR / "departments.yml")


def department_for(category: Optional[str], subcategory: Optional[str] = None) -> str:
    """The department of a (sub)category from data/routing/departments.yml (no model needed)."""
    return _table.department(category, subcategory)
