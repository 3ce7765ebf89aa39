"""`bianmin routing learn`: learn the top-level routing from a hotline's history and dispatchers' corrections.

    bianmin routing learn --history export.xlsx [more.csv ...] [--title 标题 --text 内容 --category 一级分类]
                          [--mapping names.yml] [--from-tickets]

`--history` imports the files (bot/routing/history.py) and keeps their usable rows in
var/routing/history.jsonl, replacing an earlier import; without it the kept rows of the last import are
used. `--from-tickets` adds the tickets whose category a dispatcher corrected or confirmed (read through
`ticket_rows`, given by the caller: bot/ does not know the ticket store). The model is written to
var/routing/learned.pkl, where the running action server finds it within seconds (bot/routing/router.py).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import IO, Callable, List, Optional, Sequence

from bot.routing import learned
from bot.routing.history import HistoryError, HistoryReader, HistoryRow, load_mapping
from bot.routing.taxonomy import DATA_DIR, RoutingDataError, Taxonomy

HISTORY_FILE = "history.jsonl"  # the rows of the last import, in the routing cache folder (var/routing/)
TicketRows = Callable[[], List[HistoryRow]]


def parser() -> argparse.ArgumentParser:
    learn = argparse.ArgumentParser(
        prog="bianmin routing learn", description="learn routing from past tickets and dispatchers' corrections"
    )
    learn.add_argument(
        "--history",
        nargs="+",
        type=Path,
        default=[],
        metavar="FILE",
        help="exports of past tickets: .csv, .xlsx or .jsonl (replaces the rows kept from an earlier import)",
    )
    learn.add_argument("--title", help="title column (default 标题, else title)")
    learn.add_argument("--text", help="text column (default 内容, else text)")
    learn.add_argument("--category", help="top-level category column (default 一级分类, else category)")
    learn.add_argument("--mapping", type=Path, help="YAML file: hotline category name -> one of the 15 categories")
    learn.add_argument(
        "--from-tickets", action="store_true", help="add the tickets whose category dispatchers corrected or confirmed"
    )
    return learn


def kept_history(folder: Path) -> List[HistoryRow]:
    """The rows kept by the last import (none before the first)."""
    path = folder / HISTORY_FILE
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as handle:
        return [HistoryRow(**json.loads(line)) for line in handle if line.strip()]


def keep_history(rows: Sequence[HistoryRow], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / (HISTORY_FILE + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row.__dict__, ensure_ascii=False) + "\n")
    temporary.replace(folder / HISTORY_FILE)


def _progress_bar(total: Optional[int], unit: str, out: IO[str]):
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=out, disable=None, leave=False, dynamic_ncols=True)


def learn(
    args: argparse.Namespace,
    folder: Path,
    ticket_rows: Optional[TicketRows],
    out: IO[str],
    err: IO[str],
    data_dir: Path = DATA_DIR,
) -> int:
    """Runs one learn; returns the exit status."""
    reader = HistoryReader(args.title, args.text, args.category, load_mapping(args.mapping))
    if args.history:
        with _progress_bar(None, "rows", err) as bar:
            rows = reader.read_all(args.history, bar.update)
        for line in reader.report.lines():
            print(line, file=out)
        keep_history(rows, folder)
    else:
        rows = reader.add(kept_history(folder))
        if rows:
            print(f"using the {len(rows)} rows kept from the last import ({folder / HISTORY_FILE})", file=out)
    if args.from_tickets:
        if ticket_rows is None:
            raise HistoryError("--from-tickets: no ticket store is configured")
        offered = ticket_rows()
        tickets = reader.add(offered)
        print(
            f"tickets: {len(tickets)} corrected or confirmed ({len(offered) - len(tickets)} already in the history)",
            file=out,
        )
        rows += tickets
    if not rows:
        print("bianmin routing learn: no rows to learn from (give --history FILE or --from-tickets)", file=err)
        return 1
    start = time.perf_counter()
    with _progress_bar(3, "steps", err) as bar:

        def step(name: str) -> None:
            bar.set_description(name)
            bar.update(0 if name == "features" else 1)

        model = learned.LearnedModel(rows, Taxonomy.load(data_dir), step)
        bar.update(1)
    path = learned.save(model, folder)
    sources = ", ".join(f"{count} {name}" for name, count in model.trained_on.items())
    print(f"learned from {sources} in {time.perf_counter() - start:.1f} s: {path}", file=out)
    print("the running assistant uses it within seconds; delete that file to go back to the examples alone", file=out)
    return 0


def main(
    argv: Sequence[str],
    folder: Path,
    ticket_rows: Optional[TicketRows] = None,
    out: Optional[IO[str]] = None,
    err: Optional[IO[str]] = None,
) -> int:
    """`bianmin routing learn ARGS`; the model and the kept history go to `folder` (var/routing). Reports go
    to `out` and errors to `err` (default: the standard streams at call time)."""
    args = parser().parse_args(list(argv))
    out, err = out or sys.stdout, err or sys.stderr
    try:
        return learn(args, folder, ticket_rows, out, err)
    except (HistoryError, RoutingDataError, OSError) as error:
        print(f"bianmin routing learn: {error}", file=err)
        return 1
