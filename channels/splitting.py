"""Cutting long replies for platforms that limit a message's size, where a reader expects a break: at a line
break, else after a sentence, else after a clause, else at a space; never inside a number or a Latin word,
and never by adding or changing a character (a line break at a cut is replaced by the message boundary)."""

from __future__ import annotations

from typing import Callable, List, Optional, Tuple

SENTENCE_ENDS = "。！？!?；;…"
CLAUSE_ENDS = "，、：,:"
CLOSERS = "”’」』）)》】\"'"
# how good a cut is, best first: a line break, a sentence end, a clause end, a space, between two characters
LINE, SENTENCE, CLAUSE, SPACE, CHARACTER = range(5)


def utf8_len(text: str) -> int:
    """Length of `text` in UTF-8 bytes (WeChat counts bytes)."""
    return len(text.encode("utf-8"))


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> List[str]:
    """`text` in pieces of at most `limit` (as measured; `measure` must add up over characters)."""
    pieces: List[str] = []
    rest = text.strip("\n")
    while rest:
        head, rest = cut(text=rest, limit=limit, measure=measure)
        pieces.append(head)
    return [piece for piece in pieces if piece.strip()]


def cut(text: str, limit: int, measure: Callable[[str], int] = len, worst: int = CHARACTER) -> Tuple[str, str]:
    """(head, rest): the head fits in `limit` and ends at the best break in the second half of the room (or
    the best anywhere, if none is there); the rest continues exactly after it. Only breaks at least as good
    as `worst` are used: ("", text) when there is none."""
    if measure(text) <= limit:
        return text, ""
    sizes = [measure(char) for char in text]
    room, used = 0, 0
    while room < len(text) and used + sizes[room] <= limit:
        used += sizes[room]
        room += 1
    point = _best_break(text, room, sizes, limit, worst)
    if point is None:
        return "", text
    head, rest = text[:point], text[point:]
    return head.rstrip("\n"), rest.lstrip("\n")


def _best_break(text: str, room: int, sizes: List[int], limit: int, worst: int) -> Optional[int]:
    """Where to cut `text` within its first `room` characters."""
    best: List[Optional[int]] = [None] * (CHARACTER + 1)  # the last break of each kind
    late: List[Optional[int]] = [None] * (CHARACTER + 1)  # ... among those in the second half of the room
    size = 0
    for point in range(1, room + 1):
        size += sizes[point - 1]
        kind = _break_kind(text, point)
        if kind is None:
            continue
        best[kind] = point
        if size * 2 >= limit:
            late[kind] = point
    for candidates in (late, best):
        for kind in range(worst + 1):
            if candidates[kind]:
                return candidates[kind]
    return room if worst == CHARACTER and room else None


def _break_kind(text: str, point: int) -> Optional[int]:
    """How good a cut between text[point - 1] and text[point] is; None inside a number or a Latin word."""
    before, after = text[point - 1], text[point] if point < len(text) else ""
    if after == "\n":
        return LINE
    if after in CLOSERS or after in SENTENCE_ENDS or after in CLAUSE_ENDS:
        return None  # keep closing quotes and runs of punctuation with what they close
    if before in SENTENCE_ENDS or (before in CLOSERS and text[point - 2 : point - 1] in SENTENCE_ENDS):
        return SENTENCE
    if before in CLAUSE_ENDS:
        return CLAUSE
    if before.isspace():
        return SPACE
    if _word_char(before) and _word_char(after):
        return None
    return CHARACTER


def _word_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char in "._-@/%+")
