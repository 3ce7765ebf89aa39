"""Knowledge-base retrieval over faq/*.yml (see docs/architecture.md).

`shared()` is the process-wide instance that follows edits of faq/; `KnowledgeBase.from_dir` builds
a static one. `search()` returns `Hit`s with a 0..1 score, `decide()` turns them into
"answer" | "suggest" | "none".
"""

from bot.kb.entries import CATEGORIES, Entry, FaqError
from bot.kb.knowledge_base import ANSWER_MARGIN, ANSWER_MIN, SUGGEST_MIN, Hit, KnowledgeBase, shared

__all__ = [
    "ANSWER_MARGIN",
    "ANSWER_MIN",
    "SUGGEST_MIN",
    "CATEGORIES",
    "Entry",
    "FaqError",
    "Hit",
    "KnowledgeBase",
    "shared",
]
