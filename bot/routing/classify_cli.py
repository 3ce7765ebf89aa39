"""`bianmin classify`: JSON lines {"id","title","text"} in, one JSON line of routing out per input line.

Output: {"id","category","confidence","subcategory","department","alternatives"} (alternatives: the
runner-up categories, best first); a line that is not a JSON object with a
string "text" gives {"id": <its id or null>, "error": "..."} and the next lines are still processed.
Blank lines are skipped. Lines are classified in batches of BATCH (speed: bench/routing/REPORT.md).
"""

from __future__ import annotations

import json
from typing import IO, Iterable, Iterator, List, Optional, Tuple

from bot.routing.router import Router, shared

BATCH = 256
Parsed = Tuple[object, Optional[str], Optional[str], Optional[str]]  # id, title, text, error


def parse(line: str) -> Parsed:
    """(id, title, text, error) of one input line; error is None for a usable line."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        return None, None, None, f"not valid JSON: {error.msg}"
    if not isinstance(record, dict):
        return None, None, None, "expected a JSON object"
    ident = record.get("id")
    if isinstance(ident, (dict, list)):
        return None, None, None, '"id" must be a string or a number'
    text, title = record.get("text"), record.get("title")
    if not isinstance(text, str):
        return ident, None, None, 'missing string field "text"'
    if title is not None and not isinstance(title, str):
        return ident, None, None, '"title" must be a string'
    return ident, title or "", text, None


def _batches(lines: Iterable[str]) -> Iterator[List[Parsed]]:
    batch: List[Parsed] = []
    for line in lines:
        if not line.strip():
            continue
        batch.append(parse(line))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def classify_lines(lines: Iterable[str], router: Router) -> Iterator[dict]:
    """One output record per non-blank input line, in order."""
    for batch in _batches(lines):
        good = [item for item in batch if item[3] is None]
        routes = iter(router.classify_many([item[2] or "" for item in good], [item[1] or "" for item in good]))
        for ident, _, _, error in batch:
            if error is not None:
                yield {"id": ident, "error": error}
                continue
            route = next(routes)
            yield {
                "id": ident,
                "category": route.category,
                "confidence": round(route.confidence, 4),
                "subcategory": route.subcategory,
                "department": route.department,
                "alternatives": list(route.alternatives),
            }


def main(stdin: IO[str], stdout: IO[str], router: Optional[Router] = None) -> int:
    """Reads JSON lines from stdin and writes routing results to stdout; returns the exit status."""
    router = router or shared()
    for record in classify_lines(stdin, router):
        stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    stdout.flush()
    return 0
