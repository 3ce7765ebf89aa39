"""jieba with the hotline dictionary (data/dict/*.txt), initialised once per process.

The knowledge base, routing and the benchmarks share it, so a process that needs both (the action
server) loads jieba's dictionary once. The Rasa tokenizer (bot/nlu/tokenizer.py) loads the same files
through Rasa's own JiebaTokenizer hook.
"""

from __future__ import annotations

import logging
import threading

from bot.settings import ROOT

DICT_DIR = ROOT / "data" / "dict"
_lock = threading.Lock()
_ready = False


def hotline_jieba():
    """The process-wide `jieba` module with the hotline dictionaries loaded."""
    global _ready
    import jieba

    if not _ready:
        with _lock:
            if not _ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                for user_dict in sorted(DICT_DIR.glob("*.txt")):
                    jieba.load_userdict(str(user_dict))
                _ready = True
    return jieba
